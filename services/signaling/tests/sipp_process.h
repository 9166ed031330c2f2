// sipp (Debian's sip-tester) run by a test: one scenario file from tests/sipp/ (or a path), on its
// own loopback address, bounded by -timeout; its screen, unexpected messages and SIP trace kept
// for the failure report. sipp exits 0 only when every call of the scenario succeeded: a missing
// or unexpected message, a failed regexp check (check_it) or the timeout fails it.
//
//   auto callee = Sipp::Start("callee", {"-sf", Sipp::Scenario("callee_answers.xml"),
//                                        "-i", "127.0.0.61", "-p", "40000", "-m", "1"});
//   auto caller = Sipp::Start("caller", {...});
//   CHECK(caller.Wait() == 0);   INFO(caller.Report());
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "switchboard/testing/child_process.h"

namespace sb::signaling::test {

class Sipp {
 public:
  // The path of a scenario in services/signaling/tests/sipp/.
  static std::string Scenario(const std::string& file);
  // Starts sipp with `args` plus -nostdin, the trace options and `-timeout <timeout>
  // -timeout_error`.
  static Sipp Start(const std::string& name, std::vector<std::string> args,
                    std::chrono::seconds timeout = std::chrono::seconds(20));

  // A free port for sipp's -mp: sipp binds that RTP echo port and a video port two above it.
  static int FreeMediaPort();

  // sipp's exit code (0: every call succeeded), or -1 when it had to be killed.
  int Wait();
  // The final screen (counters), unexpected messages and the SIP trace, for INFO.
  std::string Report() const;

 private:
  Sipp(std::string name, std::filesystem::path dir, std::chrono::seconds timeout,
       testing::ChildProcess process);
  std::string name_;
  std::filesystem::path dir_;
  std::chrono::seconds timeout_;
  testing::ChildProcess process_;
};

}  // namespace sb::signaling::test
