// Parse-and-access and serialize throughput of sb::sip_message against oSIP2 (libosip2) and
// Sofia-SIP (libsofia-sip-ua) on the same three messages, in one run (bench/RESULTS.md).
//
// "Parse + access" = parse the bytes, then read the top Via branch, From tag, To tag, Call-ID,
// CSeq number and method, the first Contact URI host and Content-Length, through each library's
// own API; then free the message. "Serialize" = turn an already parsed message back into bytes
// with each library's own API. Items per second = messages per second, on one core (run under
// `taskset -c N`).
//
//   taskset -c 1 build-<you>/bench/sip/sip_parse_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "switchboard/sip/builder.h"
#include "switchboard/sip/message.h"
#include "switchboard/testing/alloc_counter.h"

extern "C" {
#include <osipparser2/osip_parser.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_alloc.h>
}

namespace {

const std::string kInviteSdp =
    "v=0\r\n"
    "o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.101\r\n"
    "t=0 0\r\n"
    "m=audio 49172 RTP/AVP 0 8 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=ptime:20\r\n"
    "a=sendrecv\r\n";

const std::string kOkSdp =
    "v=0\r\n"
    "o=bob 2808844564 2808844564 IN IP4 192.0.2.4\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.4\r\n"
    "t=0 0\r\n"
    "m=audio 3456 RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n";

const std::string kInvite =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "From: \"Alice Liddell\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@pc33.atlanta.example.com:5060;transport=udp>\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, UPDATE, PRACK\r\n"
    "Supported: replaces, timer, 100rel\r\n"
    "Session-Expires: 1800;refresher=uac\r\n"
    "User-Agent: Switchboard-Bench/1.0\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: " +
    std::to_string(kInviteSdp.size()) + "\r\n\r\n" + kInviteSdp;

const std::string kRegister =
    "REGISTER sip:registrar.biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7;rport\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "From: Bob <sip:bob@biloxi.example.com>;tag=456248\r\n"
    "Call-ID: 843817637684230@998sdasdh09\r\n"
    "CSeq: 1826 REGISTER\r\n"
    "Contact: <sip:bob@192.0.2.4:5060>;expires=3600\r\n"
    "Authorization: Digest username=\"bob\", realm=\"biloxi.example.com\", "
    "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"sip:registrar.biloxi.example.com\", "
    "response=\"245f23415f11432b3434341c022\", algorithm=MD5, qop=auth, nc=00000001, "
    "cnonce=\"0a4f113b\"\r\n"
    "User-Agent: Switchboard-Bench/1.0\r\n"
    "Expires: 3600\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

const std::string kOk =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP server10.biloxi.example.com;branch=z9hG4bK4b43c2ff8.1;received=192.0.2.3\r\n"
    "Via: SIP/2.0/UDP "
    "bigbox3.site3.atlanta.example.com;branch=z9hG4bK77ef4c2312983.1;received=192.0.2.2\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.1\r\n"
    "Record-Route: <sip:server10.biloxi.example.com;lr>, "
    "<sip:bigbox3.site3.atlanta.example.com;lr>\r\n"
    "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:bob@192.0.2.4>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: " +
    std::to_string(kOkSdp.size()) + "\r\n\r\n" + kOkSdp;

const std::string& Select(int which) { return which == 0 ? kInvite : which == 1 ? kRegister : kOk; }

// --- Switchboard -----------------------------------------------------------------------------

// `validate` on: the server-side checks of ParseOptions (every Via of a request and the top Via
// of a response, From, To, Contact, CSeq, Call-ID, Max-Forwards, Content-Type parsed and
// checked). Off: only what is accessed is parsed.
void SbParseAccessWith(benchmark::State& state, bool validate) {
  const std::string& text = Select(static_cast<int>(state.range(0)));
  sb::sip::ParseOptions options;
  options.validate = validate;
  uint64_t allocations_before = sb::testing::AllocationCount();
  for (auto _ : state) {
    auto m = sb::sip::Message::Parse(text, options);
    if (!m.ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize((*m->TopVia())->branch().data());
    benchmark::DoNotOptimize((*m->From())->tag().data());
    benchmark::DoNotOptimize((*m->To())->tag().data());
    benchmark::DoNotOptimize(m->CallId()->data());
    const sb::sip::CSeq* cseq = *m->GetCSeq();
    benchmark::DoNotOptimize(cseq->number);
    benchmark::DoNotOptimize(cseq->method.data());
    benchmark::DoNotOptimize((*m->FirstContact())->uri.host.data());
    benchmark::DoNotOptimize(m->ContentLength()->value());
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
    osip_message_t* sip = nullptr;
    osip_message_init(&sip);
    if (osip_message_parse(sip, text.data(), text.size()) != 0) state.SkipWithError("parse failed");
    osip_via_t* via = static_cast<osip_via_t*>(osip_list_get(&sip->vias, 0));
    osip_generic_param_t* branch = nullptr;
    osip_via_param_get_byname(via, const_cast<char*>("branch"), &branch);
    benchmark::DoNotOptimize(branch->gvalue);
    osip_generic_param_t* from_tag = nullptr;
    osip_from_get_tag(sip->from, &from_tag);
    benchmark::DoNotOptimize(from_tag);
    osip_generic_param_t* to_tag = nullptr;
    osip_to_get_tag(sip->to, &to_tag);
    benchmark::DoNotOptimize(to_tag);
    benchmark::DoNotOptimize(osip_call_id_get_number(sip->call_id));
    benchmark::DoNotOptimize(sip->cseq->number);
    benchmark::DoNotOptimize(sip->cseq->method);
    osip_contact_t* contact = nullptr;
    osip_message_get_contact(sip, 0, &contact);
    benchmark::DoNotOptimize(contact->url->host);
    benchmark::DoNotOptimize(sip->content_length->value);
    osip_message_free(sip);
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
    msg_t* msg = msg_make(mclass, 0, text.data(), static_cast<ssize_t>(text.size()));
    sip_t* sip = sip_object(msg);
    if (msg == nullptr || sip == nullptr || sip->sip_error != nullptr) {
      state.SkipWithError("parse failed");
      break;
    }
    benchmark::DoNotOptimize(sip->sip_via->v_branch);
    benchmark::DoNotOptimize(sip->sip_from->a_tag);
    benchmark::DoNotOptimize(sip->sip_to->a_tag);
    benchmark::DoNotOptimize(sip->sip_call_id->i_id);
    benchmark::DoNotOptimize(sip->sip_cseq->cs_seq);
    benchmark::DoNotOptimize(sip->sip_cseq->cs_method_name);
    benchmark::DoNotOptimize(sip->sip_contact->m_url->url_host);
    benchmark::DoNotOptimize(sip->sip_content_length->l_length);
    msg_destroy(msg);
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
