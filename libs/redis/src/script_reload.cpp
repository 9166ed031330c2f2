#include "internal/script_reload.h"

#include <algorithm>

namespace sb::redis::internal {

ScriptReload::ScriptReload(const std::vector<Command>& commands, std::string_view prefix,
                           const std::vector<Reply>& replies) {
  for (size_t i = 0; i < commands.size(); ++i) {
    const Script* script = commands[i].script();
    const std::string* err = replies[i].error();
    if (script == nullptr || err == nullptr || !err->starts_with("NOSCRIPT")) continue;
    if (std::none_of(steps_.begin(), steps_.end(),
                     [&](const Step& s) { return s.load == script; })) {
      steps_.push_back({script, 0});
      again_.push_back({"SCRIPT", "LOAD", script->source()});
    }
    steps_.push_back({nullptr, i});
    again_.push_back(commands[i].Build(prefix));
  }
}

Status ScriptReload::Apply(std::vector<Reply> retried, std::vector<Reply>& replies) const {
  for (size_t k = 0; k < steps_.size(); ++k) {
    Reply& r = retried.at(k);
    if (steps_[k].load == nullptr) {
      replies[steps_[k].rerun] = std::move(r);
    } else if (r.is_error()) {
      return ErrorStatus(*r.error());
    } else if (!r.str() || *r.str() != steps_[k].load->sha1()) {
      return Status::Internal("redis SCRIPT LOAD returned a different SHA-1 than " +
                              steps_[k].load->sha1());
    }
  }
  return Status::Ok();
}

}  // namespace sb::redis::internal
