#include "switchboard/sip/dialog_set.h"

namespace sb::sip {

std::optional<DialogId> DialogSet::OnUacResponse(const Message& request, const Message& response) {
  int code = response.status_code();
  auto id = DialogIdOfReceivedResponse(response);
  auto cseq = response.GetCSeq();
  if (code >= 300 && cseq.ok() && (*cseq)->method == "INVITE") {
    // §12.3 / §13.2.2.3: a failure to the INVITE ends every early dialog it created, including
    // forks whose To tag differs from this response's.
    auto call_id = response.CallId();
    auto from = response.From();
    if (call_id.ok() && from.ok()) {
      for (auto& [key, dialog] : dialogs_) {
        if (key.call_id == *call_id && key.local_tag == (*from)->tag() &&
            dialog.state() == DialogState::kEarly) {
          dialog.Terminate();
        }
      }
    }
  }
  if (!id) return std::nullopt;
  if (auto it = dialogs_.find(*id); it != dialogs_.end()) {
    it->second.OnResponse(response);
    return id;
  }
  if (code <= 100 || code >= 300) return std::nullopt;
  auto created = Dialog::CreateUac(request, response);
  if (!created.ok()) return std::nullopt;
  dialogs_.emplace(*id, std::move(*created));
  return id;
}

Result<DialogId> DialogSet::AddUas(const Message& request, std::string_view local_tag,
                                   int status_code, std::string_view local_contact,
                                   uint32_t initial_local_cseq) {
  auto created =
      Dialog::CreateUas(request, local_tag, status_code, local_contact, initial_local_cseq);
  if (!created.ok()) return created.status();
  DialogId id = created->id();
  if (dialogs_.count(id) != 0) return Status::AlreadyExists("dialog exists");
  dialogs_.emplace(id, std::move(*created));
  return id;
}

Status DialogSet::Add(Dialog dialog) {
  DialogId id = dialog.id();
  if (dialogs_.count(id) != 0) return Status::AlreadyExists("dialog exists");
  dialogs_.emplace(std::move(id), std::move(dialog));
  return Status::Ok();
}

Dialog* DialogSet::Find(const DialogId& id) {
  auto it = dialogs_.find(id);
  return it == dialogs_.end() ? nullptr : &it->second;
}

Dialog* DialogSet::Match(const Message& received_request) {
  auto id = DialogIdOfReceivedRequest(received_request);
  return id ? Find(*id) : nullptr;
}

std::vector<DialogId> DialogSet::Forks(std::string_view call_id, std::string_view local_tag) const {
  std::vector<DialogId> out;
  for (const auto& [key, dialog] : dialogs_) {
    if (key.call_id == call_id && key.local_tag == local_tag) out.push_back(key);
  }
  return out;
}

size_t DialogSet::Collect() {
  return std::erase_if(
      dialogs_, [](const auto& kv) { return kv.second.state() == DialogState::kTerminated; });
}

}  // namespace sb::sip
