// The nonce ledger: a nonce's count must grow, a nonce pushed out of the ring is no longer
// accepted, and racing acceptors never both win the same count.
#include "switchboard/sip/nonce_ledger.h"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

using sb::sip::NonceLedger;

TEST_CASE("a nonce's count is accepted only while it grows", "[nonce_ledger]") {
  NonceLedger ledger(8);
  const uint32_t serial = ledger.Issue();
  CHECK(ledger.Accept(serial, 1));
  CHECK_FALSE(ledger.Accept(serial, 1));  // the same count again: a replay
  CHECK(ledger.Accept(serial, 2));
  CHECK(ledger.Accept(serial, 5));  // counts may skip
  CHECK_FALSE(ledger.Accept(serial, 4));
  CHECK_FALSE(ledger.Accept(serial, 5));
  CHECK(ledger.Accept(serial, 0xffffffffu));
  CHECK_FALSE(ledger.Accept(serial, 0xffffffffu));
}

TEST_CASE("each nonce has its own counts", "[nonce_ledger]") {
  NonceLedger ledger(8);
  const uint32_t a = ledger.Issue();
  const uint32_t b = ledger.Issue();
  CHECK(a != b);
  CHECK(ledger.Accept(a, 3));
  CHECK(ledger.Accept(b, 1));
  CHECK(ledger.Accept(b, 2));
  CHECK_FALSE(ledger.Accept(a, 3));
}

TEST_CASE("a nonce whose slot a later nonce took is refused", "[nonce_ledger]") {
  NonceLedger ledger(5);  // rounded up to 8 slots
  REQUIRE(ledger.slots() == 8);
  const uint32_t old = ledger.Issue();
  CHECK(ledger.Accept(old, 1));
  for (int i = 0; i < 7; ++i) ledger.Issue();
  CHECK(ledger.Accept(old, 2));  // 7 later nonces: it still has its slot
  const uint32_t taker = ledger.Issue();
  CHECK((taker & 7) == (old & 7));
  CHECK_FALSE(ledger.Accept(old, 3));  // forgotten, whatever the count
  CHECK(ledger.Accept(taker, 1));      // the new owner starts from no count
}

TEST_CASE("a serial never issued is refused", "[nonce_ledger]") {
  NonceLedger ledger(4);
  const uint32_t first = ledger.Issue();
  CHECK_FALSE(ledger.Accept(first + 4, 1));  // same slot, not its serial
  CHECK_FALSE(ledger.Accept(first + 1, 1));  // a slot not issued into yet
}

TEST_CASE("racing threads never accept one count of a nonce twice", "[nonce_ledger]") {
  constexpr uint32_t kNonces = 32;
  constexpr uint32_t kCounts = 50;
  NonceLedger ledger(64);
  std::vector<uint32_t> serials;
  for (uint32_t i = 0; i < kNonces; ++i) serials.push_back(ledger.Issue());
  std::vector<std::atomic<int>> wins(kNonces * (kCounts + 1));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (uint32_t i = 0; i < kNonces; ++i) {
        for (uint32_t nc = 1; nc <= kCounts; ++nc) {
          if (ledger.Accept(serials[i], nc)) wins[i * (kCounts + 1) + nc].fetch_add(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  int most = 0;
  for (const auto& w : wins) most = std::max(most, w.load());
  CHECK(most == 1);
  for (uint32_t i = 0; i < kNonces; ++i) {
    CHECK(wins[i * (kCounts + 1) + kCounts].load() == 1);  // every thread ends on the top count
    CHECK_FALSE(ledger.Accept(serials[i], kCounts));
  }
}
