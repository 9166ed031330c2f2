// The three messages of the SIP parser comparison (bench/RESULTS.md) and one parse + access of a
// message through each library's own API, shared by the benchmark (sip_parse_bench, CPU time)
// and the instruction counter (sip_parse_count, run under callgrind): both measure exactly this.
//
// "Parse + access" = parse the bytes, then read the top Via branch, From tag, To tag, Call-ID,
// CSeq number and method, the first Contact URI host and Content-Length; then free the message.
#pragma once

#include <benchmark/benchmark.h>

#include <string>

#include "switchboard/sip/message.h"

extern "C" {
#include <osipparser2/osip_parser.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
}

namespace sipbench {

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

inline const std::string& Select(int which) {
  return which == 0 ? kInvite : which == 1 ? kRegister : kOk;
}

// `validate` on (the default ParseOptions): the server-side checks (every Via of a request and
// the top Via of a response, From, To, Contact, CSeq, Call-ID, Max-Forwards, Content-Type parsed
// and checked). Off: only what is accessed is parsed. False when the message did not parse.
inline bool SbParseAccess(const std::string& text, const sb::sip::ParseOptions& options) {
  auto m = sb::sip::Message::Parse(text, options);
  if (!m.ok()) return false;
  benchmark::DoNotOptimize((*m->TopVia())->branch().data());
  benchmark::DoNotOptimize((*m->From())->tag().data());
  benchmark::DoNotOptimize((*m->To())->tag().data());
  benchmark::DoNotOptimize(m->CallId()->data());
  const sb::sip::CSeq* cseq = *m->GetCSeq();
  benchmark::DoNotOptimize(cseq->number);
  benchmark::DoNotOptimize(cseq->method.data());
  benchmark::DoNotOptimize((*m->FirstContact())->uri.host.data());
  benchmark::DoNotOptimize(m->ContentLength()->value());
  return true;
}

// Needs parser_init() once per process.
inline bool OsipParseAccess(const std::string& text) {
  osip_message_t* sip = nullptr;
  osip_message_init(&sip);
  if (osip_message_parse(sip, text.data(), text.size()) != 0) {
    osip_message_free(sip);
    return false;
  }
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
  return true;
}

inline bool SofiaParseAccess(msg_mclass_t const* mclass, const std::string& text) {
  msg_t* msg = msg_make(mclass, 0, text.data(), static_cast<ssize_t>(text.size()));
  sip_t* sip = sip_object(msg);
  if (msg == nullptr || sip == nullptr || sip->sip_error != nullptr) {
    if (msg != nullptr) msg_destroy(msg);
    return false;
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
  return true;
}

}  // namespace sipbench
