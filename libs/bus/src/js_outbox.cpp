#include "switchboard/bus/js_outbox.h"

#include <algorithm>
#include <vector>

namespace sb::bus {

JsOutbox::JsOutbox(Bus& bus, JsOutboxOptions options, JsOutboxJournal* journal)
    : bus_(bus), options_(options), journal_(journal), thread_([this] { Run(); }) {}

JsOutbox::~JsOutbox() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

Status JsOutbox::Post(JsOutbound outbound, Done done) {
  if (journal_ != nullptr && outbound.msg_id.empty()) {
    return Status::InvalidArgument("msg_id: required by the outbox's journal");
  }
  return Enqueue(Item{std::move(outbound), std::move(done)});
}

Status JsOutbox::PostKept(JsOutbound outbound, Done done) {
  if (journal_ == nullptr) {
    return Status::FailedPrecondition("a kept message needs the outbox's journal to release it");
  }
  if (outbound.msg_id.empty()) return Status::InvalidArgument("msg_id: the journal's key");
  return Enqueue(Item{std::move(outbound), std::move(done), true});
}

Status JsOutbox::Enqueue(Item item) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Status::FailedPrecondition("the outbox is shutting down");
    if (queue_.size() >= options_.max_queued) {
      return Status::ResourceExhausted("JetStream outbox full: " + std::to_string(queue_.size()) +
                                       " messages wait");
    }
    queue_.push_back(std::move(item));
    ++posted_;
    // The publisher waits only for a first message, for a full batch or out its linger: any
    // other post would wake it for nothing.
    if (queue_.size() != 1 && queue_.size() != options_.max_batch) return Status::Ok();
  }
  wake_.notify_one();
  return Status::Ok();
}

void JsOutbox::Flush() {
  std::unique_lock lock(mu_);
  const uint64_t target = posted_;
  finished_.wait(lock, [&] { return completed_ >= target; });
}

size_t JsOutbox::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

uint64_t JsOutbox::batches() const {
  std::lock_guard lock(mu_);
  return batches_;
}

void JsOutbox::Run() {
  std::vector<Item> batch;
  std::vector<JsOutbound> outbound;
  std::vector<bool> kept;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (options_.linger > Duration::zero()) {
        wake_.wait_for(lock, options_.linger,
                       [&] { return stopping_ || queue_.size() >= options_.max_batch; });
      }
      // Stopping still publishes what was posted: an orderly shutdown loses nothing.
      if (queue_.empty()) return;
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    outbound.reserve(batch.size());
    for (auto& item : batch) {
      outbound.push_back(std::move(item.outbound));
      kept.push_back(item.kept);
    }
    auto results = journal_ != nullptr ? PublishJournaled(outbound, kept)
                                       : bus_.JsPublishAll(outbound, options_.timeout);
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].done) batch[i].done(results[i]);
    }
    {
      std::lock_guard lock(mu_);
      completed_ += batch.size();
      ++batches_;
    }
    finished_.notify_all();
    batch.clear();
    outbound.clear();
    kept.clear();
  }
}

std::vector<Result<PublishAck>> JsOutbox::PublishJournaled(const std::vector<JsOutbound>& outbound,
                                                           const std::vector<bool>& kept) {
  const Duration first = std::min(options_.journal_after, options_.timeout);
  auto results = bus_.JsPublishAll(outbound, first);
  std::vector<std::string> acked;
  std::vector<size_t> late;
  std::vector<JsOutbound> again, to_keep;
  for (size_t i = 0; i < outbound.size(); ++i) {
    if (results[i].ok()) {
      if (kept[i]) acked.push_back(outbound[i].msg_id);
      continue;
    }
    late.push_back(i);
    again.push_back(outbound[i]);
    if (!kept[i]) to_keep.push_back(outbound[i]);
  }
  if (!to_keep.empty()) journal_->Keep(to_keep);
  if (!late.empty() && options_.timeout > first) {
    auto retried = bus_.JsPublishAll(again, options_.timeout - first);
    for (size_t j = 0; j < late.size(); ++j) {
      if (retried[j].ok()) acked.push_back(again[j].msg_id);
      results[late[j]] = std::move(retried[j]);
    }
  }
  if (!acked.empty()) journal_->Release(acked);
  return results;
}

}  // namespace sb::bus
