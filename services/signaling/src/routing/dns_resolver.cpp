#include "routing/dns_resolver.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <random>

namespace sb::signaling {

Result<sockaddr_in> ParseNameServer(const std::string& text) {
  const size_t colon = text.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  unsigned port = 0;
  if (colon == std::string::npos ||
      inet_pton(AF_INET, text.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
    return Status::InvalidArgument("name server \"" + text + "\" is not ipv4:port", "servers");
  }
  auto [end, ec] = std::from_chars(text.data() + colon + 1, text.data() + text.size(), port);
  if (ec != std::errc() || end != text.data() + text.size() || port == 0 || port > 65535) {
    return Status::InvalidArgument("name server \"" + text + "\" has no valid port", "servers");
  }
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

Result<std::unique_ptr<DnsResolver>> DnsResolver::Create(const core::Clock& clock,
                                                         DnsOptions options) {
  std::vector<sockaddr_in> servers;
  for (const auto& text : options.servers) {
    auto addr = ParseNameServer(text);
    if (!addr.ok()) return addr.status();
    servers.push_back(*addr);
  }
  if (servers.size() > MAXNS) {
    return Status::InvalidArgument("at most " + std::to_string(MAXNS) + " name servers", "servers");
  }
  return std::unique_ptr<DnsResolver>(
      new DnsResolver(clock, std::move(options), std::move(servers)));
}

DnsResolver::DnsResolver(const core::Clock& clock, DnsOptions options,
                         std::vector<sockaddr_in> servers)
    : clock_(clock), options_(std::move(options)), servers_(std::move(servers)) {}

template <typename Ask>
Result<DnsResolver::Answer> DnsResolver::Cached(const std::string& key, Ask ask) {
  const auto now = clock_.Now();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.expires > now) return it->second;
  }
  auto answer = ask();
  std::lock_guard lock(mu_);
  if (!answer.ok()) {
    auto it = cache_.find(key);
    if (it == cache_.end() || it->second.usable_until <= now) return answer;
    it->second.expires = now + options_.stale_retry;
    return it->second;
  }
  answer->usable_until = answer->expires + options_.max_stale;
  // Trunk gateways are few: a full cache means names nobody asks for again, so start afresh.
  if (cache_.size() >= 4096) cache_.clear();
  cache_[key] = *answer;
  return answer;
}

Result<DnsResolver::Answer> DnsResolver::Query(const std::string& name, int type) const {
  struct __res_state state;
  std::memset(&state, 0, sizeof state);
  if (res_ninit(&state) != 0) return Status::Unavailable("resolver: cannot read its configuration");
  if (!servers_.empty()) {
    state.nscount = static_cast<int>(servers_.size());
    for (size_t i = 0; i < servers_.size(); ++i) state.nsaddr_list[i] = servers_[i];
  }
  unsigned char buf[8192];
  const int len = res_nquery(&state, name.c_str(), ns_c_in, type, buf, sizeof buf);
  const int h_error = state.res_h_errno;
  res_nclose(&state);
  const auto now = clock_.Now();
  Answer answer;
  if (len < 0) {
    if (h_error == HOST_NOT_FOUND || h_error == NO_DATA) {
      answer.expires = now + options_.negative_ttl;
      return answer;
    }
    return Status::Unavailable("DNS gave no answer for " + name + ": " + hstrerror(h_error));
  }
  ns_msg msg;
  if (ns_initparse(buf, len, &msg) < 0) {
    return Status::Unavailable("DNS answer for " + name + " cannot be parsed");
  }
  uint32_t ttl = static_cast<uint32_t>(options_.max_ttl.count());
  for (int i = 0; i < ns_msg_count(msg, ns_s_an); ++i) {
    ns_rr rr;
    if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
      return Status::Unavailable("DNS answer for " + name + " cannot be parsed");
    }
    // A CNAME on the way is followed by the server; only the records asked for count.
    if (ns_rr_type(rr) != type) continue;
    ttl = std::min<uint32_t>(ttl, ns_rr_ttl(rr));
    const unsigned char* rdata = ns_rr_rdata(rr);
    if (type == ns_t_a && ns_rr_rdlen(rr) == 4) {
      char text[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, rdata, text, sizeof text);
      answer.addresses.emplace_back(text);
    } else if (type == ns_t_srv && ns_rr_rdlen(rr) > 6) {
      char target[NS_MAXDNAME];
      if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rdata + 6, target, sizeof target) < 0) {
        return Status::Unavailable("DNS answer for " + name + " cannot be parsed");
      }
      answer.srv.push_back({.priority = static_cast<uint16_t>(ns_get16(rdata)),
                            .weight = static_cast<uint16_t>(ns_get16(rdata + 2)),
                            .port = static_cast<uint16_t>(ns_get16(rdata + 4)),
                            // The root ("." in zone files) expands to "": no service.
                            .target = target[0] == '\0' ? "." : target});
    }
  }
  const bool none = answer.srv.empty() && answer.addresses.empty();
  answer.expires = now + (none ? options_.negative_ttl : std::chrono::seconds(ttl));
  return answer;
}

Result<DnsResolver::Answer> DnsResolver::SystemAddresses(const std::string& name) const {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(name.c_str(), nullptr, &hints, &found);
  Answer answer;
  if (rc == EAI_NONAME || rc == EAI_NODATA) {
    answer.expires = clock_.Now() + options_.negative_ttl;
    return answer;
  }
  if (rc != 0) {
    return Status::Unavailable("no address for " + name + ": " + gai_strerror(rc));
  }
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr, text,
              sizeof text);
    if (std::find(answer.addresses.begin(), answer.addresses.end(), text) ==
        answer.addresses.end()) {
      answer.addresses.emplace_back(text);
    }
  }
  freeaddrinfo(found);
  answer.expires = clock_.Now() + options_.system_addresses_ttl;
  return answer;
}

Result<std::vector<sip::SrvRecord>> DnsResolver::Srv(const std::string& name) {
  auto answer = Cached("SRV " + name, [&] { return Query(name, ns_t_srv); });
  if (!answer.ok()) return answer.status();
  return std::move(answer->srv);
}

Result<std::vector<std::string>> DnsResolver::Ipv4(const std::string& name) {
  auto answer = Cached(
      "A " + name, [&] { return servers_.empty() ? SystemAddresses(name) : Query(name, ns_t_a); });
  if (!answer.ok()) return answer.status();
  return std::move(answer->addresses);
}

sip::ServerLookups DnsResolver::Lookups() {
  return {.srv = [this](const std::string& name) { return Srv(name); },
          .addresses = [this](const std::string& name) { return Ipv4(name); }};
}

Result<std::vector<sip::Destination>> DnsResolver::Locate(const sip::Destination& next_hop) {
  thread_local std::mt19937 rng{std::random_device{}()};
  return sip::LocateServer(next_hop, Lookups(), [](uint32_t bound) {
    return std::uniform_int_distribution<uint32_t>(0, bound)(rng);
  });
}

}  // namespace sb::signaling
