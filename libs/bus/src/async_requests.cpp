#include "switchboard/bus/async_requests.h"

#include <charconv>
#include <cstdio>
#include <random>
#include <utility>
#include <vector>

namespace sb::bus {
namespace {

// NATS's status header on a message the server made: "503" is "no responders".
constexpr std::string_view kStatusHeader = "Status";
constexpr std::string_view kNoResponders = "503";
// How often deadlines are looked at: a request fails this much past its timeout at worst, and a
// Send never has to wake the timer (a wake-up per request is what this class saves).
constexpr auto kSweepEvery = std::chrono::milliseconds(50);

std::string RandomToken() {
  std::random_device seed;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%08x%08x", seed(), seed());
  return hex;
}

}  // namespace

Result<std::unique_ptr<AsyncRequests>> AsyncRequests::Start(Bus& bus,
                                                            std::string_view inbox_prefix) {
  std::unique_ptr<AsyncRequests> requests(
      new AsyncRequests(bus, std::string(inbox_prefix) + "." + RandomToken()));
  AsyncRequests* self = requests.get();
  auto subscription =
      bus.Subscribe(requests->inbox_ + ".*", "", [self](const Message& m) { self->OnAnswer(m); });
  if (!subscription.ok()) return subscription.status();
  requests->subscription_ = std::move(*subscription);
  requests->expirer_ = std::thread([self] { self->ExpireLoop(); });
  return requests;
}

AsyncRequests::AsyncRequests(Bus& bus, std::string inbox) : bus_(bus), inbox_(std::move(inbox)) {}

AsyncRequests::~AsyncRequests() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (expirer_.joinable()) expirer_.join();
  subscription_.reset();  // waits for an answer being handled
}

void AsyncRequests::Send(Message request, Duration timeout, Done done) {
  uint64_t token;
  {
    std::lock_guard lock(mu_);
    token = next_token_++;
    pending_[token] = {request.subject, std::chrono::steady_clock::now() + timeout,
                       std::move(done)};
  }
  request.reply = inbox_ + "." + std::to_string(token);
  Status sent = bus_.Publish(request);
  if (sent.ok()) return;
  Done failed;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(token);
    if (it == pending_.end()) return;  // answered or expired meanwhile
    failed = std::move(it->second.done);
    pending_.erase(it);
  }
  failed(sent);
}

size_t AsyncRequests::waiting() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

void AsyncRequests::OnAnswer(const Message& message) {
  const std::string_view subject = message.subject;
  uint64_t token = 0;
  const std::string_view text = subject.substr(subject.rfind('.') + 1);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), token);
  if (ec != std::errc() || end != text.data() + text.size()) return;  // not one of ours
  Pending answered;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(token);
    if (it == pending_.end()) return;  // late: its deadline passed
    answered = std::move(it->second);
    pending_.erase(it);
  }
  auto status = message.headers.find(kStatusHeader);
  if (status != message.headers.end() && status->second.starts_with(kNoResponders)) {
    answered.done(Status::Unavailable("request to " + answered.subject + ": no responders"));
    return;
  }
  answered.done(message);
}

void AsyncRequests::ExpireLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const auto now = std::chrono::steady_clock::now();
    std::vector<Pending> expired;
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.deadline <= now) {
        expired.push_back(std::move(it->second));
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
    lock.unlock();
    for (Pending& p : expired) {
      p.done(Status::DeadlineExceeded("request to " + p.subject + ": no answer in time"));
    }
    lock.lock();
    wake_.wait_for(lock, kSweepEvery, [this] { return stopping_; });
  }
}

}  // namespace sb::bus
