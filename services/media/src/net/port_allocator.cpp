#include "net/port_allocator.h"

#include <string>

namespace sb::media {

PortAllocator::PortAllocator(uint16_t min_port, uint16_t max_port)
    : first_(static_cast<uint16_t>(min_port + (min_port % 2))) {
  size_t pairs = 0;
  if (max_port > first_) pairs = (static_cast<size_t>(max_port) - first_ + 1) / 2;
  in_use_.assign(pairs, false);
}

Result<uint16_t> PortAllocator::Allocate() {
  std::lock_guard lock(mu_);
  for (size_t tried = 0; tried < in_use_.size(); ++tried) {
    size_t index = next_;
    next_ = (next_ + 1) % in_use_.size();
    if (!in_use_[index]) {
      in_use_[index] = true;
      ++used_;
      return static_cast<uint16_t>(first_ + 2 * index);
    }
  }
  return Status::ResourceExhausted("all " + std::to_string(in_use_.size()) +
                                   " RTP port pairs are in use");
}

void PortAllocator::Release(uint16_t rtp_port) {
  std::lock_guard lock(mu_);
  if (rtp_port < first_ || (rtp_port - first_) % 2 != 0) return;
  size_t index = (rtp_port - first_) / 2;
  if (index < in_use_.size() && in_use_[index]) {
    in_use_[index] = false;
    --used_;
  }
}

size_t PortAllocator::in_use() const {
  std::lock_guard lock(mu_);
  return used_;
}

}  // namespace sb::media
