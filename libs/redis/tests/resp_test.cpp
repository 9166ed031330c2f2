// Commands as the loop connection writes them: byte for byte what hiredis would send.
#include "internal/resp.h"

#include <hiredis.h>

#include <catch2/catch.hpp>

#include "switchboard/redis/client.h"

namespace {

std::string Hiredis(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  char* formatted = nullptr;
  int len =
      redisFormatCommandArgv(&formatted, static_cast<int>(argv.size()), argv.data(), lens.data());
  REQUIRE(len > 0);
  std::string out(formatted, static_cast<size_t>(len));
  redisFreeCommand(formatted);
  return out;
}

}  // namespace

TEST_CASE("a command is written in RESP exactly as hiredis formats it", "[redis]") {
  const std::vector<std::vector<std::string>> commands = {
      {"PING"},
      {"SET", "sig:reg:alice", "60000"},
      {"HSET", "k", "", std::string("a\0b\r\n\xff", 6)},
      {"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0", std::string(1000, 'x')},
  };
  std::string all;
  std::string expected;
  for (const auto& command : commands) {
    std::string one;
    sb::redis::internal::AppendResp(one, command);
    CHECK(one == Hiredis(command));
    sb::redis::internal::AppendResp(all, command);
    expected += Hiredis(command);
  }
  CHECK(all == expected);  // appended after what is already buffered: a pipeline
}

TEST_CASE("a command written straight in RESP is its prefixed build, as hiredis formats it",
          "[redis]") {
  static const sb::redis::Script kScript("return 1");
  const std::vector<sb::redis::Command> commands = {
      sb::redis::Command("PING"),
      std::move(sb::redis::Command("SET").Key("reg:alice").Arg("reg:alice").Arg(int64_t{60000})),
      std::move(sb::redis::Command("RENAME").Key("a").Key(std::string("b\0\r\n", 4))),
      sb::redis::Command::Eval(kScript, {"k1", "k2"}, {"a", ""}),
  };
  for (const std::string prefix : {"", "sig:"}) {
    std::string all;
    std::string expected;
    for (const auto& command : commands) {
      std::string one;
      command.AppendResp(one, prefix);
      CHECK(one == Hiredis(command.Build(prefix)));
      command.AppendResp(all, prefix);
      expected += Hiredis(command.Build(prefix));
    }
    CHECK(all == expected);
  }
}
