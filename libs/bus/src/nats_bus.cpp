// NatsBus: connection, core publish/subscribe and request/reply. JetStream is in
// nats_jetstream.cpp.
#include "switchboard/bus/nats_bus.h"

#include <nats/nats.h>

#include <thread>
#include <vector>

#include "internal/nats_router.h"
#include "internal/nats_util.h"
#include "switchboard/bus/subjects.h"

namespace sb::bus {
namespace {

using internal::FromNats;
using internal::ToMillis;

struct OptionsDeleter {
  void operator()(natsOptions* o) const { natsOptions_Destroy(o); }
};

// State shared by a core subscription and the cnats delivery thread. cnats may call the handler
// one last time after Unsubscribe, so the state lives until its on-complete callback.
struct CoreSubState {
  Handler handler;
  // Delivered messages; only the delivery thread touches them, what is left goes with the state.
  internal::RetiredMessages delivered;
  std::mutex mu;
  std::condition_variable cv;
  bool stopped = false;
  bool running = false;
  std::thread::id runner;
  bool completed = false;
};

void OnCoreMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto& state = **static_cast<std::shared_ptr<CoreSubState>*>(closure);
  state.delivered.Add(msg);  // alive until the next delivery, so through the handler below
  {
    std::lock_guard lock(state.mu);
    if (state.stopped) return;
    state.running = true;
    state.runner = std::this_thread::get_id();
  }
  state.handler(internal::FromNatsMsg(msg));
  std::lock_guard lock(state.mu);
  state.running = false;
  state.cv.notify_all();
}

void OnCoreComplete(void* closure) {
  auto* holder = static_cast<std::shared_ptr<CoreSubState>*>(closure);
  {
    auto& state = **holder;
    std::lock_guard lock(state.mu);
    state.completed = true;
    state.cv.notify_all();
  }
  delete holder;
}

class CoreSubscription final : public Subscription {
 public:
  CoreSubscription(natsSubscription* sub, std::shared_ptr<CoreSubState> state)
      : sub_(sub), state_(std::move(state)) {}

  ~CoreSubscription() override {
    bool self;
    {
      std::lock_guard lock(state_->mu);
      state_->stopped = true;
      self = state_->running && state_->runner == std::this_thread::get_id();
    }
    natsSubscription_Unsubscribe(sub_);
    if (!self) {
      // On-complete comes after the last handler call returned; the bound only guards against a
      // cnats that never calls it (the handler is already fenced off by `stopped`).
      std::unique_lock lock(state_->mu);
      state_->cv.wait_for(lock, std::chrono::seconds(5),
                          [&] { return state_->completed || !state_->running; });
    }
    natsSubscription_Destroy(sub_);
  }

 private:
  natsSubscription* sub_;
  std::shared_ptr<CoreSubState> state_;
};

int64_t ReconnectDelay(natsConnection*, int attempts, void* closure) {
  const auto& options = *static_cast<const NatsBusOptions*>(closure);
  const int64_t min_ms = ToMillis(options.reconnect_wait_min);
  const int64_t max_ms = ToMillis(options.reconnect_wait_max);
  int64_t delay = min_ms;
  for (int i = 1; i < attempts && delay < max_ms; ++i) delay *= 2;
  return std::min(delay, max_ms);
}

void OnDisconnected(natsConnection*, void* closure) {
  static_cast<std::atomic<uint64_t>*>(closure)->fetch_add(1);
}

void OnReconnected(natsConnection*, void* closure) {
  static_cast<std::atomic<uint64_t>*>(closure)->fetch_add(1);
}

}  // namespace

namespace {

// cnats spins up to 2000 times on a contended mutex before it sleeps. Here every process runs
// more threads than the machine has cores (cnats's reader and delivery threads beside the
// service's own), so the holder of a lock is often not running and the spin only burns CPU:
// admin's lookups took 14-23 % less CPU per lookup without it (bench/RESULTS.md, "Admin
// lookups"). The count is process-wide: the first nats_Open of a process sets it, so this runs
// before any other cnats call of NatsBus.
Status OpenNatsLibrary() {
  static const natsStatus opened = nats_Open(/*lockSpinCount=*/0);
  return FromNats(opened, "initialising the NATS library");
}

void OnClosed(natsConnection*, void* closure) {
  auto* signal = static_cast<ClosedSignal*>(closure);
  std::lock_guard lock(*signal->mu);
  *signal->closed = true;
  signal->cv->notify_all();
}

}  // namespace

Result<std::unique_ptr<NatsBus>> NatsBus::Connect(const NatsBusOptions& options) {
  std::unique_ptr<NatsBus> bus(new NatsBus());
  bus->options_ = options;
  bus->router_ = std::make_unique<AckRouter>();

  if (Status opened = OpenNatsLibrary(); !opened.ok()) return opened;
  natsOptions* raw = nullptr;
  natsStatus s = natsOptions_Create(&raw);
  if (s != NATS_OK) return FromNats(s, "creating NATS options");
  std::unique_ptr<natsOptions, OptionsDeleter> opts(raw);
  bus->closed_signal_.reset(new ClosedSignal{&bus->closed_mu_, &bus->closed_cv_, &bus->closed_});
  ClosedSignal* closed = bus->closed_signal_.get();
  for (natsStatus step : {
           natsOptions_SetURL(opts.get(), options.url.c_str()),
           natsOptions_SetTimeout(opts.get(), ToMillis(options.connect_timeout)),
           natsOptions_SetMaxReconnect(opts.get(), -1),
           natsOptions_SetCustomReconnectDelay(opts.get(), ReconnectDelay, &bus->options_),
           natsOptions_SetReconnectBufSize(opts.get(), options.reconnect_buffer_bytes),
           natsOptions_SetDisconnectedCB(opts.get(), OnDisconnected, &bus->disconnects_),
           natsOptions_SetReconnectedCB(opts.get(), OnReconnected, &bus->reconnects_),
           natsOptions_SetClosedCB(opts.get(), OnClosed, closed),
           // A request must not fail early because of a blip: it waits for its deadline, the
           // request itself sitting in the reconnect buffer meanwhile.
           natsOptions_SetFailRequestsOnDisconnect(opts.get(), false),
       }) {
    if (step != NATS_OK) return FromNats(step, "configuring the NATS connection");
  }
  if (!options.name.empty()) natsOptions_SetName(opts.get(), options.name.c_str());
  natsOptions_SetSendAsap(opts.get(), options.send_asap);

  s = natsConnection_Connect(&bus->nc_, opts.get());
  if (s != NATS_OK) return FromNats(s, "connecting to NATS at " + options.url);

  jsOptions jo;
  jsOptions_Init(&jo);
  s = natsConnection_JetStream(&bus->js_, bus->nc_, &jo);
  if (s != NATS_OK) return FromNats(s, "opening JetStream");

  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = options.js_publish_window;
  jo.PublishAsync.StallWait = 1000;
  jo.PublishAsync.AckHandler = &AckRouter::OnAck;
  jo.PublishAsync.AckHandlerClosure = bus->router_.get();
  s = natsConnection_JetStream(&bus->js_async_, bus->nc_, &jo);
  if (s != NATS_OK) return FromNats(s, "opening JetStream for asynchronous publishes");
  return bus;
}

NatsBus::~NatsBus() {
  if (nc_ != nullptr) {
    natsConnection_Close(nc_);
    // The closed callback is the last connection callback cnats makes: after it, nothing
    // refers to this object's counters any more.
    std::unique_lock lock(closed_mu_);
    closed_cv_.wait_for(lock, std::chrono::seconds(5), [&] { return closed_; });
  }
  if (js_async_ != nullptr) jsCtx_Destroy(js_async_);
  if (js_ != nullptr) jsCtx_Destroy(js_);
  if (nc_ != nullptr) natsConnection_Destroy(nc_);
}

bool NatsBus::connected() const { return natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED; }

Status NatsBus::Publish(const Message& message) {
  if (Status valid = internal::CheckPublishSubject(message.subject); !valid.ok()) return valid;
  // A message without headers goes out without a natsMsg: cnats gives every natsMsg it destroys
  // to its garbage-collector thread (a lock, often a wake-up), once per reply of a server.
  internal::MsgPtr msg;
  if (!message.headers.empty()) {
    auto built = internal::ToNats(message);
    if (!built.ok()) return built.status();
    msg = std::move(*built);
  }
  auto send = [&] {
    if (msg) return natsConnection_PublishMsg(nc_, msg.get());
    const int size = static_cast<int>(message.data.size());
    return message.reply.empty()
               ? natsConnection_Publish(nc_, message.subject.c_str(), message.data.data(), size)
               : natsConnection_PublishRequest(nc_, message.subject.c_str(), message.reply.c_str(),
                                               message.data.data(), size);
  };
  natsStatus s = send();
  // The write that finds the connection dead fails (nothing of it was sent) and puts cnats into
  // reconnecting, where a publish lands in the reconnect buffer like the ones after it. While
  // its reader thread is still taking the connection down, a write can fail once more (EPIPE):
  // a few more tries, a millisecond apart, bridge that moment (seen in CI).
  for (int retry = 0; s == NATS_IO_ERROR && retry < 5; ++retry) {
    if (retry > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    s = send();
  }
  return FromNats(s, "publishing to " + message.subject);
}

Status NatsBus::Flush(Duration timeout) {
  return FromNats(natsConnection_FlushTimeout(nc_, ToMillis(timeout)), "flushing");
}

Result<std::unique_ptr<Subscription>> NatsBus::Subscribe(std::string_view subject,
                                                         std::string_view queue_group,
                                                         Handler handler) {
  const std::string subj(subject);
  if (!subjects::IsValidPattern(subj)) {
    return Status::InvalidArgument("\"" + subj + "\" is not a subject to subscribe to", "subject");
  }
  auto state = std::make_shared<CoreSubState>();
  state->handler = std::move(handler);
  auto* holder = new std::shared_ptr<CoreSubState>(state);
  natsSubscription* sub = nullptr;
  natsStatus s =
      queue_group.empty()
          ? natsConnection_Subscribe(&sub, nc_, subj.c_str(), OnCoreMessage, holder)
          : natsConnection_QueueSubscribe(&sub, nc_, subj.c_str(), std::string(queue_group).c_str(),
                                          OnCoreMessage, holder);
  if (s != NATS_OK) {
    delete holder;
    return FromNats(s, "subscribing to " + subj);
  }
  s = natsSubscription_SetOnCompleteCB(sub, OnCoreComplete, holder);
  if (s != NATS_OK) {
    // Closed already (the connection went away): the holder may still be in use by a last
    // delivery, so it is left to leak rather than freed under it.
    {
      std::lock_guard lock(state->mu);
      state->stopped = true;
    }
    natsSubscription_Destroy(sub);
    return FromNats(s, "subscribing to " + subj);
  }
  std::unique_ptr<Subscription> subscription(new CoreSubscription(sub, std::move(state)));
  // cnats sends SUB from its flusher thread: without this round trip a message published from
  // another connection right after Subscribe returned could pass the SUB and never arrive.
  s = natsConnection_FlushTimeout(nc_, ToMillis(options_.connect_timeout));
  if (s != NATS_OK) return FromNats(s, "confirming the subscription to " + subj);
  return subscription;
}

Result<Message> NatsBus::Request(const Message& request, Duration timeout) {
  if (timeout <= Duration::zero()) {
    return Status::DeadlineExceeded("request to " + request.subject + ": no time left");
  }
  if (Status valid = internal::CheckPublishSubject(request.subject); !valid.ok()) return valid;
  natsMsg* reply = nullptr;
  natsStatus s;
  if (request.headers.empty()) {
    // No natsMsg to build, as in Publish.
    s = natsConnection_Request(&reply, nc_, request.subject.c_str(), request.data.data(),
                               static_cast<int>(request.data.size()), ToMillis(timeout));
  } else {
    Message outgoing = request;
    outgoing.reply.clear();
    auto msg = internal::ToNats(outgoing);
    if (!msg.ok()) return msg.status();
    s = natsConnection_RequestMsg(&reply, nc_, msg->get(), ToMillis(timeout));
  }
  if (s == NATS_NO_RESPONDERS) {
    return Status::Unavailable("request to " + request.subject + ": no responders");
  }
  if (s == NATS_TIMEOUT) {
    return Status::DeadlineExceeded("request to " + request.subject + ": no answer within " +
                                    std::to_string(ToMillis(timeout)) + " ms");
  }
  if (s != NATS_OK) return FromNats(s, "request to " + request.subject);
  Message answer = internal::FromNatsMsg(reply);
  thread_local internal::RetiredMessages replies;
  replies.Add(reply);
  return answer;
}

}  // namespace sb::bus
