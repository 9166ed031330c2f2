// A Redis client on hiredis 0.14 for services: binary-safe commands, pipelining, Lua scripts by
// EVALSHA, a key prefix per service, errors as sb::Status.
//
//   sb::redis::Client redis({.host = "127.0.0.1", .port = 6379, .key_prefix = "signaling:"});
//   auto r =
//   redis.Run(sb::redis::Command("SET").Key("reg:alice").Arg(contact).Arg("PX").Arg(60000)); if
//   (!r.ok()) return r.status();                   // "signaling:reg:alice" was set
//
//   static const sb::redis::Script kTake("local n = redis.call('DECR', KEYS[1]) ... return n");
//   auto left = redis.Eval(kTake, {"quota:" + tenant}, {"1"});
//
//   auto replies = redis.Pipeline({Command("INCR").Key("a"), Command("GET").Key("b")});
//
// Keys: only what goes through Command::Key() or Eval's keys gets the prefix; keys inside
// replies (SCAN, KEYS) come back with it.
// Connection: opened on first use. Before using a connection idle for kLivenessCheckAfterIdle or
// more, the client checks whether the server closed it (a restart, a kill, an idle timeout) and
// reconnects first; a connection in steady use is not checked (that check is a syscall per
// command). A failure in the middle of a command is returned as UNAVAILABLE and never retried:
// the server may have run the command, and running it again could apply it twice. The next call
// reconnects.
// Threading: a Client is safe to share between threads. Each of its `connections` (default 1)
// carries one command (or pipeline) at a time; a call takes a free one, or waits for one when
// all are busy, so up to `connections` threads run commands at once. Connections open lazily:
// a client used by one thread at a time only ever opens one.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "switchboard/core/clock.h"
#include "switchboard/core/status.h"
#include "switchboard/redis/reply.h"

struct redisContext;

namespace sb::redis {

// How long a connection may sit unused before the client checks, ahead of the next command, that
// the server has not closed it. A connection used more often than this is trusted: a server gone
// in between costs the next command an UNAVAILABLE, and the call after it reconnects.
inline constexpr std::chrono::milliseconds kLivenessCheckAfterIdle{1000};

struct ClientOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string key_prefix;  // "<service>:" — prepended to every key passed as a key
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{2000};
  size_t connections = 1;  // at least 1
};

// "redis://HOST:PORT" -> options with host and port set (INVALID_ARGUMENT otherwise).
Result<ClientOptions> OptionsFromUrl(std::string_view url, std::string key_prefix = {});

// A Lua script, identified by the SHA-1 of its source (computed here, as Redis does).
class Script {
 public:
  explicit Script(std::string source);
  const std::string& source() const { return source_; }
  const std::string& sha1() const { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;
};

// One command: its name, then keys and arguments in the order Redis expects them.
class Command {
 public:
  explicit Command(std::string_view name) { args_.emplace_back(name); }
  // EVALSHA of `script` (borrowed: it must outlive the command) with its keys and arguments,
  // as a command of a Pipeline; loaded on NOSCRIPT as Client::Eval does.
  static Command Eval(const Script& script, const std::vector<std::string>& keys,
                      const std::vector<std::string>& args);

  Command& Key(std::string_view key);  // prefixed with the client's key_prefix when run
  Command& Arg(std::string_view arg);  // as is, binary-safe
  Command& Arg(int64_t value);

  // The arguments with `prefix` applied to the keys.
  std::vector<std::string> Build(std::string_view prefix) const;
  // Build(prefix) in RESP, appended to `out` without building it first.
  void AppendResp(std::string& out, std::string_view prefix) const;
  // The script an EVALSHA command runs; nullptr for any other command.
  const Script* script() const { return script_; }

 private:
  // A script call's key count, keys and arguments.
  Command& KeysAndArgs(const std::vector<std::string>& keys, const std::vector<std::string>& args);

  std::vector<std::string> args_;
  std::vector<size_t> key_positions_;
  const Script* script_ = nullptr;
};

class Client {
 public:
  explicit Client(ClientOptions options);
  // `clock` (not owned, outlives the client) times the connections' idleness.
  Client(ClientOptions options, const core::Clock& clock);
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client();

  // One command. A Redis error reply becomes its Status (see ErrorStatus); a lost or refused
  // connection is UNAVAILABLE; a timeout DEADLINE_EXCEEDED.
  Result<Reply> Run(const Command& command);

  // Several commands in one round trip. Replies in order; a command's own error is an Error
  // reply in its place, and does not stop the others. The Status is for the connection.
  // Scripts (Command::Eval) the server does not know yet are loaded and run in a second round
  // trip, so they run after the pipeline's other commands: pipeline scripts only with commands
  // whose order against them does not matter.
  Result<std::vector<Reply>> Pipeline(const std::vector<Command>& commands);

  // EVALSHA; on NOSCRIPT (first use, SCRIPT FLUSH, a restarted server) SCRIPT LOAD and again.
  Result<Reply> Eval(const Script& script, const std::vector<std::string>& keys,
                     const std::vector<std::string>& args);

  const std::string& key_prefix() const { return options_.key_prefix; }

 private:
  struct Connection {
    std::mutex mu;
    redisContext* ctx = nullptr;
    core::Clock::TimePoint last_reply{};  // when the server last answered on ctx
  };
  // A connection locked for the caller: a free one if there is, else the next in turn.
  std::unique_lock<std::mutex> Take(Connection*& out);
  Status EnsureConnected(Connection& c);  // with c.mu held
  Status ConnectionError(Connection& c, const std::string& during);
  Result<std::vector<Reply>> Send(Connection& c,
                                  const std::vector<std::vector<std::string>>& commands);
  // Send, then SCRIPT LOAD and run again the scripts the server answered NOSCRIPT.
  Result<std::vector<Reply>> SendLoadingScripts(const std::vector<Command>& commands);

  const ClientOptions options_;
  const core::Clock& clock_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::atomic<size_t> next_{0};
};

}  // namespace sb::redis
