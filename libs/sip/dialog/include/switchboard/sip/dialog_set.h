// Dialogs by id, with the bookkeeping of forking (RFC 3261 §12.1.2, §13.2.2.4): one INVITE can
// create several early dialogs (one per To tag in its 1xx responses) and more than one can be
// confirmed by 2xx responses; a 3xx-6xx final response ends the INVITE's early dialogs.
//
//   sb::sip::DialogSet dialogs;
//   // For each response to our INVITE:
//   auto id = dialogs.OnUacResponse(invite, response);   // nullopt: no dialog (100, no tag, ...)
//   if (id && response.status_code() / 100 == 2) SendAck(dialogs.Find(*id)->MakeAck(...));
//   // For each request received:
//   if (Dialog* d = dialogs.Match(request)) { auto check = d->OnRequest(request); ... }
//
// Not thread-safe; one set per event loop (calls live on one signaling node).
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "switchboard/sip/dialog.h"

namespace sb::sip {

class DialogSet {
 public:
  // Creates or updates the dialog of a response to our dialog-creating request.
  std::optional<DialogId> OnUacResponse(const Message& request, const Message& response);
  // Creates the UAS dialog for our 101-299 response to `request`.
  Result<DialogId> AddUas(const Message& request, std::string_view local_tag, int status_code,
                          std::string_view local_contact, uint32_t initial_local_cseq);

  // A dialog made elsewhere (Dialog::Restore); AlreadyExists when its id is held.
  Status Add(Dialog dialog);

  Dialog* Find(const DialogId& id);
  Dialog* Match(const Message& received_request);
  // The dialogs created by the request with this Call-ID and our tag: the forks of one INVITE.
  std::vector<DialogId> Forks(std::string_view call_id, std::string_view local_tag) const;
  // Drops terminated dialogs; returns how many.
  size_t Collect();
  size_t size() const { return dialogs_.size(); }

 private:
  std::map<DialogId, Dialog> dialogs_;
};

}  // namespace sb::sip
