// Instructions per parse + access, deterministic: runs one library's parse + access of one message
// (sip_messages.h, the same code the benchmark times) a given number of times, for callgrind.
// The per-message count is the difference between a run of N and a run of 0 divided by N, which
// removes start-up and library initialisation:
//
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null build/bench/sip/sip_parse_count sb 1
//   2000 valgrind --tool=callgrind --callgrind-out-file=/dev/null build/bench/sip/sip_parse_count
//   sb 1 0
//
// Libraries: sb (validate on, the default ParseOptions), sb-lazy (validate off), sofia, osip.
// Messages: 0 INVITE + SDP, 1 REGISTER, 2 200 OK.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sip_messages.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s sb|sb-lazy|sofia|osip 0|1|2 COUNT\n", argv[0]);
    return 2;
  }
  std::string_view library = argv[1];
  int which = std::atoi(argv[2]);
  long count = std::atol(argv[3]);
  if (which < 0 || which > 2 || count < 0) {
    std::fprintf(stderr, "message is 0, 1 or 2; COUNT >= 0\n");
    return 2;
  }
  const std::string& text = sipbench::Select(which);
  sb::sip::ParseOptions options;
  options.validate = library != "sb-lazy";
  parser_init();
  msg_mclass_t const* mclass = sip_default_mclass();
  for (long i = 0; i < count; ++i) {
    bool ok = false;
    if (library == "sb" || library == "sb-lazy") {
      ok = sipbench::SbParseAccess(text, options);
    } else if (library == "sofia") {
      ok = sipbench::SofiaParseAccess(mclass, text);
    } else if (library == "osip") {
      ok = sipbench::OsipParseAccess(text);
    } else {
      std::fprintf(stderr, "unknown library %s\n", argv[1]);
      return 2;
    }
    if (!ok) {
      std::fprintf(stderr, "%s could not parse message %d\n", argv[1], which);
      return 1;
    }
  }
  return 0;
}
