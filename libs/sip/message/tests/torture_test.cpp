// RFC 4475 torture messages (../shared/conformance/sip-torture, located through the
// SB_SIP_TORTURE_DIR compile definition): each valid message parses with the fields the RFC
// names; each invalid one gives the outcome expectations.tsv asks for. Every file must have a row
// here, and every row a file.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "switchboard/sip/framer.h"
#include "switchboard/sip/message.h"
#include "switchboard/sip/multipart.h"

#ifndef SB_SIP_TORTURE_DIR
#error "SB_SIP_TORTURE_DIR must name the sip-torture folder"
#endif

namespace sb::sip {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

fs::path TortureDir() {
  fs::path dir(SB_SIP_TORTURE_DIR);
  INFO("the RFC 4475 torture folder must exist at " << dir.string()
                                                    << " (shared/ beside the repository)");
  REQUIRE(fs::is_directory(dir));
  REQUIRE(fs::exists(dir / "expectations.tsv"));
  return dir;
}

// name -> valid/invalid column of expectations.tsv
std::map<std::string, std::string> ReadExpectations(const fs::path& dir) {
  std::map<std::string, std::string> rows;
  std::istringstream tsv(ReadFile(dir / "expectations.tsv"));
  std::string line;
  std::getline(tsv, line);  // header row
  while (std::getline(tsv, line)) {
    if (line.empty()) continue;
    size_t tab = line.find('\t');
    size_t tab2 = line.find('\t', tab + 1);
    rows[line.substr(0, tab)] = line.substr(tab + 1, tab2 - tab - 1);
  }
  return rows;
}

std::vector<std::string_view> Transports(const Message& m) {
  std::vector<std::string_view> out;
  for (std::string_view v : m.Values(HeaderId::kVia)) out.push_back(ParseVia(v)->transport);
  return out;
}

using Check = std::function<void(const Message&)>;

struct Case {
  std::string name;
  bool valid;               // the tsv's column
  int status;               // -1: parses with the default (server) options; else the error status
  Check check;              // for messages that parse: the fields the RFC lists
  std::string reason = {};  // expected reason phrase, when the outcome is an error
};

ParseOptions Lenient() {
  ParseOptions o;
  o.validate = false;
  return o;
}

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"wsinv", true, -1,
       [](const Message& m) {
         CHECK(m.method() == Method::kInvite);
         std::vector<Via> vias;
         for (auto v : m.Values(HeaderId::kVia)) vias.push_back(*ParseVia(v));
         REQUIRE(vias.size() == 3);
         CHECK(vias[0].transport == "UDP");
         CHECK(vias[0].host == "192.0.2.2");
         CHECK(vias[0].branch() == "390skdjuw");
         CHECK(vias[1].transport == "TCP");
         CHECK(vias[1].host == "spindle.example.com");
         CHECK(vias[1].branch() == "z9hG4bK9ikj8");
         CHECK(vias[2].transport == "UDP");
         CHECK(vias[2].host == "192.168.255.111");
         CHECK(vias[2].branch() == "z9hG4bK30239");
         CHECK(m.MaxForwards()->value() == 68);
         CHECK((*m.GetCSeq())->number == 9);
         CHECK((*m.GetCSeq())->method == "INVITE");
         CHECK(m.Header(HeaderId::kSubject) == std::string_view(""));
         auto contacts = *m.NameAddrs(HeaderId::kContact);
         REQUIRE(contacts.size() == 1);
         CHECK(contacts[0].DisplayNameUnquoted() == "Quoted string \"\"");
         CHECK(contacts[0].params().Get("q") == "0.33");
         CHECK(contacts[0].params().Get("newparam") == "newvalue");
         CHECK(contacts[0].params().Has("secondparam"));
         CHECK(m.Header("UnknownHeaderWithUnusualValue") == ";;,,;;,;");
         CHECK((*m.To())->tag() == "1918181833n");
         CHECK((*m.From())->tag() == "98asjd8");
         CHECK((*m.From())->DisplayNameUnquoted() == "J Rosenberg \\\"");
         CHECK(m.body().size() == 150);
       }},
      {"intmeth", true, -1,
       [](const Message& m) {
         CHECK(m.method() == Method::kUnknown);
         CHECK(m.method_text() == "!interesting-Method0123456789_*+`.%indeed'~");
         CHECK((*m.GetCSeq())->method == m.method_text());
         CHECK(m.request_uri().user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
         CHECK(m.request_uri().password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
         CHECK((*m.To())->DisplayNameUnquoted() == std::string("BEL:\x07 NUL:\0 DEL:\x7F", 17));
         CHECK((*m.From())->tag() == "_token~1'+`*%!-.");
         CHECK((*m.TopVia())->branch() == "z9hG4bK-.!%66*_+`'~");
       }},
      {"esc01", true, -1,
       [](const Message& m) {
         CHECK(m.request_uri().UserUnescaped() == "sips:user@example.com");
         CHECK(m.request_uri().host == "example.net");
         CHECK((*m.To())->uri.UserUnescaped() == "user");
         CHECK((*m.From())->uri.UserUnescaped() == "I have spaces");
         auto contacts = *m.NameAddrs(HeaderId::kContact);
         REQUIRE(contacts.size() == 1);
         CHECK(contacts[0].uri.ParamUnescaped("lr") == std::string());
         CHECK(contacts[0].uri.ParamUnescaped("name") == "value%41");
       }},
      {"escnull", true, -1,
       [](const Message& m) {
         CHECK((*m.To())->uri.UserUnescaped() == std::string("null-\0-null", 11));
         auto contacts = *m.NameAddrs(HeaderId::kContact);
         REQUIRE(contacts.size() == 2);
         CHECK(contacts[0].uri.UserUnescaped() == std::string(1, '\0'));
         CHECK(contacts[1].uri.UserUnescaped() == std::string(2, '\0'));
         CHECK_FALSE(UriEquivalent(contacts[0].uri, contacts[1].uri));
       }},
      {"esc02", true, -1,
       [](const Message& m) {
         CHECK(m.method() == Method::kUnknown);
         CHECK(m.method_text() == "RE%47IST%45R");
         CHECK((*m.To())->display_name == "%Z%45");
         CHECK((*m.From())->display_name == "%Z%45");
         CHECK(m.Values(HeaderId::kContact).size() == 2);
         CHECK(m.Header("C%6Fntact") == "<sip:alias2@host2.example.com>");
       }},
      {"lwsdisp", true, -1,
       [](const Message& m) {
         CHECK((*m.From())->display_name == "caller");
         CHECK((*m.From())->tag() == "323");
       }},
      {"longreq", true, -1,
       [](const Message& m) {
         CHECK(m.Values(HeaderId::kVia).size() == 34);
         CHECK((*m.To())->display_name.size() > 80);
         CHECK((*m.From())->tag().size() > 100);
         CHECK((*m.CallId()).size() > 100);
         CHECK(m.raw().size() == 3515);
       }},
      {"dblreq", true, -1,
       [](const Message& m) {
         CHECK(m.method() == Method::kRegister);
         CHECK(m.body().empty());
         CHECK(m.raw().find("INVITE") == std::string_view::npos);
       }},
      {"semiuri", true, -1,
       [](const Message& m) {
         CHECK(m.request_uri().user == "user;par=u%40example.net");
         CHECK(m.request_uri().UserUnescaped() == "user;par=u@example.net");
         CHECK(m.request_uri().host == "example.com");
         CHECK(m.request_uri().params_raw.empty());
       }},
      {"transports", true, -1,
       [](const Message& m) {
         CHECK(Transports(m) ==
               std::vector<std::string_view>{"UDP", "SCTP", "TLS", "UNKNOWN", "TCP"});
       }},
      {"mpart01", true, -1,
       [](const Message& m) {
         auto type = *m.ContentType();
         REQUIRE(type.has_value());
         CHECK(type->type == "multipart");
         CHECK(m.body().size() == 553);
         auto parts = SplitMultipart(m.body(), type->boundary());
         REQUIRE(parts.ok());
         REQUIRE(parts->size() == 2);
         CHECK((*parts)[0].body == "Hello");
         CHECK((*parts)[1].content_type == "application/octet-stream");
         CHECK((*parts)[1].body.find('\0') != std::string_view::npos);
       }},
      {"unreason", true, -1,
       [](const Message& m) {
         CHECK(m.status_code() == 200);
         CHECK(m.reason_phrase().substr(0, 14) == "= 2**3 * 5**2 ");
         CHECK(static_cast<unsigned char>(m.reason_phrase()[14]) >= 0x80);
       }},
      {"noreason", true, -1,
       [](const Message& m) {
         CHECK(m.status_code() == 100);
         CHECK(m.reason_phrase().empty());
       }},
      {"badinv01", false, 400, nullptr, "Bad Via header"},
      {"clerr", false, 400, nullptr, "Content-Length larger than the message body"},
      {"ncl", false, 400, nullptr, "Bad Content-Length"},
      {"scalar02", false, 400, nullptr, "Bad CSeq header"},
      {"scalarlg", false, 0, nullptr},
      {"quotbal", false, 400, nullptr, "Bad To header"},
      {"ltgtruri", false, 400, nullptr, "Request-URI must not be enclosed in <>"},
      {"lwsruri", false, 400, nullptr, "Whitespace in the Request-URI"},
      {"lwsstart", false, 400, nullptr, "Extra whitespace in the Request-Line"},
      {"trws", false, 400, nullptr, "Whitespace after the SIP version"},
      {"escruri", false, 400, nullptr, "Request-URI must not carry headers"},
      // The Date header does not matter to any Switchboard element, so it is ignored (the RFC's
      // other allowed outcome) and kept byte for byte.
      {"baddate", false, -1,
       [](const Message& m) {
         CHECK(m.Header(HeaderId::kDate) == "Fri, 01 Jan 2010 16:00:00 EST");
       }},
      {"regbadct", false, 400, nullptr, "Bad Contact header"},
      {"badaspec", false, 400, nullptr, "Bad To header"},
      {"baddn", false, 400, nullptr, "Bad From header"},
      {"badvers", false, 505, nullptr, "Version Not Supported"},
      {"mismatch01", false, 400, nullptr, "CSeq method does not match the request method"},
      {"mismatch02", false, 400, nullptr, "CSeq method does not match the request method"},
      {"bigcode", false, 0, nullptr},
      {"badbranch", false, 400, nullptr, "Bad Via branch"},
      {"insuf", false, 400, nullptr, "Missing From header"},
      {"unkscm", true, 416,
       [](const Message& m) {
         CHECK(m.request_uri().scheme == UriScheme::kOther);
         CHECK(m.request_uri().scheme_text == "nobodyKnowsThisScheme");
       },
       "Unsupported URI Scheme"},
      {"novelsc", true, 416,
       [](const Message& m) { CHECK(m.request_uri().scheme_text == "soap.beep"); },
       "Unsupported URI Scheme"},
      {"unksm2", true, -1,
       [](const Message& m) {
         CHECK((*m.To())->uri.scheme_text == "isbn");
         CHECK((*m.From())->uri.scheme_text == "http");
         CHECK((*m.NameAddrs(HeaderId::kContact))[0].uri.scheme_text == "name");
       }},
      {"bext01", true, -1,
       [](const Message& m) {
         auto endpoint = CheckRequire(m, {"100rel", "timer"});
         REQUIRE(endpoint.has_value());
         CHECK(endpoint->status_code == 420);
         CHECK(endpoint->response.find(
                   "\r\nUnsupported: nothingSupportsThis, nothingSupportsThisEither\r\n") !=
               std::string::npos);
         auto proxy = CheckRequire(m, {}, true);
         REQUIRE(proxy.has_value());
         CHECK(proxy->response.find(
                   "\r\nUnsupported: noProxiesSupportThis, norDoAnyProxiesSupportThis\r\n") !=
               std::string::npos);
       }},
      {"invut", true, -1,
       [](const Message& m) {
         auto type = *m.ContentType();
         CHECK(type->Is("application", "unknownformat"));
       }},
      {"regaut01", true, -1,
       [](const Message& m) {
         auto auths = *m.Auths(HeaderId::kAuthorization);
         REQUIRE(auths.size() == 1);
         CHECK(auths[0].scheme == "NoOneKnowsThisScheme");
         CHECK(auths[0].Get("opaque-data") == "here");
       }},
      {"multi01", false, 400, nullptr, "Multiple From headers"},
      {"mcl01", false, 400, nullptr, "Conflicting Content-Length headers"},
      {"bcast", true, -1,
       [](const Message& m) {
         std::vector<std::string_view> hosts;
         for (auto v : m.Values(HeaderId::kVia)) hosts.push_back(ParseVia(v)->host);
         CHECK(hosts == std::vector<std::string_view>{"192.0.2.198", "255.255.255.255"});
       }},
      {"zeromf", true, -1, [](const Message& m) { CHECK(m.MaxForwards()->value() == 0); }},
      {"cparam01", true, -1,
       [](const Message& m) {
         auto c = (*m.NameAddrs(HeaderId::kContact))[0];
         CHECK(c.uri.params_raw.empty());
         CHECK(c.params().Has("unknownparam"));
       }},
      {"cparam02", true, -1,
       [](const Message& m) {
         auto c = (*m.NameAddrs(HeaderId::kContact))[0];
         CHECK(c.uri.params().Has("unknownparam"));
         CHECK_FALSE(c.params().Has("unknownparam"));
       }},
      {"regescrt", true, -1,
       [](const Message& m) {
         auto c = (*m.NameAddrs(HeaderId::kContact))[0];
         CHECK(c.uri.headers().Get("Route") == "%3Csip:sip.example.com%3E");
         CHECK(Unescape(*c.uri.headers().Get("Route")) == "<sip:sip.example.com>");
       }},
      {"sdp01", true, -1,
       [](const Message& m) { CHECK(m.Header(HeaderId::kAccept) == "text/nobodyKnowsThis"); }},
      {"inv2543", true, -1,
       [](const Message& m) {
         CHECK_FALSE((*m.TopVia())->HasRfc3261Branch());
         CHECK((*m.From())->tag().empty());
         CHECK_FALSE(m.MaxForwards()->has_value());
         CHECK_FALSE(m.Header(HeaderId::kContentLength).has_value());
         CHECK(m.body().substr(0, 4) == "v=0\r");
         CHECK(m.raw().size() == 445);
       }},
  };
  return cases;
}

TEST_CASE("every torture file has a case and every case a file", "[torture]") {
  fs::path dir = TortureDir();
  auto rows = ReadExpectations(dir);
  std::map<std::string, const Case*> by_name;
  for (const Case& c : Cases()) by_name[c.name] = &c;
  CHECK(rows.size() == 49);
  CHECK(by_name.size() == 49);
  for (const auto& [name, kind] : rows) {
    INFO(name);
    REQUIRE(by_name.count(name) == 1);
    CHECK(fs::exists(dir / (name + ".dat")));
    CHECK((kind == "valid") == by_name[name]->valid);
  }
}

TEST_CASE("torture messages behave as expectations.tsv says", "[torture]") {
  fs::path dir = TortureDir();
  for (const Case& c : Cases()) {
    DYNAMIC_SECTION(c.name) {
      std::string bytes = ReadFile(dir / (c.name + ".dat"));
      REQUIRE(!bytes.empty());
      auto parsed = Message::Parse(bytes);
      if (c.status < 0) {
        INFO((parsed.ok() ? std::string("ok") : parsed.error().ToString()));
        REQUIRE(parsed.ok());
        c.check(*parsed);
        // Received bytes serialize back unchanged (proxies forward unknown headers as is).
        CHECK(bytes.substr(0, parsed->raw().size()) == parsed->Serialize());
      } else {
        REQUIRE_FALSE(parsed.ok());
        CHECK(parsed.error().status_code == c.status);
        if (!c.reason.empty()) CHECK(parsed.error().reason == c.reason);
        if (c.status == 0) {
          CHECK(parsed.error().response.empty());
        } else {
          // The response a server sends is itself a well-formed response with the same code.
          const std::string& response = parsed.error().response;
          auto reply = Message::Parse(response, Lenient());
          REQUIRE(reply.ok());
          CHECK(reply->status_code() == c.status);
          auto request = Message::Parse(bytes, Lenient());
          if (request.ok()) {
            // §8.2.6.2: the same Via values, Call-ID and CSeq as the request.
            CHECK(reply->Values(HeaderId::kVia).size() == request->Values(HeaderId::kVia).size());
            CHECK(reply->Header(HeaderId::kCallId) == request->Header(HeaderId::kCallId));
            CHECK(reply->Header(HeaderId::kCSeq) == request->Header(HeaderId::kCSeq));
          }
        }
        if (c.check) {
          auto lenient = Message::Parse(bytes, Lenient());
          REQUIRE(lenient.ok());
          c.check(*lenient);
        }
      }
    }
  }
}

TEST_CASE("no torture message crashes the stream framer or the lenient parser", "[torture]") {
  fs::path dir = TortureDir();
  for (const Case& c : Cases()) {
    DYNAMIC_SECTION(c.name) {
      std::string bytes = ReadFile(dir / (c.name + ".dat"));
      (void)Message::Parse(bytes, Lenient());
      // One byte at a time, as the worst-case TCP reader.
      StreamFramer framer;
      size_t messages = 0;
      bool failed = false;
      for (char ch : bytes) {
        framer.Append(std::string_view(&ch, 1));
        auto next = framer.Next();
        if (!next.ok()) {
          failed = true;
          break;
        }
        if (next->has_value()) ++messages;
      }
      CHECK(messages <= 2);
      if (c.name == "clerr") {
        // Over TCP a short body means: wait for more bytes (then time out and close).
        CHECK_FALSE(failed);
        CHECK(messages == 0);
        CHECK(framer.mid_message());
      }
      if (c.name == "ncl" || c.name == "mcl01") CHECK(failed);
    }
  }
}

}  // namespace
}  // namespace sb::sip
