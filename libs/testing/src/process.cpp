#include "internal/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace sb::testing::internal {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(5);

std::string ResolveExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  // execvp may allocate, which is not allowed between fork and exec in a threaded process.
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  // Kamailio and the database servers live in sbin directories, which a non-login PATH may lack.
  dirs += ":/usr/sbin:/sbin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  throw std::runtime_error(name + ": not found in PATH (is its Debian package installed? see " +
                           "scripts/install-deps)");
}

// /proc/<pid>/stat's state field; 'Z' for a zombie, 0 when the process is gone.
char ProcState(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return 0;
  size_t paren = stat.rfind(')');  // the name may hold spaces and parentheses
  if (paren == std::string::npos || paren + 2 >= stat.size()) return 0;
  return stat[paren + 2];
}

}  // namespace

pid_t Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) throw std::invalid_argument("Spawn: empty argv");
  const std::string exe = ResolveExecutable(options.argv[0]);
  std::vector<char*> argv;
  for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // The environment is built before fork too: allocating after it is not safe in a threaded parent.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    bool overridden = false;
    for (const auto& [key, value] : options.env) {
      if (entry.starts_with(key + "=")) overridden = true;
    }
    if (!overridden) env_strings.emplace_back(entry);
  }
  for (const auto& [key, value] : options.env) env_strings.push_back(key + "=" + value);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  uid_t uid = 0;
  gid_t gid = 0;
  if (options.user) {
    passwd pw{};
    passwd* found = nullptr;
    char buf[4096];
    if (getpwnam_r(options.user->c_str(), &pw, buf, sizeof buf, &found) != 0 || !found) {
      throw std::runtime_error("no user " + *options.user + " to run " + exe + " as");
    }
    uid = pw.pw_uid;
    gid = pw.pw_gid;
  }

  int log_fd = open(options.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    throw std::runtime_error("cannot open log " + options.log.string() + ": " +
                             std::strerror(errno));
  }
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) {
    close(log_fd);
    throw std::runtime_error(std::string("cannot open /dev/null: ") + std::strerror(errno));
  }
  const pid_t parent = getpid();
  const bool tie_to_parent = !options.detach && gettid() == parent;
  const bool switch_user = options.user.has_value();

  pid_t pid = fork();
  if (pid == 0) {
    // Child: async-signal-safe calls only until exec.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (options.detach) {
      setsid();
    } else if (options.own_group) {
      setpgid(0, 0);
    }
    dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    close_range(3, ~0U, 0);
    if (switch_user && (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0)) {
      static const char kMsg[] = "harness: cannot switch user\n";
      (void)!write(2, kMsg, sizeof kMsg - 1);
      _exit(126);
    }
    // After the user switch: changing credentials clears the parent-death signal.
    if (tie_to_parent) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(0);
    }
    execve(exe.c_str(), argv.data(), envp.data());
    static const char kMsg[] = "harness: exec failed\n";
    (void)!write(2, kMsg, sizeof kMsg - 1);
    _exit(127);
  }
  const int fork_errno = errno;
  // Also from the parent, so that a signal to the group cannot race the child's own setpgid.
  if (pid > 0 && options.own_group && !options.detach) setpgid(pid, pid);
  close(log_fd);
  close(null_fd);
  if (pid < 0) throw std::runtime_error("fork for " + exe + ": " + std::strerror(fork_errno));
  return pid;
}

bool Alive(pid_t pid) {
  if (pid <= 0) return false;
  int status = 0;
  pid_t r = waitpid(pid, &status, WNOHANG);
  if (r == pid) return false;
  if (r == 0) return true;
  // Not our child (sb-test-servers stop): it exists unless kill says otherwise, and a zombie
  // whose new parent does not reap it counts as gone.
  if (kill(pid, 0) != 0 && errno == ESRCH) return false;
  char state = ProcState(pid);
  return state != 0 && state != 'Z';
}

bool WaitUntil(pid_t pid, std::chrono::milliseconds timeout, const std::function<bool()>& ready) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    if (!Alive(pid)) return ready();
    std::this_thread::sleep_for(kPollInterval);
  }
  return ready();
}

int WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

void Terminate(pid_t pid, int sig, std::chrono::milliseconds grace) {
  if (!Alive(pid)) return;
  kill(pid, sig);
  auto gone = [pid] { return !Alive(pid); };
  if (WaitUntil(pid, grace, gone)) return;
  kill(pid, SIGKILL);
  WaitUntil(pid, std::chrono::seconds(10), gone);
}

std::string ProcessName(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

std::string Tail(const std::filesystem::path& file, int lines) {
  std::ifstream in(file);
  if (!in) return "(no log at " + file.string() + ")";
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(line);
    if (static_cast<int>(last.size()) > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += "  | " + l + "\n";
  return out.empty() ? "(empty log " + file.string() + ")" : out;
}

int SweepStaleDirs(std::chrono::minutes min_age) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> uses;  // every process's command line and working directory
  for (const auto& proc : fs::directory_iterator("/proc", ec)) {
    const std::string pid = proc.path().filename().string();
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(proc.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), {});
    for (char& c : cmdline) c = c == '\0' ? ' ' : c;
    uses.push_back(cmdline + " ");
    std::error_code cwd_ec;
    fs::path cwd = fs::read_symlink(proc.path() / "cwd", cwd_ec);
    if (!cwd_ec) uses.push_back(cwd.string() + "/");
  }
  const auto cutoff = fs::file_time_type::clock::now() - min_age;
  int removed = 0;
  for (const auto& entry : fs::directory_iterator("/tmp", ec)) {
    const std::string dir = entry.path().string();
    const bool ours = dir.starts_with("/tmp/sb-nats.") || dir.starts_with("/tmp/sb-pg.") ||
                      dir.starts_with("/tmp/sb-redis.");
    std::error_code stat_ec;
    if (!ours || !entry.is_directory(stat_ec) || entry.last_write_time(stat_ec) > cutoff ||
        stat_ec) {
      continue;
    }
    bool in_use = false;
    for (const auto& use : uses) {
      if (use.find(dir + "/") != std::string::npos || use.find(dir + " ") != std::string::npos) {
        in_use = true;
        break;
      }
    }
    if (in_use) continue;
    std::error_code rm_ec;
    if (fs::remove_all(entry.path(), rm_ec) > 0 && !rm_ec) ++removed;
  }
  return removed;
}

std::filesystem::path MakeTempDir(const std::string& what) {
  static std::once_flag swept;
  std::call_once(swept, [] { SweepStaleDirs(); });
  std::string pattern = "/tmp/sb-" + what + ".XXXXXX";
  if (!mkdtemp(pattern.data())) {
    throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  chmod(pattern.c_str(), 0755);
  return pattern;
}

bool CanConnect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

}  // namespace sb::testing::internal
