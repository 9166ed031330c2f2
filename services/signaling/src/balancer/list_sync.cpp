#include "balancer/list_sync.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace sb::signaling {

std::string DispatcherList(const std::vector<std::string>& uris) {
  std::string list;
  for (const auto& uri : uris) list += "1 " + uri + "\n";
  return list;
}

BalancerListSync::BalancerListSync(RedisCallOwners& owners, const core::Clock& clock,
                                   const core::Logger& log, ListSyncOptions options)
    : owners_(owners), clock_(clock), log_(log), options_(std::move(options)) {
  std::ifstream in(options_.list_file);
  std::ostringstream text;
  text << in.rdbuf();
  applied_ = text.str();
}

Result<bool> BalancerListSync::SyncOnce() {
  auto uris = owners_.LiveSipUris(clock_.WallNow() - options_.dead_after);
  if (!uris.ok()) return uris.status();
  if (uris->empty()) return false;
  const std::string list = DispatcherList(*uris);
  if (list == applied_) return false;
  SB_RETURN_IF_ERROR(WriteList(list));
  SB_RETURN_IF_ERROR(Reload());
  applied_ = list;
  log_.Info("balancer list reloaded", {{"replicas", std::to_string(uris->size())}, {"list", list}});
  return true;
}

Status BalancerListSync::WriteList(const std::string& text) const {
  std::filesystem::path next = options_.list_file;
  next += ".next";
  {
    std::ofstream out(next, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return Status::Unavailable("cannot write " + next.string());
  }
  std::error_code error;
  std::filesystem::rename(next, options_.list_file, error);
  if (error) {
    return Status::Unavailable("cannot replace " + options_.list_file.string() + ": " +
                               error.message());
  }
  return Status::Ok();
}

Status BalancerListSync::Reload() const {
  std::vector<std::string> args = {options_.kamcmd, "-s", options_.ctl_socket, "dispatcher.reload"};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0)
    return Status::Unavailable("pipe: " + std::string(strerror(errno)));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDERR_FILENO);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  std::string said;
  char buf[512];
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;)
    said.append(buf, static_cast<size_t>(n));
  close(out[0]);
  if (spawned != 0) {
    return Status::Unavailable("cannot run " + options_.kamcmd + ": " + std::strerror(spawned));
  }
  int wstatus = 0;
  // kamcmd exits 0 on Kamailio's error replies too ("error: 500 - Ongoing reload" within the
  // dispatcher's reload_delta of the last reload): only its "Ok." is a reload.
  const bool exited = waitpid(pid, &wstatus, 0) == pid && WIFEXITED(wstatus);
  if (!exited || WEXITSTATUS(wstatus) != 0 || said.find("error") != std::string::npos ||
      said.find("Ok.") == std::string::npos) {
    while (!said.empty() && (said.back() == '\n' || said.back() == '\r')) said.pop_back();
    return Status::Unavailable("dispatcher.reload over " + options_.ctl_socket + ": " + said);
  }
  return Status::Ok();
}

}  // namespace sb::signaling
