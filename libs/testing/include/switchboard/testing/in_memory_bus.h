// InMemoryBus: the Bus for unit tests of services, with NatsBus's semantics and no server.
// Subjects with * and > wildcards, queue groups (one member of a group gets each message),
// request/reply with a deadline, and JetStream-like streams with msg-id de-duplication and
// durable consumers (ack, nak with delay, term, in progress, ack wait, max deliveries).
//
//   sb::core::FakeClock clock;
//   sb::testing::InMemoryBus bus(clock);
//   (void)bus.EnsureStream(sb::bus::EventsStream());
//   auto consumer = bus.Consume({.stream = "SB_EVENTS", .durable = "billing",
//                                .ack_wait = std::chrono::seconds(30)},
//                               [&](sb::bus::JsMessage& m) { seen.push_back(m.delivery_count());
//                               });
//   (void)bus.JsPublish({.message = {.subject = "sb.evt.call.ended.t1", .data = "x"}}, 1s);
//   // seen == {1}; not acked, so after the ack wait:
//   clock.Advance(std::chrono::seconds(30));
//   bus.ProcessDue();                                        // seen == {1, 2}
//
// Delivery is synchronous and deterministic: a handler runs on the thread that published (or
// that called Consume / ProcessDue), before that call returns. Core messages published from a
// handler are delivered at once (nested), so a responder answering inline completes a Request
// before Request returns. JetStream deliveries caused from inside a handler (a publish, a nak
// with no delay) wait until that handler returns, then go out in the same call.
//
// Time: ack waits, nak delays and the duplicate window follow the injected Clock; with a
// FakeClock nothing is redelivered until the test advances it and calls ProcessDue(). A Request
// that nobody answered inline waits up to its timeout in real time for an answer from another
// thread (there is no way to know none will come), so tests of "no answer" use short timeouts.
//
// Thread-safe; handlers of one subscription never run concurrently on different threads.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "switchboard/bus/bus.h"
#include "switchboard/core/clock.h"

namespace sb::testing {

class InMemoryBus final : public sb::bus::Bus {
 public:
  // `clock` must outlive the bus.
  explicit InMemoryBus(const core::Clock& clock);
  ~InMemoryBus() override;
  InMemoryBus(const InMemoryBus&) = delete;
  InMemoryBus& operator=(const InMemoryBus&) = delete;

  Status Publish(const bus::Message& message) override;
  Result<std::unique_ptr<bus::Subscription>> Subscribe(std::string_view subject,
                                                       std::string_view queue_group,
                                                       bus::Handler handler) override;
  Result<bus::Message> Request(const bus::Message& request, bus::Duration timeout) override;
  Status EnsureStream(const bus::StreamConfig& config) override;
  Result<bus::PublishAck> JsPublish(const bus::JsOutbound& outbound,
                                    bus::Duration timeout) override;
  std::vector<Result<bus::PublishAck>> JsPublishAll(std::span<const bus::JsOutbound> outbound,
                                                    bus::Duration timeout) override;
  Result<std::unique_ptr<bus::Subscription>> Consume(const bus::ConsumerConfig& config,
                                                     bus::JsHandler handler) override;

  // Delivers what the clock has made due (redeliveries after the ack wait or a nak delay) and
  // any backlog. Returns how many deliveries it made.
  size_t ProcessDue();

  // What the stream holds, and a durable's counts (like the server's consumer info).
  Result<uint64_t> StreamMessageCount(std::string_view stream) const;
  struct ConsumerState {
    uint64_t num_pending = 0;      // not yet delivered
    uint64_t num_ack_pending = 0;  // delivered, not yet acked or termed
    uint64_t num_exhausted = 0;    // given up after max_deliver
  };
  Result<ConsumerState> GetConsumerState(std::string_view stream, std::string_view durable) const;

  struct State;  // internal, public only for the implementation's helpers

 private:
  std::shared_ptr<State> state_;
};

}  // namespace sb::testing
