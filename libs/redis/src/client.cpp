#include "switchboard/redis/client.h"

#include <hiredis.h>
#include <openssl/evp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "internal/hiredis_reply.h"
#include "internal/resp.h"
#include "internal/script_reload.h"
#include "switchboard/core/hex.h"

namespace sb::redis {
namespace {

std::string HexSha1(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha1(), nullptr);
  return core::ToHex({digest, len});
}

const core::SystemClock kSystemClock;

timeval ToTimeval(std::chrono::milliseconds ms) {
  return {static_cast<time_t>(ms.count() / 1000),
          static_cast<suseconds_t>(ms.count() % 1000 * 1000)};
}

}  // namespace

Result<ClientOptions> OptionsFromUrl(std::string_view url, std::string key_prefix) {
  constexpr std::string_view kScheme = "redis://";
  const size_t colon = url.rfind(':');
  if (!url.starts_with(kScheme) || colon == std::string_view::npos || colon < kScheme.size()) {
    return Status::InvalidArgument("redis URL must be redis://HOST:PORT, got " + std::string(url),
                                   "redis_url");
  }
  ClientOptions o;
  o.host = std::string(url.substr(kScheme.size(), colon - kScheme.size()));
  std::string_view port = url.substr(colon + 1);
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), o.port);
  if (ec != std::errc() || end != port.data() + port.size() || o.port <= 0 || o.port > 65535 ||
      o.host.empty()) {
    return Status::InvalidArgument("redis URL must be redis://HOST:PORT, got " + std::string(url),
                                   "redis_url");
  }
  o.key_prefix = std::move(key_prefix);
  return o;
}

Command Command::Eval(const Script& script, const std::vector<std::string>& keys,
                      const std::vector<std::string>& args) {
  Command c("EVALSHA");
  c.Arg(script.sha1()).KeysAndArgs(keys, args);
  c.script_ = &script;
  return c;
}

Command& Command::KeysAndArgs(const std::vector<std::string>& keys,
                              const std::vector<std::string>& args) {
  Arg(static_cast<int64_t>(keys.size()));
  for (const auto& k : keys) Key(k);
  for (const auto& a : args) Arg(a);
  return *this;
}

Command& Command::Key(std::string_view key) {
  key_positions_.push_back(args_.size());
  args_.emplace_back(key);
  return *this;
}

Command& Command::Arg(std::string_view arg) {
  args_.emplace_back(arg);
  return *this;
}

Command& Command::Arg(int64_t value) {
  args_.push_back(std::to_string(value));
  return *this;
}

std::vector<std::string> Command::Build(std::string_view prefix) const {
  std::vector<std::string> out = args_;
  for (size_t i : key_positions_) out[i].insert(0, prefix);
  return out;
}

void Command::AppendResp(std::string& out, std::string_view prefix) const {
  internal::AppendResp(out, args_, key_positions_, prefix);
}

Script::Script(std::string source) : source_(std::move(source)), sha1_(HexSha1(source_)) {}

Client::Client(ClientOptions options) : Client(std::move(options), kSystemClock) {}

Client::Client(ClientOptions options, const core::Clock& clock)
    : options_(std::move(options)), clock_(clock) {
  const size_t n = std::max<size_t>(1, options_.connections);
  connections_.reserve(n);
  for (size_t i = 0; i < n; ++i) connections_.push_back(std::make_unique<Connection>());
}

Client::~Client() {
  for (auto& c : connections_) {
    if (c->ctx) redisFree(c->ctx);
  }
}

std::unique_lock<std::mutex> Client::Take(Connection*& out) {
  const size_t n = connections_.size();
  const size_t start = next_.fetch_add(1, std::memory_order_relaxed);
  for (size_t i = 0; i < n; ++i) {
    Connection& c = *connections_[(start + i) % n];
    std::unique_lock lock(c.mu, std::try_to_lock);
    if (lock.owns_lock()) {
      out = &c;
      return lock;
    }
  }
  out = connections_[start % n].get();
  return std::unique_lock(out->mu);
}

Status Client::EnsureConnected(Connection& conn) {
  redisContext*& ctx = conn.ctx;
  if (ctx && !ctx->err) {
    if (clock_.Now() - conn.last_reply < kLivenessCheckAfterIdle) return Status::Ok();
    // A closed connection (server restarted or killed) shows as EOF or a reset before we write
    // to it: reconnect now rather than fail a command the server never saw. Pending bytes would
    // mean a reply out of step with our requests, so that connection goes too.
    char byte;
    ssize_t n = recv(ctx->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Status::Ok();
  }
  if (ctx) {
    redisFree(ctx);
    ctx = nullptr;
  }
  redisContext* c = redisConnectWithTimeout(options_.host.c_str(), options_.port,
                                            ToTimeval(options_.connect_timeout));
  if (!c || c->err) {
    std::string why = c ? c->errstr : "out of memory";
    if (c) redisFree(c);
    return Status::Unavailable("cannot connect to redis " + options_.host + ":" +
                               std::to_string(options_.port) + ": " + why);
  }
  redisSetTimeout(c, ToTimeval(options_.command_timeout));
  redisEnableKeepAlive(c);
  ctx = c;
  return Status::Ok();
}

Status Client::ConnectionError(Connection& conn, const std::string& during) {
  const int saved_errno = errno;
  redisContext*& ctx = conn.ctx;
  std::string where = "redis " + options_.host + ":" + std::to_string(options_.port);
  Status s;
  if (ctx->err == REDIS_ERR_IO && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)) {
    s = Status::DeadlineExceeded(where + ": no reply within " +
                                 std::to_string(options_.command_timeout.count()) + " ms " +
                                 during);
  } else {
    s = Status::Unavailable(where + ": connection lost " + during + ": " + ctx->errstr +
                            " (the command may or may not have run)");
  }
  // Whatever was in flight is out of step now; the next call starts on a new connection.
  redisFree(ctx);
  ctx = nullptr;
  return s;
}

Result<std::vector<Reply>> Client::Send(Connection& conn,
                                        const std::vector<std::vector<std::string>>& commands) {
  SB_RETURN_IF_ERROR(EnsureConnected(conn));
  redisContext* ctx = conn.ctx;
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& cmd : commands) {
    argv.clear();
    lens.clear();
    for (const auto& a : cmd) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    // Appending only fills hiredis' output buffer; the first GetReply writes it all at once.
    if (redisAppendCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), lens.data()) !=
        REDIS_OK) {
      return ConnectionError(conn, "while queueing " + cmd[0]);
    }
  }
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx, &raw) != REDIS_OK || !raw) {
      return ConnectionError(conn, "waiting for the reply to " + commands[i][0]);
    }
    auto* r = static_cast<redisReply*>(raw);
    replies.push_back(internal::Convert(r));
    freeReplyObject(r);
  }
  conn.last_reply = clock_.Now();
  return replies;
}

Result<std::vector<Reply>> Client::SendLoadingScripts(const std::vector<Command>& commands) {
  std::vector<std::vector<std::string>> built;
  built.reserve(commands.size());
  for (const auto& c : commands) built.push_back(c.Build(options_.key_prefix));
  Connection* conn = nullptr;
  auto lock = Take(conn);
  auto replies = Send(*conn, built);
  if (!replies.ok()) return replies;

  // Scripts not in this server's cache did not run: load each once and run those commands
  // again, all in one more round trip.
  const internal::ScriptReload reload(commands, options_.key_prefix, *replies);
  if (reload.empty()) return replies;
  auto retried = Send(*conn, reload.commands());
  if (!retried.ok()) return retried.status();
  SB_RETURN_IF_ERROR(reload.Apply(std::move(*retried), *replies));
  return replies;
}

Result<Reply> Client::Run(const Command& command) {
  auto replies = SendLoadingScripts({command});
  if (!replies.ok()) return replies.status();
  Reply& r = replies->front();
  if (r.is_error()) return ErrorStatus(*r.error());
  return std::move(r);
}

Result<std::vector<Reply>> Client::Pipeline(const std::vector<Command>& commands) {
  if (commands.empty()) return std::vector<Reply>{};
  return SendLoadingScripts(commands);
}

Result<Reply> Client::Eval(const Script& script, const std::vector<std::string>& keys,
                           const std::vector<std::string>& args) {
  return Run(Command::Eval(script, keys, args));
}

}  // namespace sb::redis
