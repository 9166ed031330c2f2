// The replacement operators live in this library's only translation unit, next to
// AllocationCount(): a binary that calls AllocationCount() pulls this object out of the archive,
// and with it the replacements, before the linker reaches libstdc++'s own operator new.
#include "switchboard/testing/alloc_counter.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace sb::testing {
namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

uint64_t AllocationCount() { return g_allocations.load(std::memory_order_relaxed); }

bool CountsAllocations() {
  const uint64_t before = AllocationCount();
  // volatile: the compiler may otherwise elide a new/delete pair it can see.
  int* volatile probe = new int(1);
  delete probe;
  return AllocationCount() > before;
}

}  // namespace sb::testing

#if !defined(__SANITIZE_ADDRESS__)

namespace {

void* Allocate(std::size_t size) {
  sb::testing::g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}

void* AllocateAligned(std::size_t size, std::align_val_t align) {
  sb::testing::g_allocations.fetch_add(1, std::memory_order_relaxed);
  const auto alignment = static_cast<std::size_t>(align);
  // aligned_alloc wants a size that is a multiple of the alignment.
  const std::size_t rounded = ((size == 0 ? 1 : size) + alignment - 1) / alignment * alignment;
  if (void* p = std::aligned_alloc(alignment, rounded)) return p;
  throw std::bad_alloc();
}

}  // namespace

// Every allocation goes through malloc/aligned_alloc and every release through free, so the
// forms pair up whatever the caller mixes. GCC cannot see that once delete is inlined into a
// caller, and warns about a mismatch.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t size) { return Allocate(size); }
void* operator new[](std::size_t size) { return Allocate(size); }
void* operator new(std::size_t size, std::align_val_t align) {
  return AllocateAligned(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align) {
  return AllocateAligned(size, align);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

#endif  // !defined(__SANITIZE_ADDRESS__)
