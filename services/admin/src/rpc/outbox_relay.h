// Publishes the transactional outbox (admin.outbox, written by the repositories in each mutation's
// transaction) to JetStream, in order, with msg-id = event id, and deletes a row only after the
// stream acknowledged it. A publish that fails (NATS away) leaves the row for the next pass, so an
// event is never lost to a crash or an outage between commit and publish; a row published but not
// yet deleted when the process dies is published again and de-duplicated by the stream.
//
// Several replicas may run relays over one database: rows are claimed with FOR UPDATE SKIP LOCKED.
// Ordering is per relay pass; across replicas the stream sequence may interleave.
//
//   auto relay = OutboxRelay::Start(pool, bus, {}, metrics, log);
//   relay->Nudge();  // after a commit: publish now rather than at the next poll
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "switchboard/bus/bus.h"
#include "switchboard/core/logger.h"
#include "switchboard/core/metrics.h"
#include "switchboard/pg/pool.h"

namespace sb::admin::rpc {

struct OutboxRelayOptions {
  std::chrono::milliseconds poll{500};              // a pass at least this often
  std::chrono::milliseconds publish_timeout{2000};  // per batch
  int batch = 100;
};

class OutboxRelay {
 public:
  static std::unique_ptr<OutboxRelay> Start(pg::Pool& pool, bus::Bus& bus,
                                            const OutboxRelayOptions& options,
                                            core::MetricsRegistry& metrics,
                                            const core::Logger& log);
  ~OutboxRelay();

  void Nudge();
  // Waits (bounded) until a pass has found the outbox empty after this call. For tests and for
  // an orderly shutdown.
  bool WaitUntilEmpty(std::chrono::steady_clock::duration timeout);
  // Rows waiting to be published.
  Result<int64_t> Pending();

 private:
  OutboxRelay(pg::Pool& pool, bus::Bus& bus, const OutboxRelayOptions& options,
              core::MetricsRegistry& metrics, const core::Logger& log);
  void Run();
  struct PassResult {
    bool empty = false;     // the outbox was left empty
    bool progress = false;  // some rows were published and deleted
  };
  // One pass: publishes and deletes up to `batch` rows.
  PassResult Pass();

  pg::Pool& pool_;
  bus::Bus& bus_;
  const OutboxRelayOptions options_;
  const core::Logger& log_;
  core::CounterMetric& published_;
  core::CounterMetric& failures_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable passed_;
  bool stop_ = false;
  bool nudged_ = false;
  uint64_t passes_ = 0;
  bool last_empty_ = false;
  std::thread thread_;
};

}  // namespace sb::admin::rpc
