// JsOutbox: JetStream publishes that the caller does not wait for. Posted messages go out from
// one background thread in batches (Bus::JsPublishAll: a window of publishes in flight, each
// retried through reconnects until acked or the timeout), in the order they were posted, and
// each one's result is handed to its `done` callback on that thread.
//
// For event producers on an event loop: a call's created/ringing/answered/ended events cost the
// loop one queue push each instead of a thread hand-off and a blocking round trip to the stream,
// and under load many events share one batch.
//
//   sb::bus::JsOutbox outbox(bus, {.timeout = 5s});
//   Status queued = outbox.Post({.message = {.subject = s, .data = body}, .msg_id = id},
//                               [](const Result<PublishAck>& ack) { if (!ack.ok()) log... });
//   // RESOURCE_EXHAUSTED when max_queued messages wait already (JetStream away for long)
//
// Durability is the stream's: a message is stored once acked (done with OK). Without a journal,
// what is still queued when the process dies is lost, as it was when the caller's thread waited
// for the ack, and so is a message the stream did not ack within the timeout. Given a journal
// (JsOutboxJournal below), what the stream has not acked within `journal_after` is kept there
// while the outbox goes on publishing it (the same msg_id: stored once) for the rest of the
// timeout, and released once acked: what the stream never acked stays kept for something else (a
// sweep) to send again. A batch acked promptly, the common case, costs the journal nothing; what
// a dying process loses is what it had posted less than `journal_after` (plus the linger) ago and
// the stream had not acked yet. A producer that keeps a message in the journal itself, in the
// same atomic step as the change it reports, posts it with PostKept, and leaves no such window:
// it is released once acked and never kept again. The destructor publishes what is queued
// (bounded by the timeout) before it returns, so an orderly shutdown loses nothing. Thread-safe;
// the Bus (and the journal) must outlive the outbox.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "switchboard/bus/bus.h"

namespace sb::bus {

struct JsOutboxOptions {
  Duration timeout = std::chrono::seconds(5);  // per batch, as for JsPublishAll
  size_t max_batch = 256;
  size_t max_queued = 100'000;  // beyond, Post refuses: bounded memory while the stream is away
  // How long the first message of a batch waits for others (until max_batch) before they go:
  // each batch costs this thread, the connection's reader and the server a wake-up, so under
  // load a few milliseconds of delay save one per message. Zero: at once.
  Duration linger = Duration::zero();
  // With a journal: how long a batch's publishes may go unacked before they are kept there.
  Duration journal_after = std::chrono::milliseconds(250);
};

// Where a JsOutbox keeps the publishes the stream is slow to ack (durable storage shared by the
// producer's replicas, say), so that a process that dies, or a stream away for longer than the
// timeout, loses none of them. Both calls run on the outbox's thread and block it. A journal
// reports its own failures (it knows where to log and count them): the outbox publishes a batch
// it could not keep all the same, as it would without a journal.
class JsOutboxJournal {
 public:
  virtual ~JsOutboxJournal() = default;
  // Before `batch` is published again (it went unacked for `journal_after`).
  virtual void Keep(const std::vector<JsOutbound>& batch) = 0;
  // After: the msg ids the stream acknowledged (stored or duplicate). Not called for none.
  virtual void Release(const std::vector<std::string>& msg_ids) = 0;
};

class JsOutbox {
 public:
  using Done = std::function<void(const Result<PublishAck>&)>;

  // `journal` may be null: no journal.
  JsOutbox(Bus& bus, JsOutboxOptions options = {}, JsOutboxJournal* journal = nullptr);
  ~JsOutbox();
  JsOutbox(const JsOutbox&) = delete;
  JsOutbox& operator=(const JsOutbox&) = delete;

  // Queues one publish; `done` (may be empty) runs on the outbox's thread with its result.
  // With a journal, a message without msg_id (the journal's key, and what makes the stream keep
  // one copy of a second send) is INVALID_ARGUMENT.
  Status Post(JsOutbound outbound, Done done);
  // Queues a message the journal holds already (under its msg_id): released once acked, and
  // left there when not, for whatever sends the journal's messages again. Needs the journal.
  Status PostKept(JsOutbound outbound, Done done);
  // Blocks until everything posted before the call has been published and its done run.
  void Flush();
  size_t queued() const;
  // Batches published so far (JsPublishAll calls).
  uint64_t batches() const;

 private:
  struct Item {
    JsOutbound outbound;
    Done done;
    bool kept = false;  // the journal holds it (PostKept)
  };
  Status Enqueue(Item item);
  void Run();
  // Publishes `outbound` through the journal: what goes unacked for journal_after is kept
  // (unless `kept` says the journal holds it), sent again for the rest of the timeout, and
  // released if acked.
  std::vector<Result<PublishAck>> PublishJournaled(const std::vector<JsOutbound>& outbound,
                                                   const std::vector<bool>& kept);

  Bus& bus_;
  const JsOutboxOptions options_;
  JsOutboxJournal* const journal_;
  mutable std::mutex mu_;
  std::condition_variable wake_;      // the publisher: work or stop
  std::condition_variable finished_;  // Flush: a batch completed
  std::deque<Item> queue_;
  uint64_t posted_ = 0;     // items ever posted
  uint64_t completed_ = 0;  // items whose done has run
  uint64_t batches_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sb::bus
