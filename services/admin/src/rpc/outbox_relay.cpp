#include "rpc/outbox_relay.h"

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "switchboard/pg/transaction.h"

namespace sb::admin::rpc {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c >= 'A' && c <= 'F' ? c - 'A' + 10 : 0;
}

// Postgres' encode(payload, 'hex') back to bytes.
std::string FromHex(std::string_view hex) {
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(HexValue(hex[i]) * 16 + HexValue(hex[i + 1])));
  }
  return out;
}

}  // namespace

OutboxRelay::OutboxRelay(pg::Pool& pool, bus::Bus& bus, const OutboxRelayOptions& options,
                         core::MetricsRegistry& metrics, const core::Logger& log)
    : pool_(pool),
      bus_(bus),
      options_(options),
      log_(log),
      published_(metrics.Counter("sb_admin_outbox_published_total",
                                 "outbox events published to JetStream and deleted")),
      failures_(metrics.Counter("sb_admin_outbox_publish_failures_total",
                                "outbox events whose publish failed (retried on a later pass)")) {}

std::unique_ptr<OutboxRelay> OutboxRelay::Start(pg::Pool& pool, bus::Bus& bus,
                                                const OutboxRelayOptions& options,
                                                core::MetricsRegistry& metrics,
                                                const core::Logger& log) {
  std::unique_ptr<OutboxRelay> relay(new OutboxRelay(pool, bus, options, metrics, log));
  relay->thread_ = std::thread([r = relay.get()] { r->Run(); });
  return relay;
}

OutboxRelay::~OutboxRelay() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OutboxRelay::Nudge() {
  {
    std::lock_guard lock(mu_);
    nudged_ = true;
  }
  wake_.notify_all();
}

bool OutboxRelay::WaitUntilEmpty(std::chrono::steady_clock::duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mu_);
  // A pass that started before this call may have missed rows committed just before it.
  const uint64_t after = passes_ + 1;
  nudged_ = true;
  wake_.notify_all();
  return passed_.wait_until(lock, deadline, [&] { return passes_ > after && last_empty_; }) ||
         (passes_ > after && last_empty_);
}

Result<int64_t> OutboxRelay::Pending() {
  return pg::RunInTransaction(pool_, [](pqxx::transaction_base& w) -> Result<int64_t> {
    return w.exec("SELECT count(*) FROM admin.outbox")[0][0].as<int64_t>();
  });
}

void OutboxRelay::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    nudged_ = false;
    lock.unlock();
    const PassResult r = Pass();
    lock.lock();
    ++passes_;
    last_empty_ = r.empty;
    passed_.notify_all();
    // A full batch that went out means more is waiting: go again at once. After a failure, wait
    // for the poll interval rather than hammer an absent NATS.
    if (!stop_ && (r.empty || !r.progress)) {
      wake_.wait_for(lock, options_.poll, [&] { return stop_ || nudged_; });
    }
  }
}

OutboxRelay::PassResult OutboxRelay::Pass() {
  bool empty = false;
  bool progress = false;
  Status s = pg::RunInTransactionStatus(pool_, [&](pqxx::transaction_base& w) -> Status {
    auto rows = w.exec_params(
        "SELECT seq, event_id::text, subject, encode(payload, 'hex') FROM admin.outbox"
        " ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED",
        options_.batch);
    std::vector<bus::JsOutbound> out;
    std::vector<int64_t> seqs;
    for (const auto& row : rows) {
      seqs.push_back(row[0].as<int64_t>());
      out.push_back({.message = {.subject = row[2].as<std::string>(),
                                 .data = FromHex(row[3].as<std::string>())},
                     .msg_id = row[1].as<std::string>()});
    }
    if (out.empty()) {
      empty = true;
      return Status::Ok();
    }
    auto acks = bus_.JsPublishAll(out, options_.publish_timeout);
    // Only the acknowledged prefix goes, so the next pass resumes in order.
    size_t done = 0;
    while (done < acks.size() && acks[done].ok()) ++done;
    if (done < acks.size()) {
      failures_.Inc(static_cast<double>(acks.size() - done));
      log_.Warn("outbox publish failed; retrying later",
                {{"pending", std::to_string(acks.size() - done)},
                 {"error", acks[done].status().message()}});
    }
    if (done > 0) {
      // The claimed seqs only: rows between them may be another replica's.
      std::string list;
      for (size_t i = 0; i < done; ++i) list += (i ? "," : "") + std::to_string(seqs[i]);
      w.exec("DELETE FROM admin.outbox WHERE seq IN (" + list + ")");
      progress = true;
      published_.Inc(static_cast<double>(done));
    }
    empty = done == acks.size() && static_cast<int>(rows.size()) < options_.batch;
    return Status::Ok();
  });
  if (!s.ok()) {
    log_.Warn("outbox pass failed", {{"error", s.message()}});
    return {};
  }
  return {.empty = empty, .progress = progress};
}

}  // namespace sb::admin::rpc
