#include "switchboard/testing/in_memory_bus.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <optional>

#include "switchboard/bus/subjects.h"

namespace sb::testing {
namespace {

using bus::Duration;
using bus::JsMessage;
using bus::Message;
using bus::subjects::Matches;
using TimePoint = core::Clock::TimePoint;

// A pump that never ends (a handler that naks itself for ever with no max_deliver) stops here;
// the rest waits for the next call.
constexpr size_t kMaxDeliveriesPerPump = 100'000;

// A handler plus what makes it safe to call from any thread and to stop: calls of one
// subscription are serialised (recursively, so a handler may publish to itself), and stopping
// waits for a call running on another thread.
template <typename Fn>
struct Entry {
  Fn fn;
  std::recursive_mutex call_mu;
  std::atomic<bool> stopped{false};

  template <typename... Args>
  void Call(Args&... args) {
    std::lock_guard lock(call_mu);
    if (!stopped.load()) fn(args...);
  }
  void Stop() {
    stopped.store(true);
    std::lock_guard lock(call_mu);  // waits out a running call on another thread
  }
};

using CoreEntry = Entry<bus::Handler>;
using JsEntry = Entry<bus::JsHandler>;

struct CoreSub {
  uint64_t id;
  std::string pattern;
  std::string queue;
  std::shared_ptr<CoreEntry> entry;
};

struct Stored {
  uint64_t seq;
  Message message;
};

struct Pending {
  uint64_t deliveries = 0;
  TimePoint due;
};

struct Consumer {
  bus::ConsumerConfig config;
  uint64_t next_seq = 1;  // the first message never delivered to this consumer
  std::map<uint64_t, Pending> pending;
  uint64_t exhausted = 0;
  std::vector<std::pair<uint64_t, std::shared_ptr<JsEntry>>> handlers;
  size_t round_robin = 0;
};

struct Stream {
  bus::StreamConfig config;
  std::deque<Stored> messages;
  uint64_t last_seq = 0;
  std::map<std::string, std::pair<uint64_t, TimePoint>> msg_ids;
  std::map<std::string, Consumer> consumers;

  bool Captures(std::string_view subject) const {
    return std::any_of(config.subjects.begin(), config.subjects.end(),
                       [&](const std::string& p) { return Matches(p, subject); });
  }
  const Stored* Find(uint64_t seq) const {
    if (messages.empty() || seq < messages.front().seq || seq > messages.back().seq) return nullptr;
    return &messages[seq - messages.front().seq];
  }
};

struct Work {
  std::shared_ptr<JsEntry> entry;
  std::string stream;
  std::string durable;
  uint64_t seq = 0;
  uint64_t deliveries = 0;
  Message message;
};

thread_local std::vector<const void*> tl_pumping;

}  // namespace

struct InMemoryBus::State : std::enable_shared_from_this<InMemoryBus::State> {
  explicit State(const core::Clock& c) : clock(c) {}

  const core::Clock& clock;
  mutable std::mutex mu;
  uint64_t next_id = 1;
  std::vector<CoreSub> subs;
  std::map<std::string, size_t> queue_round_robin;
  std::map<std::string, Stream> streams;

  // Under mu: the next JetStream delivery due now, if any.
  std::optional<Work> NextWork() {
    const TimePoint now = clock.Now();
    for (auto& [stream_name, stream] : streams) {
      for (auto& [durable, c] : stream.consumers) {
        if (c.handlers.empty()) continue;
        auto due = std::find_if(c.pending.begin(), c.pending.end(),
                                [&](const auto& p) { return p.second.due <= now; });
        // Past max_deliver the server gives a message up: it stays unacked but is never sent
        // again. Drop such entries until a deliverable one is found.
        while (due != c.pending.end() && c.config.max_deliver > 0 &&
               due->second.deliveries >= static_cast<uint64_t>(c.config.max_deliver)) {
          ++c.exhausted;
          due = c.pending.erase(due);
          due = std::find_if(due, c.pending.end(),
                             [&](const auto& p) { return p.second.due <= now; });
        }
        uint64_t seq = 0;
        if (due != c.pending.end()) {
          seq = due->first;
        } else if (c.pending.size() <
                   static_cast<size_t>(std::max<int64_t>(1, c.config.max_ack_pending))) {
          while (c.next_seq <= stream.last_seq) {
            const Stored* m = stream.Find(c.next_seq);
            if (m != nullptr && (c.config.filter_subject.empty() ||
                                 Matches(c.config.filter_subject, m->message.subject))) {
              seq = c.next_seq++;
              break;
            }
            ++c.next_seq;
          }
        }
        if (seq == 0) continue;
        const Stored* m = stream.Find(seq);
        if (m == nullptr) {  // trimmed away by max_msgs meanwhile
          c.pending.erase(seq);
          continue;
        }
        Pending& p = c.pending[seq];
        ++p.deliveries;
        p.due = now + c.config.ack_wait;
        auto& handler = c.handlers[c.round_robin++ % c.handlers.size()].second;
        return Work{handler, stream_name, durable, seq, p.deliveries, m->message};
      }
    }
    return std::nullopt;
  }

  // Runs due JetStream deliveries on this thread unless this thread is already doing so
  // further up the stack (then that outer loop picks them up).
  size_t Pump() {
    if (std::find(tl_pumping.begin(), tl_pumping.end(), this) != tl_pumping.end()) return 0;
    tl_pumping.push_back(this);
    size_t delivered = 0;
    for (; delivered < kMaxDeliveriesPerPump; ++delivered) {
      std::optional<Work> work;
      {
        std::lock_guard lock(mu);
        work = NextWork();
      }
      if (!work) break;
      Deliver(*work);
    }
    tl_pumping.pop_back();
    return delivered;
  }

  void Deliver(Work& work);

  enum class Settle { kAck, kNak, kTerm, kInProgress };
  void SettleMessage(const Work& work, Settle how, Duration delay) {
    std::lock_guard lock(mu);
    auto s = streams.find(work.stream);
    if (s == streams.end()) return;
    auto c = s->second.consumers.find(work.durable);
    if (c == s->second.consumers.end()) return;
    auto p = c->second.pending.find(work.seq);
    // Settled already, or redelivered since (a late ack still counts, as on the server).
    if (p == c->second.pending.end()) return;
    switch (how) {
      case Settle::kAck:
      case Settle::kTerm:
        c->second.pending.erase(p);
        break;
      case Settle::kNak:
        p->second.due = clock.Now() + std::max(delay, Duration::zero());
        break;
      case Settle::kInProgress:
        p->second.due = clock.Now() + c->second.config.ack_wait;
        break;
    }
  }
};

namespace {

class InMemoryJsMessage final : public JsMessage {
 public:
  InMemoryJsMessage(InMemoryBus::State& state, const Work& work) : state_(state), work_(work) {}
  const Message& message() const override { return work_.message; }
  uint64_t delivery_count() const override { return work_.deliveries; }
  uint64_t stream_sequence() const override { return work_.seq; }
  Status Ack() override { return Settle(InMemoryBus::State::Settle::kAck, {}); }
  Status AckNoWait() override { return Settle(InMemoryBus::State::Settle::kAck, {}); }
  Status Nak(Duration delay) override { return Settle(InMemoryBus::State::Settle::kNak, delay); }
  Status Term() override { return Settle(InMemoryBus::State::Settle::kTerm, {}); }
  Status InProgress() override { return Settle(InMemoryBus::State::Settle::kInProgress, {}); }

 private:
  Status Settle(InMemoryBus::State::Settle how, Duration delay) {
    state_.SettleMessage(work_, how, delay);
    return Status::Ok();
  }
  InMemoryBus::State& state_;
  const Work& work_;
};

class CoreSubscription final : public bus::Subscription {
 public:
  CoreSubscription(std::shared_ptr<InMemoryBus::State> state, uint64_t id,
                   std::shared_ptr<CoreEntry> entry)
      : state_(std::move(state)), id_(id), entry_(std::move(entry)) {}
  ~CoreSubscription() override {
    {
      std::lock_guard lock(state_->mu);
      std::erase_if(state_->subs, [&](const CoreSub& s) { return s.id == id_; });
    }
    entry_->Stop();
  }

 private:
  std::shared_ptr<InMemoryBus::State> state_;
  uint64_t id_;
  std::shared_ptr<CoreEntry> entry_;
};

class JsSubscription final : public bus::Subscription {
 public:
  JsSubscription(std::shared_ptr<InMemoryBus::State> state, std::string stream, std::string durable,
                 uint64_t id, std::shared_ptr<JsEntry> entry)
      : state_(std::move(state)),
        stream_(std::move(stream)),
        durable_(std::move(durable)),
        id_(id),
        entry_(std::move(entry)) {}
  ~JsSubscription() override {
    {
      std::lock_guard lock(state_->mu);
      auto s = state_->streams.find(stream_);
      if (s != state_->streams.end()) {
        auto c = s->second.consumers.find(durable_);
        if (c != s->second.consumers.end()) {
          std::erase_if(c->second.handlers, [&](const auto& h) { return h.first == id_; });
        }
      }
    }
    entry_->Stop();
  }

 private:
  std::shared_ptr<InMemoryBus::State> state_;
  std::string stream_;
  std::string durable_;
  uint64_t id_;
  std::shared_ptr<JsEntry> entry_;
};

}  // namespace

void InMemoryBus::State::Deliver(Work& work) {
  InMemoryJsMessage m(*this, work);
  work.entry->Call(static_cast<JsMessage&>(m));
}

InMemoryBus::InMemoryBus(const core::Clock& clock) : state_(std::make_shared<State>(clock)) {}
InMemoryBus::~InMemoryBus() = default;

Status InMemoryBus::Publish(const Message& message) {
  if (!bus::subjects::IsValidSubject(message.subject)) {
    return Status::InvalidArgument("\"" + message.subject + "\" is not a subject to publish to",
                                   "subject");
  }
  std::vector<std::shared_ptr<CoreEntry>> targets;
  {
    std::lock_guard lock(state_->mu);
    std::map<std::string, std::vector<std::shared_ptr<CoreEntry>>> groups;
    for (const auto& s : state_->subs) {
      if (!Matches(s.pattern, message.subject)) continue;
      if (s.queue.empty()) {
        targets.push_back(s.entry);
      } else {
        groups[s.queue].push_back(s.entry);
      }
    }
    for (auto& [queue, members] : groups) {
      targets.push_back(members[state_->queue_round_robin[queue]++ % members.size()]);
    }
  }
  for (auto& t : targets) t->Call(message);
  return Status::Ok();
}

Result<std::unique_ptr<bus::Subscription>> InMemoryBus::Subscribe(std::string_view subject,
                                                                  std::string_view queue_group,
                                                                  bus::Handler handler) {
  if (!bus::subjects::IsValidPattern(subject)) {
    return Status::InvalidArgument(
        "\"" + std::string(subject) + "\" is not a subject to subscribe to", "subject");
  }
  auto entry = std::make_shared<CoreEntry>();
  entry->fn = std::move(handler);
  std::lock_guard lock(state_->mu);
  const uint64_t id = state_->next_id++;
  state_->subs.push_back({id, std::string(subject), std::string(queue_group), entry});
  return std::unique_ptr<bus::Subscription>(new CoreSubscription(state_, id, entry));
}

Result<Message> InMemoryBus::Request(const Message& request, Duration timeout) {
  if (timeout <= Duration::zero()) {
    return Status::DeadlineExceeded("request to " + request.subject + ": no time left");
  }
  {
    std::lock_guard lock(state_->mu);
    const bool anyone =
        std::any_of(state_->subs.begin(), state_->subs.end(),
                    [&](const CoreSub& s) { return Matches(s.pattern, request.subject); });
    if (!anyone) return Status::Unavailable("request to " + request.subject + ": no responders");
  }
  struct Slot {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<Message> reply;
  };
  auto slot = std::make_shared<Slot>();
  std::string inbox;
  {
    std::lock_guard lock(state_->mu);
    inbox = "_INBOX.mem." + std::to_string(state_->next_id++);
  }
  auto sub = Subscribe(inbox, "", [slot](const Message& m) {
    std::lock_guard lock(slot->mu);
    if (!slot->reply) slot->reply = m;
    slot->cv.notify_all();
  });
  if (!sub.ok()) return sub.status();
  Message outgoing = request;
  outgoing.reply = inbox;
  SB_RETURN_IF_ERROR(Publish(outgoing));
  std::unique_lock lock(slot->mu);
  if (!slot->cv.wait_for(lock, timeout, [&] { return slot->reply.has_value(); })) {
    return Status::DeadlineExceeded("request to " + request.subject + ": no answer in time");
  }
  return *slot->reply;
}

Status InMemoryBus::EnsureStream(const bus::StreamConfig& config) {
  SB_RETURN_IF_ERROR(bus::subjects::ValidateToken(config.name, "stream name"));
  if (config.subjects.empty()) {
    return Status::InvalidArgument("stream " + config.name + " needs subjects", "subjects");
  }
  for (const auto& s : config.subjects) {
    if (!bus::subjects::IsValidPattern(s)) {
      return Status::InvalidArgument("\"" + s + "\" is not a subject pattern", "subjects");
    }
  }
  std::lock_guard lock(state_->mu);
  state_->streams[config.name].config = config;  // creates, or updates in place
  return Status::Ok();
}

Result<bus::PublishAck> InMemoryBus::JsPublish(const bus::JsOutbound& outbound, Duration) {
  const Message& message = outbound.message;
  if (!bus::subjects::IsValidSubject(message.subject)) {
    return Status::InvalidArgument("\"" + message.subject + "\" is not a subject to publish to",
                                   "subject");
  }
  bus::PublishAck ack;
  {
    std::lock_guard lock(state_->mu);
    auto it = std::find_if(state_->streams.begin(), state_->streams.end(),
                           [&](const auto& s) { return s.second.Captures(message.subject); });
    if (it == state_->streams.end()) {
      // NatsBus retries until its deadline when no stream answers; here nothing could change
      // that, so the deadline is as good as passed.
      return Status::DeadlineExceeded("no JetStream ack for " + message.subject +
                                      " before the deadline (is a stream capturing it?)");
    }
    Stream& stream = it->second;
    const TimePoint now = state_->clock.Now();
    ack.stream = it->first;
    if (!outbound.msg_id.empty()) {
      auto seen = stream.msg_ids.find(outbound.msg_id);
      if (seen != stream.msg_ids.end() &&
          now - seen->second.second < stream.config.duplicate_window) {
        ack.sequence = seen->second.first;
        ack.duplicate = true;
        return ack;
      }
    }
    Stored stored{++stream.last_seq, message};
    if (!outbound.msg_id.empty()) {
      stored.message.headers[std::string(bus::kMsgIdHeader)] = outbound.msg_id;
      stream.msg_ids[outbound.msg_id] = {stored.seq, now};
    }
    ack.sequence = stored.seq;
    stream.messages.push_back(std::move(stored));
    if (stream.config.max_msgs > 0) {
      while (stream.messages.size() > static_cast<size_t>(stream.config.max_msgs)) {
        stream.messages.pop_front();
      }
    }
  }
  state_->Pump();
  return ack;
}

std::vector<Result<bus::PublishAck>> InMemoryBus::JsPublishAll(
    std::span<const bus::JsOutbound> outbound, Duration timeout) {
  std::vector<Result<bus::PublishAck>> results;
  results.reserve(outbound.size());
  for (const auto& o : outbound) results.push_back(JsPublish(o, timeout));
  return results;
}

Result<std::unique_ptr<bus::Subscription>> InMemoryBus::Consume(const bus::ConsumerConfig& config,
                                                                bus::JsHandler handler) {
  SB_RETURN_IF_ERROR(bus::subjects::ValidateToken(config.durable, "durable"));
  if (config.ack_wait <= Duration::zero()) {
    return Status::InvalidArgument("ack_wait must be positive", "ack_wait");
  }
  auto entry = std::make_shared<JsEntry>();
  entry->fn = std::move(handler);
  uint64_t id;
  {
    std::lock_guard lock(state_->mu);
    auto s = state_->streams.find(config.stream);
    if (s == state_->streams.end()) return Status::NotFound("no stream " + config.stream);
    auto [c, created] = s->second.consumers.try_emplace(config.durable);
    if (created && config.deliver_policy == bus::DeliverPolicy::kNew) {
      c->second.next_seq = s->second.last_seq + 1;
    }
    c->second.config = config;
    id = state_->next_id++;
    c->second.handlers.emplace_back(id, entry);
  }
  auto sub = std::unique_ptr<bus::Subscription>(
      new JsSubscription(state_, config.stream, config.durable, id, entry));
  state_->Pump();
  return sub;
}

size_t InMemoryBus::ProcessDue() { return state_->Pump(); }

Result<uint64_t> InMemoryBus::StreamMessageCount(std::string_view stream) const {
  std::lock_guard lock(state_->mu);
  auto s = state_->streams.find(std::string(stream));
  if (s == state_->streams.end()) return Status::NotFound("no stream " + std::string(stream));
  return static_cast<uint64_t>(s->second.messages.size());
}

Result<InMemoryBus::ConsumerState> InMemoryBus::GetConsumerState(std::string_view stream,
                                                                 std::string_view durable) const {
  std::lock_guard lock(state_->mu);
  auto s = state_->streams.find(std::string(stream));
  if (s == state_->streams.end()) return Status::NotFound("no stream " + std::string(stream));
  auto c = s->second.consumers.find(std::string(durable));
  if (c == s->second.consumers.end()) {
    return Status::NotFound("no consumer " + std::string(durable));
  }
  ConsumerState out;
  for (uint64_t seq = c->second.next_seq; seq <= s->second.last_seq; ++seq) {
    const Stored* m = s->second.Find(seq);
    if (m != nullptr && (c->second.config.filter_subject.empty() ||
                         Matches(c->second.config.filter_subject, m->message.subject))) {
      ++out.num_pending;
    }
  }
  out.num_ack_pending = c->second.pending.size();
  out.num_exhausted = c->second.exhausted;
  return out;
}

}  // namespace sb::testing
