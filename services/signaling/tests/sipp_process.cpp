#include "sipp_process.h"

#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "switchboard/testing/servers.h"

namespace sb::signaling::test {

namespace fs = std::filesystem;

namespace {

std::string Slurp(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

std::string Sipp::Scenario(const std::string& file) {
  return (fs::path(SB_SIPP_SCENARIOS_DIR) / file).string();
}

int Sipp::FreeMediaPort() { return testing::FreePort(2); }

Sipp Sipp::Start(const std::string& name, std::vector<std::string> args,
                 std::chrono::seconds timeout) {
  std::string tmpl = (fs::temp_directory_path() / ("sb-sipp-" + name + ".XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  const fs::path dir = tmpl;
  std::vector<std::string> argv{"sipp"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"-nostdin", "-timeout_error", "-trace_screen", "-trace_err",
                           "-trace_msg", "-timeout", std::to_string(timeout.count()) + "s",  //
                           "-screen_file", (dir / "screen").string(),                        //
                           "-error_file", (dir / "errors").string(),                         //
                           "-message_file", (dir / "messages").string()});
  return Sipp(name, dir, timeout, testing::ChildProcess::Start(argv, {}, name, dir));
}

Sipp::Sipp(std::string name, fs::path dir, std::chrono::seconds timeout,
           testing::ChildProcess process)
    : name_(std::move(name)),
      dir_(std::move(dir)),
      timeout_(timeout),
      process_(std::move(process)) {}

int Sipp::Wait() { return process_.WaitExit(timeout_ + std::chrono::seconds(5)); }

std::string Sipp::Report() const {
  return "---- sipp " + name_ + " output\n" + process_.ReadLog() + "\n---- screen\n" +
         Slurp(dir_ / "screen") + "\n---- unexpected\n" + Slurp(dir_ / "errors") +
         "\n---- messages\n" + Slurp(dir_ / "messages");
}

}  // namespace sb::signaling::test
