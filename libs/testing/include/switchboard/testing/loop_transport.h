// LoopTransport: an in-memory datagram network for protocol tests (after PJSIP's loop transport).
// Packets are queued with a delivery time on an injected Clock; a test advances a FakeClock and
// takes what is due. Faults are rules matched against each packet as it is sent: drop it,
// duplicate it, delay it, or hold it back until the next packet on the same path has gone
// (reordering). Header-only so that unit tests need no link to the server harness.
//
//   sb::core::FakeClock clock;
//   sb::testing::LoopTransport net(clock);
//   net.Drop([](std::string_view b) { return b.starts_with("SIP/2.0 200"); });   // lose one 200
//   net.Send({"127.0.0.1", 5061}, {"127.0.0.1", 5062}, bytes);
//   for (auto& p : net.TakeDue()) Deliver(p.to, p.bytes, p.from);
//   clock.Advance(*net.NextDelivery() - clock.Now());
//
// Not thread-safe: one test thread drives it.
#pragma once

#include <algorithm>
#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "switchboard/core/clock.h"

namespace sb::testing {

struct LoopAddress {
  std::string host;
  uint16_t port = 0;
  friend auto operator<=>(const LoopAddress&, const LoopAddress&) = default;
};

class LoopTransport {
 public:
  using Match = std::function<bool(std::string_view bytes)>;
  struct Packet {
    LoopAddress from;
    LoopAddress to;
    std::string bytes;
    core::Clock::TimePoint deliver_at;
    uint64_t seq = 0;
  };

  explicit LoopTransport(const core::Clock& clock,
                         std::chrono::milliseconds latency = std::chrono::milliseconds(1))
      : clock_(clock), latency_(latency) {}

  // Each rule applies to the next `times` packets it matches.
  void Drop(Match match, size_t times = 1) { rules_.push_back({Fault::kDrop, match, times, {}}); }
  void Duplicate(Match match, size_t times = 1) {
    rules_.push_back({Fault::kDuplicate, match, times, {}});
  }
  void Delay(Match match, std::chrono::milliseconds extra, size_t times = 1) {
    rules_.push_back({Fault::kDelay, match, times, extra});
  }
  // The matching packet is delivered only after the next packet sent on the same path.
  void Reorder(Match match, size_t times = 1) {
    rules_.push_back({Fault::kReorder, match, times, {}});
  }
  static Match Any() {
    return [](std::string_view) { return true; };
  }
  static Match StartsWith(std::string prefix) {
    return [prefix](std::string_view b) { return b.substr(0, prefix.size()) == prefix; };
  }

  void Send(const LoopAddress& from, const LoopAddress& to, std::string bytes) {
    ++sent_;
    auto at = clock_.Now() + latency_;
    bool duplicate = false, reorder = false;
    for (auto& rule : rules_) {
      if (rule.remaining == 0 || !rule.match(bytes)) continue;
      --rule.remaining;
      switch (rule.fault) {
        case Fault::kDrop:
          ++dropped_;
          return;
        case Fault::kDuplicate:
          duplicate = true;
          break;
        case Fault::kDelay:
          at += rule.extra;
          break;
        case Fault::kReorder:
          reorder = true;
          break;
      }
    }
    Packet p{from, to, std::move(bytes), at, seq_++};
    // A packet held back earlier on this path goes out right after this one.
    for (auto it = held_.begin(); it != held_.end();) {
      if (it->from == from && it->to == to) {
        it->deliver_at = std::max(it->deliver_at, at);
        it->seq = seq_++;
        in_flight_.push_back(std::move(*it));
        it = held_.erase(it);
      } else {
        ++it;
      }
    }
    if (reorder) {
      held_.push_back(std::move(p));
      return;
    }
    if (duplicate) {
      Packet copy = p;
      copy.seq = seq_++;
      in_flight_.push_back(std::move(copy));
    }
    in_flight_.push_back(std::move(p));
  }

  // Everything due at clock.Now(), in delivery order.
  std::vector<Packet> TakeDue() {
    auto now = clock_.Now();
    std::vector<Packet> due;
    for (auto it = in_flight_.begin(); it != in_flight_.end();) {
      if (it->deliver_at <= now) {
        due.push_back(std::move(*it));
        it = in_flight_.erase(it);
      } else {
        ++it;
      }
    }
    std::sort(due.begin(), due.end(), [](const Packet& a, const Packet& b) {
      return std::tie(a.deliver_at, a.seq) < std::tie(b.deliver_at, b.seq);
    });
    delivered_ += due.size();
    return due;
  }

  std::optional<core::Clock::TimePoint> NextDelivery() const {
    std::optional<core::Clock::TimePoint> next;
    for (const auto& p : in_flight_) {
      if (!next || p.deliver_at < *next) next = p.deliver_at;
    }
    return next;
  }

  size_t sent() const { return sent_; }
  size_t dropped() const { return dropped_; }
  size_t delivered() const { return delivered_; }
  size_t in_flight() const { return in_flight_.size() + held_.size(); }

 private:
  enum class Fault { kDrop, kDuplicate, kDelay, kReorder };
  struct Rule {
    Fault fault;
    Match match;
    size_t remaining;
    std::chrono::milliseconds extra;
  };

  const core::Clock& clock_;
  std::chrono::milliseconds latency_;
  std::vector<Rule> rules_;
  std::vector<Packet> in_flight_;
  std::vector<Packet> held_;
  uint64_t seq_ = 0;
  size_t sent_ = 0, dropped_ = 0, delivered_ = 0;
};

}  // namespace sb::testing
