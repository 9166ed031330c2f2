// The counter is what the allocation-free tests of libs/rtp, libs/codec and services/media rest
// on: it must see every form of allocation and nothing else.
#include "switchboard/testing/alloc_counter.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#if !defined(__SANITIZE_ADDRESS__)

namespace {

struct alignas(64) CacheLine {
  char bytes[64];
};

}  // namespace

TEST_CASE("alloc counter sees plain array aligned and nothrow allocations", "[unit]") {
  REQUIRE(sb::testing::CountsAllocations());
  sb::testing::AllocationScope scope;
  auto one = std::make_unique<int>(7);
  CHECK(scope.Allocations() == 1);
  auto many = std::make_unique<int[]>(100);
  CHECK(scope.Allocations() == 2);
  auto aligned = std::make_unique<CacheLine>();
  CHECK(scope.Allocations() == 3);
  CHECK(reinterpret_cast<uintptr_t>(aligned.get()) % 64 == 0);
  std::unique_ptr<int> nothrow(new (std::nothrow) int(3));
  CHECK(scope.Allocations() == 4);
  // A string past the small-string buffer allocates; one inside it does not.
  std::string longer(100, 'x');
  CHECK(scope.Allocations() == 5);
  std::string shorter(3, 'x');
  CHECK(scope.Allocations() == 5);
}

TEST_CASE("alloc counter counts nothing for stack work and frees", "[unit]") {
  std::vector<int> v(1000, 1);
  sb::testing::AllocationScope scope;
  int sum = 0;
  for (int x : v) sum += x;
  v.clear();
  v.shrink_to_fit();  // frees: not an allocation
  CHECK(sum == 1000);
  CHECK(scope.Allocations() == 0);
}

TEST_CASE("alloc counter counts allocations of other threads", "[unit]") {
  sb::testing::AllocationScope scope;
  std::thread worker([] {
    std::vector<std::unique_ptr<int>> owned;
    owned.reserve(10);
    for (int i = 0; i < 10; ++i) owned.push_back(std::make_unique<int>(i));
  });
  worker.join();
  // The thread's own state counts too (libstdc++ allocates it with new): at least our 11.
  CHECK(scope.Allocations() >= 11);
}

#endif  // !defined(__SANITIZE_ADDRESS__)
