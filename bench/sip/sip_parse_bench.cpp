// Parse-and-access and serialize throughput of sb::sip_message against oSIP2 (libosip2) and
// Sofia-SIP (libsofia-sip-ua) on the same three messages, in one run (bench/RESULTS.md).
//
// "Parse + access" (sip_messages.h, shared with sip_parse_count) = parse the bytes, then read the
// top Via branch, From tag, To tag, Call-ID, CSeq number and method, the first Contact URI host
// and Content-Length, through each library's own API; then free the message. "Serialize" = turn an
// already parsed message back into bytes with each library's own API. Items per second = messages
// per second, on one core (run under `taskset -c N`).
//
//   taskset -c 1 build-<you>/bench/sip/sip_parse_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "sip_messages.h"
#include "switchboard/sip/builder.h"
#include "switchboard/sip/message.h"
#include "switchboard/testing/alloc_counter.h"

extern "C" {
#include <sofia-sip/su_alloc.h>
}

namespace {

using sipbench::Select;

// --- Switchboard -----------------------------------------------------------------------------

void SbParseAccessWith(benchmark::State& state, bool validate) {
  const std::string& text = Select(static_cast<int>(state.range(0)));
  sb::sip::ParseOptions options;
  options.validate = validate;
  uint64_t allocations_before = sb::testing::AllocationCount();
  for (auto _ : state) {
    if (!sipbench::SbParseAccess(text, options)) state.SkipWithError("parse failed");
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["allocs/msg"] =
      benchmark::Counter(static_cast<double>(sb::testing::AllocationCount() - allocations_before) /
                         static_cast<double>(state.iterations()));
}

void SbParseAccess(benchmark::State& state) { SbParseAccessWith(state, true); }
void SbParseAccessLazy(benchmark::State& state) { SbParseAccessWith(state, false); }

void SbSerialize(benchmark::State& state) {
  auto m = sb::sip::Message::Parse(Select(static_cast<int>(state.range(0))));
  for (auto _ : state) {
    std::string out = m->Serialize();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}

// Re-serialization from the header list (what a proxy does after editing a message).
void SbRebuild(benchmark::State& state) {
  auto m = sb::sip::Message::Parse(Select(static_cast<int>(state.range(0))));
  for (auto _ : state) {
    std::string out = sb::sip::MessageBuilder::FromMessage(*m).Build();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}

// --- oSIP2 -----------------------------------------------------------------------------------

void OsipParseAccess(benchmark::State& state) {
  const std::string& text = Select(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    if (!sipbench::OsipParseAccess(text)) state.SkipWithError("parse failed");
  }
  state.SetItemsProcessed(state.iterations());
}

void OsipSerialize(benchmark::State& state) {
  const std::string& text = Select(static_cast<int>(state.range(0)));
  osip_message_t* sip = nullptr;
  osip_message_init(&sip);
  osip_message_parse(sip, text.data(), text.size());
  for (auto _ : state) {
    char* out = nullptr;
    size_t len = 0;
    if (osip_message_to_str(sip, &out, &len) != 0) state.SkipWithError("to_str failed");
    benchmark::DoNotOptimize(out);
    osip_free(out);
  }
  osip_message_free(sip);
  state.SetItemsProcessed(state.iterations());
}

// --- Sofia-SIP -------------------------------------------------------------------------------

void SofiaParseAccess(benchmark::State& state) {
  const std::string& text = Select(static_cast<int>(state.range(0)));
  msg_mclass_t const* mclass = sip_default_mclass();
  for (auto _ : state) {
    if (!sipbench::SofiaParseAccess(mclass, text)) {
      state.SkipWithError("parse failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void SofiaSerialize(benchmark::State& state) {
  const std::string& text = Select(static_cast<int>(state.range(0)));
  msg_t* msg = msg_make(sip_default_mclass(), 0, text.data(), static_cast<ssize_t>(text.size()));
  su_home_t* home = static_cast<su_home_t*>(su_home_new(sizeof(su_home_t)));
  for (auto _ : state) {
    size_t len = 0;
    char* out = msg_as_string(home, msg, nullptr, 0, &len);
    if (out == nullptr) state.SkipWithError("msg_as_string failed");
    benchmark::DoNotOptimize(out);
    su_free(home, out);
  }
  su_home_unref(home);
  msg_destroy(msg);
  state.SetItemsProcessed(state.iterations());
}

void Args(benchmark::internal::Benchmark* b) {
  b->ArgName("msg")->Arg(0)->Arg(1)->Arg(2);  // 0 INVITE+SDP, 1 REGISTER, 2 200 OK
}

BENCHMARK(SbParseAccess)->Apply(Args);
BENCHMARK(SbParseAccessLazy)->Apply(Args);
BENCHMARK(OsipParseAccess)->Apply(Args);
BENCHMARK(SofiaParseAccess)->Apply(Args);
BENCHMARK(SbSerialize)->Apply(Args);
BENCHMARK(SbRebuild)->Apply(Args);
BENCHMARK(OsipSerialize)->Apply(Args);
BENCHMARK(SofiaSerialize)->Apply(Args);

}  // namespace

int main(int argc, char** argv) {
  parser_init();  // oSIP2's one-time parser tables
  // Every message must parse in all three libraries, or the comparison means nothing.
  for (int i = 0; i < 3; ++i) {
    const std::string& text = Select(i);
    if (auto m = sb::sip::Message::Parse(text); !m.ok()) {
      std::fprintf(stderr, "message %d: sb::sip: %s\n", i, m.error().ToString().c_str());
      return 1;
    }
    osip_message_t* sip = nullptr;
    osip_message_init(&sip);
    if (osip_message_parse(sip, text.data(), text.size()) != 0) {
      std::fprintf(stderr, "message %d: oSIP2 cannot parse it\n", i);
      return 1;
    }
    osip_message_free(sip);
    msg_t* msg = msg_make(sip_default_mclass(), 0, text.data(), static_cast<ssize_t>(text.size()));
    if (msg == nullptr || sip_object(msg)->sip_error != nullptr) {
      std::fprintf(stderr, "message %d: Sofia-SIP cannot parse it\n", i);
      return 1;
    }
    msg_destroy(msg);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
