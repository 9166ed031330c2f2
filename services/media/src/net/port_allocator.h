// PortAllocator: the node's UDP port range, handed out as RTP/RTCP pairs: an even RTP port and
// RTP+1 for RTCP (RFC 3550 §11), reserved together even when the leg uses rtcp-mux, so that a
// later re-INVITE without rtcp-mux still has its RTCP port.
//
//   PortAllocator ports(30000, 30999);       // 500 pairs
//   auto rtp = ports.Allocate();              // 30000, then 30002, ...
//   if (!rtp.ok()) return rtp.status();       // RESOURCE_EXHAUSTED when every pair is taken
//   ports.Release(*rtp);
//
// Allocation rotates through the range instead of reusing the lowest free port, so a port just
// released is not handed out again at once and late packets of the old call do not reach the new
// one. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "switchboard/core/status.h"

namespace sb::media {

class PortAllocator {
 public:
  // The range is [min_port, max_port]; min_port is rounded up to even, and a pair needs both its
  // ports in the range.
  PortAllocator(uint16_t min_port, uint16_t max_port);

  Result<uint16_t> Allocate();
  // Returns the pair to the pool; a port that is not an allocated pair's RTP port is ignored.
  void Release(uint16_t rtp_port);

  size_t capacity() const { return in_use_.size(); }
  size_t in_use() const;

 private:
  uint16_t first_;
  mutable std::mutex mu_;
  std::vector<bool> in_use_;  // by pair index
  size_t next_ = 0;
  size_t used_ = 0;
};

}  // namespace sb::media
