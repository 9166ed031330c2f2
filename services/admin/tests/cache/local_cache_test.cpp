// The in-process lookup cache: TTL on the injected clock, bounded size, invalidation, and fills
// that raced with an invalidation are not stored.
#include "cache/local_cache.h"

#include <catch2/catch.hpp>

namespace sb::admin {
namespace {

TEST_CASE("an entry is served until its TTL passes", "[admin][cache]") {
  core::FakeClock clock;
  LocalLookupCache cache(clock, {.max_entries = 10, .ttl = std::chrono::seconds(5)});
  CHECK_FALSE(cache.Get("lk:num:+15551230001"));
  cache.Put("lk:num:+15551230001", "reply", cache.Generation());
  REQUIRE(cache.Get("lk:num:+15551230001"));
  CHECK(*cache.Get("lk:num:+15551230001") == "reply");
  clock.Advance(std::chrono::milliseconds(4999));
  CHECK(cache.Get("lk:num:+15551230001"));
  clock.Advance(std::chrono::milliseconds(1));
  CHECK_FALSE(cache.Get("lk:num:+15551230001"));
  // A new value starts a new lifetime.
  cache.Put("lk:num:+15551230001", "again", cache.Generation());
  CHECK(*cache.Get("lk:num:+15551230001") == "again");
}

TEST_CASE("the cache never holds more than max_entries", "[admin][cache]") {
  core::FakeClock clock;
  LocalLookupCache cache(clock, {.max_entries = 3, .ttl = std::chrono::seconds(5)});
  for (int i = 0; i < 10; ++i) cache.Put("k" + std::to_string(i), "v", cache.Generation());
  CHECK(cache.size() == 3);
  CHECK(cache.Get("k9"));
  // Overwriting a present key does not evict another.
  cache.Put("k9", "w", cache.Generation());
  CHECK(cache.size() == 3);
  LocalLookupCache off(clock, {.max_entries = 0, .ttl = std::chrono::seconds(5)});
  off.Put("k", "v", off.Generation());
  CHECK_FALSE(off.Get("k"));
}

TEST_CASE("forgetting drops a key, a prefix or everything", "[admin][cache]") {
  core::FakeClock clock;
  LocalLookupCache cache(clock, {.max_entries = 100, .ttl = std::chrono::seconds(5)});
  for (const char* k : {"lk:src:10.0.0.1", "lk:src:10.0.0.2", "lk:srcs",
                        "lk:out:t1:1:", "lk:out:t2:1:", "lk:dom:a.example"}) {
    cache.Put(k, "v", cache.Generation());
  }
  cache.ForgetPrefix("lk:src:");
  CHECK_FALSE(cache.Get("lk:src:10.0.0.1"));
  CHECK_FALSE(cache.Get("lk:src:10.0.0.2"));
  CHECK(cache.Get("lk:srcs"));
  cache.ForgetPrefix("lk:out:t1:");
  CHECK_FALSE(cache.Get("lk:out:t1:1:"));
  CHECK(cache.Get("lk:out:t2:1:"));
  cache.Forget("lk:dom:a.example");
  CHECK_FALSE(cache.Get("lk:dom:a.example"));
  cache.ForgetAll();
  CHECK(cache.size() == 0);
}

TEST_CASE("a fill that raced with an invalidation is not stored", "[admin][cache]") {
  core::FakeClock clock;
  LocalLookupCache cache(clock, {.max_entries = 100, .ttl = std::chrono::seconds(5)});
  // A lookup misses and reads the old value from the database...
  const uint64_t before = cache.Generation();
  // ...meanwhile a mutation commits and invalidates...
  cache.Forget("lk:cred:a.example:1001");
  // ...so the old value must not be cached.
  cache.Put("lk:cred:a.example:1001", "stale", before);
  CHECK_FALSE(cache.Get("lk:cred:a.example:1001"));
  cache.Put("lk:cred:a.example:1001", "fresh", cache.Generation());
  CHECK(*cache.Get("lk:cred:a.example:1001") == "fresh");
}

}  // namespace
}  // namespace sb::admin
