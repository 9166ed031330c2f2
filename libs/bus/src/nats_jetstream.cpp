// NatsBus: JetStream streams, publishes with acks and retries, durable pull consumers.
#include <nats/nats.h>

#include <thread>

#include "internal/nats_router.h"
#include "internal/nats_util.h"
#include "switchboard/bus/nats_bus.h"
#include "switchboard/bus/subjects.h"

namespace sb::bus {
namespace {

using internal::FromJetStream;
using internal::FromNats;
using internal::ToMillis;
using Clock = std::chrono::steady_clock;

// Worth another attempt with the same msg id: the server or the way to it is away for now.
bool Retryable(natsStatus s) {
  switch (s) {
    case NATS_TIMEOUT:
    case NATS_NO_RESPONDERS:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NOT_YET_CONNECTED:
    case NATS_STALE_CONNECTION:
    case NATS_IO_ERROR:
    case NATS_SLOW_CONSUMER:
    case NATS_INSUFFICIENT_BUFFER:
      return true;
    default:
      return false;
  }
}

// JetStream answers 503 while it recovers its store after a restart.
bool RetryableJs(jsErrCode jerr) { return jerr == 0 || jerr == 503 || jerr == JSNotEnabledErr; }

Duration Remaining(Clock::time_point deadline) {
  return std::chrono::duration_cast<Duration>(deadline - Clock::now());
}

PublishAck FromPubAck(const jsPubAck* pa) {
  return PublishAck{.stream = pa->Stream != nullptr ? pa->Stream : "",
                    .sequence = pa->Sequence,
                    .duplicate = pa->Duplicate};
}

Status PublishDeadline(const std::string& subject, const Status& last) {
  return Status::DeadlineExceeded(
      "no JetStream ack for " + subject +
      " before the deadline (is a stream capturing it?); last: " + last.ToString());
}

class NatsJsMessage final : public JsMessage {
 public:
  explicit NatsJsMessage(natsMsg* msg) : msg_(msg), message_(internal::FromNatsMsg(msg)) {
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
      delivery_count_ = meta->NumDelivered;
      stream_sequence_ = meta->Sequence.Stream;
      jsMsgMetaData_Destroy(meta);
    }
  }
  const Message& message() const override { return message_; }
  uint64_t delivery_count() const override { return delivery_count_; }
  uint64_t stream_sequence() const override { return stream_sequence_; }
  Status Ack() override {
    jsErrCode jerr = static_cast<jsErrCode>(0);
    return FromJetStream(natsMsg_AckSync(msg_, nullptr, &jerr), jerr, "ack");
  }
  Status AckNoWait() override { return FromNats(natsMsg_Ack(msg_, nullptr), "ack"); }
  Status Nak(Duration delay) override {
    if (delay <= Duration::zero()) return FromNats(natsMsg_Nak(msg_, nullptr), "nak");
    return FromNats(natsMsg_NakWithDelay(msg_, ToMillis(delay), nullptr), "nak");
  }
  Status Term() override { return FromNats(natsMsg_Term(msg_, nullptr), "term"); }
  Status InProgress() override {
    return FromNats(natsMsg_InProgress(msg_, nullptr), "in progress");
  }

 private:
  natsMsg* msg_;
  Message message_;
  uint64_t delivery_count_ = 0;
  uint64_t stream_sequence_ = 0;
};

// The fetch loop of one Consume. Shared with its thread so that a handler may destroy its own
// consumer: the thread then finishes on its own.
struct ConsumeState {
  natsSubscription* sub = nullptr;
  JsHandler handler;
  int batch = 64;
  int64_t fetch_ms = 500;
  std::atomic<bool> stop{false};
  std::thread::id thread_id;

  void Run() {
    while (!stop.load()) {
      natsMsgList list{};
      jsErrCode jerr = static_cast<jsErrCode>(0);
      natsStatus s = natsSubscription_Fetch(&list, sub, batch, fetch_ms, &jerr);
      if (s == NATS_OK) {
        for (int i = 0; i < list.Count && !stop.load(); ++i) {
          NatsJsMessage m(list.Msgs[i]);
          handler(m);
        }
        // Messages left undelivered after a stop are redelivered after the ack wait.
        natsMsgList_Destroy(&list);
      } else if (s != NATS_TIMEOUT && !stop.load()) {
        // Disconnected or the server restarting: fetch again shortly rather than spin.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    natsSubscription_Destroy(sub);
  }
};

class NatsConsumer final : public Subscription {
 public:
  NatsConsumer(std::shared_ptr<ConsumeState> state, std::thread thread)
      : state_(std::move(state)), thread_(std::move(thread)) {}
  ~NatsConsumer() override {
    // The consumer is bound (created by EnsureConsumer), so unsubscribing leaves the durable on
    // the server; it wakes a waiting fetch. Before `stop`: once the thread sees `stop` it
    // destroys the subscription.
    natsSubscription_Unsubscribe(state_->sub);
    state_->stop.store(true);
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();
    } else {
      thread_.join();
    }
  }

 private:
  std::shared_ptr<ConsumeState> state_;
  std::thread thread_;
};

}  // namespace

void NatsBus::AckRouter::OnAck(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae,
                               void* closure) {
  auto* router = static_cast<AckRouter*>(closure);
  std::shared_ptr<PublishBatch> batch;
  size_t index = 0;
  {
    std::lock_guard lock(router->mu);
    auto it = router->inflight.find(msg);
    if (it != router->inflight.end()) {
      batch = std::move(it->second.first);
      index = it->second.second;
      router->inflight.erase(it);
    }
  }
  if (batch) {
    std::lock_guard lock(batch->mu);
    if (pa != nullptr) {
      batch->results[index] = FromPubAck(pa);
    } else {
      batch->results[index] =
          FromJetStream(pae != nullptr ? pae->Err : NATS_ERR,
                        pae != nullptr ? pae->ErrCode : static_cast<jsErrCode>(0), "publish");
    }
    --batch->outstanding;
    batch->cv.notify_all();
  }
  natsMsg_Destroy(msg);
}

Status NatsBus::EnsureStream(const StreamConfig& config) {
  SB_RETURN_IF_ERROR(subjects::ValidateToken(config.name, "stream name"));
  std::vector<const char*> subjects;
  for (const auto& s : config.subjects) subjects.push_back(s.c_str());
  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  sc.Name = config.name.c_str();
  sc.Subjects = subjects.data();
  sc.SubjectsLen = static_cast<int>(subjects.size());
  sc.Storage = config.storage == Storage::kFile ? js_FileStorage : js_MemoryStorage;
  sc.Retention = config.retention == Retention::kLimits      ? js_LimitsPolicy
                 : config.retention == Retention::kWorkQueue ? js_WorkQueuePolicy
                                                             : js_InterestPolicy;
  sc.MaxAge = config.max_age.count();
  sc.MaxMsgs = config.max_msgs;
  sc.MaxBytes = config.max_bytes;
  sc.Duplicates = config.duplicate_window.count();
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsStreamInfo* si = nullptr;
  natsStatus s = js_AddStream(&si, js_, &sc, nullptr, &jerr);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(si);
    return Status::Ok();
  }
  if (jerr != JSStreamNameExistErr) {
    return FromJetStream(s, jerr, "creating stream " + config.name);
  }
  jerr = static_cast<jsErrCode>(0);
  s = js_UpdateStream(&si, js_, &sc, nullptr, &jerr);
  if (s == NATS_OK) jsStreamInfo_Destroy(si);
  return FromJetStream(s, jerr, "updating stream " + config.name);
}

Status NatsBus::DeleteStream(std::string_view name) {
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const std::string n(name);
  return FromJetStream(js_DeleteStream(js_, n.c_str(), nullptr, &jerr), jerr,
                       "deleting stream " + n);
}

Result<uint64_t> NatsBus::StreamMessageCount(std::string_view stream) {
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsStreamInfo* si = nullptr;
  const std::string n(stream);
  natsStatus s = js_GetStreamInfo(&si, js_, n.c_str(), nullptr, &jerr);
  if (s != NATS_OK) return FromJetStream(s, jerr, "stream info of " + n);
  const uint64_t count = si->State.Msgs;
  jsStreamInfo_Destroy(si);
  return count;
}

Result<NatsBus::ConsumerState> NatsBus::GetConsumerState(std::string_view stream,
                                                         std::string_view durable) {
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsConsumerInfo* ci = nullptr;
  const std::string st(stream), d(durable);
  natsStatus s = js_GetConsumerInfo(&ci, js_, st.c_str(), d.c_str(), nullptr, &jerr);
  if (s != NATS_OK) return FromJetStream(s, jerr, "consumer info of " + st + "/" + d);
  ConsumerState state{.num_pending = ci->NumPending,
                      .num_ack_pending = static_cast<uint64_t>(ci->NumAckPending),
                      .num_redelivered = static_cast<uint64_t>(ci->NumRedelivered)};
  jsConsumerInfo_Destroy(ci);
  return state;
}

Result<PublishAck> NatsBus::JsPublish(const JsOutbound& outbound, Duration timeout) {
  const auto deadline = Clock::now() + timeout;
  const std::string& subject = outbound.message.subject;
  Duration backoff = std::chrono::milliseconds(10);
  Status last = Status::DeadlineExceeded("no attempt: no time given");
  // Bounded by the deadline: every pass either returns or waits out part of the remaining time.
  while (Remaining(deadline) > Duration::zero()) {
    auto msg = internal::ToNats(outbound.message);
    if (!msg.ok()) return msg.status();
    jsPubOptions po;
    jsPubOptions_Init(&po);
    if (!outbound.msg_id.empty()) po.MsgId = outbound.msg_id.c_str();
    // A single attempt may not use up the whole deadline: a request lost with a dead connection
    // is better re-sent after the reconnect than waited for.
    po.MaxWait = ToMillis(std::min<Duration>(Remaining(deadline), std::chrono::seconds(2)));
    jsPubAck* pa = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_PublishMsg(&pa, js_, msg->get(), &po, &jerr);
    if (s == NATS_OK) {
      PublishAck ack = FromPubAck(pa);
      jsPubAck_Destroy(pa);
      return ack;
    }
    last = FromJetStream(s, jerr, "publishing to " + subject);
    if (!Retryable(s) || !RetryableJs(jerr)) return last;
    const Duration wait = std::min(backoff, Remaining(deadline));
    if (wait > Duration::zero()) std::this_thread::sleep_for(wait);
    backoff = std::min<Duration>(backoff * 2, std::chrono::milliseconds(500));
  }
  return PublishDeadline(subject, last);
}

std::vector<Result<PublishAck>> NatsBus::JsPublishAll(std::span<const JsOutbound> outbound,
                                                      Duration timeout) {
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  // Acks are awaited for three quarters of the time; the rest is for retrying what got no ack
  // one at a time (through a reconnect if need be).
  const auto ack_deadline = start + timeout * 3 / 4;
  // One batch at a time owns the asynchronous context, so reclaiming its unacked messages
  // below cannot take another batch's.
  std::lock_guard async_lock(router_->batch_mu);
  auto batch = std::make_shared<PublishBatch>();
  batch->results.resize(outbound.size());
  for (size_t i = 0; i < outbound.size() && Clock::now() < ack_deadline; ++i) {
    auto msg = internal::ToNats(outbound[i].message);
    if (!msg.ok()) {
      batch->results[i] = msg.status();
      continue;
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    if (!outbound[i].msg_id.empty()) po.MsgId = outbound[i].msg_id.c_str();
    // No per-message MaxWait: cnats 3.4 tracks those in a way that makes a 100k batch ~5x
    // slower (bench/RESULTS.md); the ack deadline above bounds the wait instead.
    natsMsg* raw = msg->release();
    {
      // Registered before sending: the ack may come back before js_PublishMsgAsync returns.
      std::lock_guard lock(router_->mu);
      router_->inflight[raw] = {batch, i};
    }
    {
      std::lock_guard lock(batch->mu);
      ++batch->outstanding;
    }
    natsMsg* sent = raw;
    natsStatus s = js_PublishMsgAsync(js_async_, &sent, &po);
    // A full window (NATS_TIMEOUT after the stall wait) drains as acks come in: wait again
    // rather than fall back to the slow one-at-a-time path. Bounded by the ack deadline.
    while (s == NATS_TIMEOUT && sent != nullptr && Clock::now() < ack_deadline) {
      s = js_PublishMsgAsync(js_async_, &sent, &po);
    }
    if (s != NATS_OK) {
      // Not taken by cnats (window stalled, disconnected): the sync retry below handles it.
      bool ours;
      {
        std::lock_guard lock(router_->mu);
        ours = router_->inflight.erase(raw) > 0;
      }
      if (ours) {
        std::lock_guard lock(batch->mu);
        --batch->outstanding;
        batch->results[i] = FromNats(s, "publishing to " + outbound[i].message.subject);
      }
      natsMsg_Destroy(sent);
    }
  }
  bool all_answered;
  {
    std::unique_lock lock(batch->mu);
    all_answered =
        batch->cv.wait_until(lock, ack_deadline, [&] { return batch->outstanding == 0; });
  }
  {
    // Acks that come later find nothing to fill.
    std::lock_guard lock(router_->mu);
    for (auto it = router_->inflight.begin(); it != router_->inflight.end();) {
      it = it->second.first == batch ? router_->inflight.erase(it) : std::next(it);
    }
  }
  if (!all_answered) {
    // Take the unanswered messages back from cnats, or they would hold window slots for ever
    // (a lost connection never acks them).
    natsMsgList pending{};
    if (js_PublishAsyncGetPendingList(&pending, js_async_) == NATS_OK) {
      natsMsgList_Destroy(&pending);
    }
  }
  std::vector<Result<PublishAck>> results;
  results.reserve(outbound.size());
  std::lock_guard lock(batch->mu);
  for (size_t i = 0; i < outbound.size(); ++i) {
    auto& r = batch->results[i];
    if (r.has_value() && (r->ok() || r->status().code() == StatusCode::kInvalidArgument)) {
      results.push_back(std::move(*r));
    } else {
      // Failed or unanswered: once more synchronously with the same msg id, so a copy the
      // stream did store is not stored twice.
      results.push_back(JsPublish(outbound[i], Remaining(deadline)));
    }
  }
  return results;
}

Status NatsBus::EnsureConsumer(const ConsumerConfig& config) {
  SB_RETURN_IF_ERROR(subjects::ValidateToken(config.durable, "durable"));
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = config.durable.c_str();
  cc.AckPolicy = js_AckExplicit;
  cc.AckWait = config.ack_wait.count();
  cc.MaxDeliver = config.max_deliver;
  cc.MaxAckPending = config.max_ack_pending;
  cc.DeliverPolicy = config.deliver_policy == DeliverPolicy::kAll ? js_DeliverAll : js_DeliverNew;
  if (!config.filter_subject.empty()) cc.FilterSubject = config.filter_subject.c_str();
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsConsumerInfo* ci = nullptr;
  natsStatus s = js_AddConsumer(&ci, js_, config.stream.c_str(), &cc, nullptr, &jerr);
  if (s == NATS_OK) {
    jsConsumerInfo_Destroy(ci);
    return Status::Ok();
  }
  const Status add = FromJetStream(s, jerr, "creating consumer " + config.durable);
  if (jerr == 0 || jerr == JSStreamNotFoundErr) return add;
  // It exists with another configuration: bring it to ours (what the server allows to change).
  jerr = static_cast<jsErrCode>(0);
  s = js_UpdateConsumer(&ci, js_, config.stream.c_str(), &cc, nullptr, &jerr);
  if (s == NATS_OK) {
    jsConsumerInfo_Destroy(ci);
    return Status::Ok();
  }
  return FromJetStream(s, jerr, "updating consumer " + config.durable);
}

Result<std::unique_ptr<Subscription>> NatsBus::Consume(const ConsumerConfig& config,
                                                       JsHandler handler) {
  SB_RETURN_IF_ERROR(EnsureConsumer(config));
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = config.stream.c_str();
  so.Consumer = config.durable.c_str();
  auto state = std::make_shared<ConsumeState>();
  state->handler = std::move(handler);
  state->batch = std::max(1, config.fetch_batch);
  state->fetch_ms = ToMillis(options_.fetch_wait);
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_PullSubscribe(
      &state->sub, js_, config.filter_subject.empty() ? nullptr : config.filter_subject.c_str(),
      config.durable.c_str(), nullptr, &so, &jerr);
  if (s != NATS_OK) {
    return FromJetStream(s, jerr,
                         "subscribing to consumer " + config.stream + "/" + config.durable);
  }
  std::thread thread([state] { state->Run(); });
  return std::unique_ptr<Subscription>(new NatsConsumer(std::move(state), std::move(thread)));
}

}  // namespace sb::bus
