// The parts of the Redis client that need no server: commands, prefixes, scripts, URLs, errors.
#include "switchboard/redis/client.h"

#include <catch2/catch.hpp>

using sb::StatusCode;
using sb::redis::Command;
using sb::redis::Reply;

TEST_CASE("a command prefixes its keys and nothing else", "[redis]") {
  auto args = Command("SET").Key("reg:alice").Arg("reg:alice").Arg(int64_t{60000}).Build("sig:");
  CHECK(args == std::vector<std::string>{"SET", "sig:reg:alice", "reg:alice", "60000"});
  auto two = Command("RENAME").Key("a").Key("b").Build("svc:");
  CHECK(two == std::vector<std::string>{"RENAME", "svc:a", "svc:b"});
  CHECK(Command("GET").Key("k").Build("") == std::vector<std::string>{"GET", "k"});
}

TEST_CASE("command arguments keep every byte", "[redis]") {
  const std::string binary("a\0b\r\n\xff", 6);
  auto args = Command("SET").Key(binary).Arg(binary).Build("p:");
  REQUIRE(args.size() == 3);
  CHECK(args[1] == "p:" + binary);
  CHECK(args[2].size() == 6);
}

TEST_CASE("a script is identified by the SHA-1 of its source, as Redis does", "[redis]") {
  CHECK(sb::redis::Script("return 1").sha1() == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

TEST_CASE("a script command is EVALSHA with its key count and prefixed keys", "[redis]") {
  const sb::redis::Script script("return 1");
  auto command = Command::Eval(script, {"a", "b"}, {"x"});
  CHECK(command.Build("svc:") ==
        std::vector<std::string>{"EVALSHA", script.sha1(), "2", "svc:a", "svc:b", "x"});
  CHECK(command.script() == &script);
  CHECK(Command("GET").Key("a").script() == nullptr);
}

TEST_CASE("redis URLs give host and port", "[redis]") {
  auto ok = sb::redis::OptionsFromUrl("redis://127.0.0.1:6380", "svc:");
  REQUIRE(ok.ok());
  CHECK(ok->host == "127.0.0.1");
  CHECK(ok->port == 6380);
  CHECK(ok->key_prefix == "svc:");
  for (const char* bad : {"127.0.0.1:6380", "redis://127.0.0.1", "redis://:6380", "redis://h:0",
                          "redis://h:70000", "redis://h:12x"}) {
    INFO(bad);
    auto r = sb::redis::OptionsFromUrl(bad);
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().field() == "redis_url");
  }
}

TEST_CASE("Redis error replies map to status codes by their first word", "[redis]") {
  struct Case {
    const char* text;
    StatusCode code;
  };
  auto c = GENERATE(
      Case{"WRONGTYPE Operation against a key holding the wrong kind of value",
           StatusCode::kFailedPrecondition},
      Case{"OOM command not allowed when used memory > 'maxmemory'.",
           StatusCode::kResourceExhausted},
      Case{"NOSCRIPT No matching script.", StatusCode::kNotFound},
      Case{"LOADING Redis is loading the dataset in memory", StatusCode::kUnavailable},
      Case{"BUSY Redis is busy running a script.", StatusCode::kUnavailable},
      Case{"ERR wrong number of arguments for 'get' command", StatusCode::kInvalidArgument});
  auto s = sb::redis::ErrorStatus(c.text);
  CHECK(s.code() == c.code);
  CHECK(s.message() == std::string("redis: ") + c.text);
}

TEST_CASE("a reply answers only for what it holds", "[redis]") {
  Reply bulk(std::string("v"));
  REQUIRE(bulk.str());
  CHECK(*bulk.str() == "v");
  CHECK_FALSE(bulk.integer());
  Reply ok(Reply::SimpleString{"OK"});
  CHECK(*ok.str() == "OK");
  Reply n(int64_t{42});
  CHECK(n.integer() == 42);
  CHECK(n.str() == nullptr);
  Reply err(Reply::Error{"ERR x"});
  CHECK(err.is_error());
  CHECK(*err.error() == "ERR x");
  CHECK(Reply().is_nil());
  Reply arr(Reply::Array{Reply(int64_t{1}), Reply()});
  REQUIRE(arr.array());
  CHECK(arr.array()->size() == 2);
  CHECK(arr == Reply(Reply::Array{Reply(int64_t{1}), Reply(Reply::Nil{})}));
}
