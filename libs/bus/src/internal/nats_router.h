// Asynchronous JetStream publish acks: cnats calls one handler per JetStream context, so the
// router maps each in-flight message back to the JsPublishAll call and slot it belongs to.
#pragma once

#include <nats/nats.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "switchboard/bus/nats_bus.h"

namespace sb::bus {

struct PublishBatch {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::optional<Result<PublishAck>>> results;
  size_t outstanding = 0;
};

struct NatsBus::AckRouter {
  std::mutex batch_mu;  // held by the one JsPublishAll using the asynchronous context
  std::mutex mu;
  std::map<natsMsg*, std::pair<std::shared_ptr<PublishBatch>, size_t>> inflight;

  static void OnAck(jsCtx* js, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure);
};

struct ClosedSignal {
  std::mutex* mu;
  std::condition_variable* cv;
  bool* closed;
};

}  // namespace sb::bus
