// Bus: the narrow interface every service uses to talk over NATS. Core publish/subscribe (at most
// once, with queue groups), request/reply with a deadline, and JetStream (at least once: streams,
// de-duplicated publishes, durable pull consumers with explicit acks). Production code uses
// NatsBus (nats_bus.h); unit tests of services use sb::testing::InMemoryBus, which has the same
// semantics without a server.
//
//   sb::bus::Bus& bus = ...;
//   auto sub = bus.Subscribe("sb.cmd.billing.authorize", "billing", [&](const Message& m) {
//     bus.Publish({.subject = m.reply, .data = Answer(m.data)});
//   });
//   auto reply = bus.Request({.subject = "sb.cmd.billing.authorize", .data = body},
//                            std::chrono::milliseconds(500));
//   if (!reply.ok()) return reply.status();  // DEADLINE_EXCEEDED or UNAVAILABLE, never a hang
//
//   SB_RETURN_IF_ERROR(bus.EnsureStream(EventsStream()));
//   auto ack = bus.JsPublish({.message = {.subject = s, .data = body}, .msg_id = event_id},
//                            std::chrono::seconds(5));
//   auto consumer = bus.Consume({.stream = "SB_EVENTS", .durable = "billing"},
//                               [&](JsMessage& m) { if (Commit(m).ok()) m.Ack(); });
//
// Threading: every method of a Bus is thread-safe. Handlers run on threads the implementation
// owns (NatsBus: cnats delivery threads, one per core subscription, and one fetch thread per
// Consume), never concurrently for one subscription, so a handler need not lock against itself;
// it must lock what it shares with other subscriptions. A handler may publish, request and ack;
// it may destroy its own subscription. Destroying a Subscription stops delivery and waits for a
// running handler of that subscription to return (unless called from that handler).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "switchboard/core/status.h"

namespace sb::bus {

using Duration = std::chrono::nanoseconds;

// NATS headers. One value per key is all Switchboard uses.
using Headers = std::map<std::string, std::string, std::less<>>;

// The JetStream de-duplication header (set through JsOutbound::msg_id, not by hand).
inline constexpr std::string_view kMsgIdHeader = "Nats-Msg-Id";

// Members carry {} initialisers so that designated initialisers may name only what they set.
struct Message {
  std::string subject{};
  std::string reply{};  // where the sender waits for an answer; empty when none is expected
  std::string data{};
  Headers headers{};
};

// A delivery from a JetStream consumer. Valid only during the handler call. A message that is
// neither acked nor termed is delivered again after the consumer's ack wait, up to max_deliver.
class JsMessage {
 public:
  virtual ~JsMessage() = default;
  virtual const Message& message() const = 0;
  // 1 on the first delivery, 2 on the first redelivery, ...
  virtual uint64_t delivery_count() const = 0;
  virtual uint64_t stream_sequence() const = 0;
  // Done; returns once the server has recorded the ack, so an ok ack survives a crash.
  virtual Status Ack() = 0;
  // Done, without waiting for the server (faster; an ack lost in a crash means one redelivery).
  virtual Status AckNoWait() = 0;
  // Not now: deliver again after `delay` (0: at once).
  virtual Status Nak(Duration delay) = 0;
  // Never again (a poison message): no more deliveries, whatever max_deliver says.
  virtual Status Term() = 0;
  // Still working: restarts the ack wait.
  virtual Status InProgress() = 0;
};

using Handler = std::function<void(const Message&)>;
using JsHandler = std::function<void(JsMessage&)>;

// A live subscription or consumer; destroying it stops delivery (see threading above).
// Destroying a Consume subscription leaves its durable consumer on the server.
class Subscription {
 public:
  virtual ~Subscription() = default;
};

enum class Storage { kFile, kMemory };
enum class Retention { kLimits, kWorkQueue, kInterest };

struct StreamConfig {
  std::string name{};
  std::vector<std::string> subjects{};  // may hold wildcards, e.g. "sb.evt.>"
  Storage storage = Storage::kFile;
  Retention retention = Retention::kLimits;
  Duration max_age{0};                                  // 0: unlimited
  int64_t max_msgs = -1;                                // -1: unlimited
  int64_t max_bytes = -1;                               // -1: unlimited
  Duration duplicate_window = std::chrono::minutes(2);  // how long a msg_id de-duplicates
};

enum class DeliverPolicy { kAll, kNew };

struct ConsumerConfig {
  std::string stream{};
  std::string durable{};         // replicas of one service share one durable name
  std::string filter_subject{};  // empty: the whole stream
  Duration ack_wait = std::chrono::seconds(30);
  int64_t max_deliver = -1;  // -1: unlimited
  int64_t max_ack_pending = 1000;
  DeliverPolicy deliver_policy = DeliverPolicy::kAll;
  int fetch_batch = 64;  // messages asked for per pull (NatsBus)
};

struct JsOutbound {
  Message message{};
  // De-duplication id (Nats-Msg-Id): a retry with the same id within the stream's duplicate
  // window is stored once. Use the event id.
  std::string msg_id{};
};

struct PublishAck {
  std::string stream{};
  uint64_t sequence = 0;
  bool duplicate = false;  // the stream already had this msg_id
};

class Bus {
 public:
  virtual ~Bus() = default;

  // Core publish: at most once. While disconnected, NatsBus buffers it (reconnect buffer) and
  // sends it after reconnecting; RESOURCE_EXHAUSTED when that buffer is full.
  virtual Status Publish(const Message& message) = 0;

  // Subscribes to `subject` (wildcards * and > allowed). With a non-empty queue_group, each
  // message goes to one member of the group. Once it returns, the server has the interest:
  // whatever is published after that, from any connection, reaches `handler`.
  virtual Result<std::unique_ptr<Subscription>> Subscribe(std::string_view subject,
                                                          std::string_view queue_group,
                                                          Handler handler) = 0;

  // Sends `request` (its reply field is ignored) and waits for one answer. UNAVAILABLE when
  // nobody subscribes to the subject, DEADLINE_EXCEEDED when no answer came within `timeout`.
  // Returns by the deadline in every case.
  virtual Result<Message> Request(const Message& request, Duration timeout) = 0;

  // Creates the stream, or updates an existing one to `config`. Idempotent.
  virtual Status EnsureStream(const StreamConfig& config) = 0;

  // Publishes to JetStream and waits for the stream's ack, retrying (same msg_id, so at most one
  // copy is stored) through disconnects until acked or `timeout`: DEADLINE_EXCEEDED then. A
  // subject no stream captures looks like JetStream being away, so it too ends at the deadline.
  virtual Result<PublishAck> JsPublish(const JsOutbound& outbound, Duration timeout) = 0;

  // Publishes many with a window of unacknowledged publishes in flight; same guarantees as
  // JsPublish per message. Results are in the order of `outbound`.
  virtual std::vector<Result<PublishAck>> JsPublishAll(std::span<const JsOutbound> outbound,
                                                       Duration timeout) = 0;

  // Creates (or updates) the durable pull consumer and delivers its messages to `handler` until
  // the subscription is destroyed. Several Consume calls with one durable share its messages.
  virtual Result<std::unique_ptr<Subscription>> Consume(const ConsumerConfig& config,
                                                        JsHandler handler) = 0;
};

}  // namespace sb::bus
