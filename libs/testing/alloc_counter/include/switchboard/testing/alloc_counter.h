// Allocation counting for tests of paths that must not allocate (per packet, per frame).
//
// Linking sb::alloc_counter into a test binary replaces the global operator new/delete (all
// forms: plain, array, aligned, sized; nothrow forms go through the plain ones in libstdc++) with
// versions that count every allocation in the process, from any thread. Only C++ heap allocations
// are seen: a C library's malloc (libsrtp, libopus) is not.
//
//   #include "switchboard/testing/alloc_counter.h"
//
//   TEST_CASE("the packet path allocates nothing") {
//     REQUIRE(sb::testing::CountsAllocations());   // the replacement is really linked in
//     Setup();                                      // may allocate
//     sb::testing::AllocationScope scope;
//     for (int i = 0; i < 1000; ++i) HandlePacket();
//     CHECK(scope.Allocations() == 0);
//   }
//
// AddressSanitizer owns operator new itself, so under -DSB_SANITIZE=ON nothing is replaced and
// CountsAllocations() is false; tests compile their allocation checks out there with
// `#if !defined(__SANITIZE_ADDRESS__)` (Catch2 2.13 has no SKIP).
#pragma once

#include <cstdint>

namespace sb::testing {

// Allocations through operator new in this process since it started.
uint64_t AllocationCount();

// True when the counting replacement is active: allocates and frees once and checks that the
// count moved. Without it a zero count would prove nothing.
bool CountsAllocations();

// Allocations made between construction and each call of Allocations().
class AllocationScope {
 public:
  AllocationScope() : start_(AllocationCount()) {}
  uint64_t Allocations() const { return AllocationCount() - start_; }

 private:
  uint64_t start_;
};

}  // namespace sb::testing
