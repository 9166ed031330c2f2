// The transaction manager on a registrar's hot path, at a steady state: each iteration a REGISTER
// arrives, is answered 200 and the fake clock moves on by 1/rate s, so answered transactions are
// held for Timer J (32 s over UDP) and expire as new ones come: about rate * 32 held. What the
// cost per request does as that number grows from thousands to hundreds of thousands (a
// registration storm) is what this measures, with the heap each held transaction takes (glibc's
// count of bytes in use, the table and timer queue included, over the transactions held).
//
//   build/bench/sip/sip_transaction_bench --benchmark_repetitions=3
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <chrono>
#include <string>

#include "switchboard/core/clock.h"
#include "switchboard/sip/transaction_manager.h"

namespace {

using sb::sip::Destination;
using sb::sip::TransactionManager;
using sb::sip::TransactionOutput;
using sb::sip::Transport;

std::string Register(uint64_t n) {
  const std::string id = std::to_string(n);
  return "REGISTER sip:acme.sb.test SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-" +
         id +
         ";rport\r\n"
         "Max-Forwards: 70\r\n"
         "From: <sip:1001@acme.sb.test>;tag=t" +
         id +
         "\r\n"
         "To: <sip:1001@acme.sb.test>\r\n"
         "Call-ID: c" +
         id +
         "@127.0.0.1\r\n"
         "CSeq: 2 REGISTER\r\n"
         "Contact: <sip:1001@127.0.0.1:5061>\r\n"
         "Expires: 3600\r\n"
         "Content-Length: 0\r\n\r\n";
}

const std::string kOk =
    "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP "
    "127.0.0.1:5061;branch=z9hG4bK-0;rport=5061;received=127.0.0."
    "1\r\nFrom: <sip:1001@acme.sb.test>;tag=t0\r\nTo: <sip:1001@acme.sb.test>;tag=r\r\nCall-ID: "
    "c0@127.0.0.1\r\nCSeq: 2 REGISTER\r\nContact: <sip:1001@127.0.0.1:5061>;expires=3600\r\n"
    "Content-Length: 0\r\n\r\n";

void AnsweredRegisters(benchmark::State& state) {
  const int64_t rate = state.range(0);
  const size_t heap_before = mallinfo2().uordblks;
  sb::core::FakeClock clock;
  TransactionManager tm(clock, sb::sip::TimerConfig{}, 100'000'000);
  const Destination source{"127.0.0.1", 5061, Transport::kUdp};
  const auto step = std::chrono::nanoseconds(1'000'000'000 / rate);
  uint64_t n = 0;
  auto one = [&] {
    TransactionOutput in = tm.OnReceived(Register(n++), source);
    TransactionOutput out;
    if (in.events.empty() || !tm.SendResponse(in.events[0].key, 200, std::string(kOk), out).ok()) {
      state.SkipWithError("REGISTER not taken");
    }
    clock.Advance(step);
    benchmark::DoNotOptimize(tm.OnTimers());
  };
  // Up to the steady state first: 33 s of arrivals, the first ones expired.
  for (int64_t i = 0; i < rate * 33; ++i) one();
  state.counters["bytes_per_held"] =
      static_cast<double>(mallinfo2().uordblks - heap_before) / static_cast<double>(tm.size());
  for (auto _ : state) one();
  state.counters["held"] = static_cast<double>(tm.size());
}
BENCHMARK(AnsweredRegisters)->Arg(100)->Arg(2'000)->Arg(20'000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
