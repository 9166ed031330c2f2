// NatsBus: the Bus on a real nats-server through cnats 3.4 (pkg-config libnats).
//
//   sb::bus::NatsBusOptions options;
//   options.url = config.nats_url;      // SB_NATS_URL
//   options.name = "billing/node-1";
//   auto bus = sb::bus::NatsBus::Connect(options);
//   if (!bus.ok()) Die("SB_NATS_URL: " + bus.status().ToString());
//
// Connection: one connection per NatsBus, reconnecting for ever with exponential backoff
// (reconnect_wait_min doubling up to reconnect_wait_max) once it has connected. While it is
// disconnected, core publishes and requests queue in cnats's reconnect buffer (up to
// reconnect_buffer_bytes, RESOURCE_EXHAUSTED beyond) and go out after reconnecting; a request
// still fails at its deadline. JsPublish retries with the same Nats-Msg-Id until the stream acks
// or the deadline passes, so an acknowledged publish survives a server crash (file storage) and
// a retried one is stored once.
//
// JsPublishAll keeps up to js_publish_window publishes in flight on one asynchronous JetStream
// context; concurrent JsPublishAll calls on one NatsBus take turns (one batch at a time).
//
// Threading (see bus.h): core subscription handlers run on cnats's per-subscription delivery
// threads; a Consume handler runs on a fetch thread owned by that consumer. Subscriptions must be
// destroyed before the NatsBus.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "switchboard/bus/bus.h"

// cnats types, kept out of users' includes.
struct __natsConnection;
struct __jsCtx;
struct __natsMsg;

namespace sb::bus {

struct ClosedSignal;

struct NatsBusOptions {
  std::string url = "nats://127.0.0.1:4222";
  std::string name;  // connection name, shown by the server's monitoring
  Duration connect_timeout = std::chrono::seconds(2);
  Duration reconnect_wait_min = std::chrono::milliseconds(20);
  Duration reconnect_wait_max = std::chrono::seconds(2);
  int reconnect_buffer_bytes = 8 * 1024 * 1024;
  // Write each publish to the socket at once rather than through cnats's flusher thread, which
  // batches writes but adds about 1 ms per hop: request/reply p50 0.2 ms instead of 1 ms, bulk
  // core publishing ~4x slower (bench/RESULTS.md). Bulk publishers turn it off: the call path's
  // services (sb-signaling, sb-media) do.
  bool send_asap = true;
  // Unacknowledged JetStream publishes in flight in JsPublishAll.
  int js_publish_window = 256;
  // How long one pull of a Consume waits for messages; also bounds how long destroying a
  // consumer may wait for its fetch thread.
  Duration fetch_wait = std::chrono::milliseconds(500);
};

class NatsBus final : public Bus {
 public:
  // Connects (UNAVAILABLE if the server cannot be reached within connect_timeout, naming the
  // url) and opens the JetStream context.
  static Result<std::unique_ptr<NatsBus>> Connect(const NatsBusOptions& options);
  ~NatsBus() override;
  NatsBus(const NatsBus&) = delete;
  NatsBus& operator=(const NatsBus&) = delete;

  Status Publish(const Message& message) override;
  Result<std::unique_ptr<Subscription>> Subscribe(std::string_view subject,
                                                  std::string_view queue_group,
                                                  Handler handler) override;
  Result<Message> Request(const Message& request, Duration timeout) override;
  Status EnsureStream(const StreamConfig& config) override;
  Result<PublishAck> JsPublish(const JsOutbound& outbound, Duration timeout) override;
  std::vector<Result<PublishAck>> JsPublishAll(std::span<const JsOutbound> outbound,
                                               Duration timeout) override;
  Result<std::unique_ptr<Subscription>> Consume(const ConsumerConfig& config,
                                                JsHandler handler) override;

  // Sends what is buffered and waits for the server to have processed it (PING/PONG).
  Status Flush(Duration timeout);
  // Deletes a stream (tests, tools). NOT_FOUND when there is none.
  Status DeleteStream(std::string_view name);
  // Messages the server holds in a stream, and a durable's pending/unacked counts (tests, tools).
  struct ConsumerState {
    uint64_t num_pending = 0;      // not yet delivered
    uint64_t num_ack_pending = 0;  // delivered, not yet acked
    uint64_t num_redelivered = 0;
  };
  Result<uint64_t> StreamMessageCount(std::string_view stream);
  Result<ConsumerState> GetConsumerState(std::string_view stream, std::string_view durable);

  bool connected() const;
  uint64_t reconnects() const { return reconnects_.load(); }
  uint64_t disconnects() const { return disconnects_.load(); }

  // Routes asynchronous JetStream publish acks to the JsPublishAll call waiting for them.
  struct AckRouter;

 private:
  NatsBus() = default;
  Status EnsureConsumer(const ConsumerConfig& config);

  NatsBusOptions options_;
  __natsConnection* nc_ = nullptr;
  __jsCtx* js_ = nullptr;        // synchronous JetStream calls
  __jsCtx* js_async_ = nullptr;  // JsPublishAll, acks through router_
  std::unique_ptr<AckRouter> router_;
  std::unique_ptr<ClosedSignal> closed_signal_;
  std::atomic<uint64_t> reconnects_{0};
  std::atomic<uint64_t> disconnects_{0};
  std::mutex closed_mu_;
  std::condition_variable closed_cv_;
  bool closed_ = false;
};

}  // namespace sb::bus
