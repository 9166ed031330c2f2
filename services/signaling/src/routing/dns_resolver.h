// DnsResolver: the DNS answers RFC 3263 needs to find a trunk's gateway by name
// (sip::LocateServer): SRV records through the resolver library (res_nquery), and IPv4 addresses
// through getaddrinfo, so that /etc/hosts (a pod's hostAliases) and nsswitch apply as for any
// program. With `servers` set, both go to those servers instead (and /etc/hosts is not read).
// Answers are kept for their TTL (capped), "no such record" for negative_ttl; a failure to get
// an answer is never kept. While DNS cannot be asked (its servers down or unreachable), an
// answer whose TTL ran out is used for up to max_stale more (RFC 8767 "serve stale"), and asked
// for again only every stale_retry, so that a DNS outage neither fails every call through a
// trunk nor makes each one wait out the resolver's timeouts (5 s, 2 tries by default).
// Blocking: workers call it. Thread-safe.
//
//   auto dns = sb::signaling::DnsResolver::Create(clock, {.servers = {"127.0.0.1:5353"}});
//   auto hops = (*dns)->Locate({.host = "carrier.example", .port = 0, .transport = kUdp});
#pragma once

#include <netinet/in.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "switchboard/core/clock.h"
#include "switchboard/core/status.h"
#include "switchboard/sip/server_location.h"

namespace sb::signaling {

// "ipv4:port" as a name server's address; INVALID_ARGUMENT naming "servers" otherwise.
Result<sockaddr_in> ParseNameServer(const std::string& text);

struct DnsOptions {
  // "ip:port" (IPv4) of the name servers to ask, in order; empty: the system's.
  std::vector<std::string> servers;
  std::chrono::seconds max_ttl{300};
  std::chrono::seconds negative_ttl{30};
  // How long getaddrinfo's addresses are kept: it tells no TTL.
  std::chrono::seconds system_addresses_ttl{30};
  std::chrono::seconds max_stale{3600};
  std::chrono::seconds stale_retry{30};
};

class DnsResolver {
 public:
  // INVALID_ARGUMENT naming "servers" when one is not "ipv4:port".
  static Result<std::unique_ptr<DnsResolver>> Create(const core::Clock& clock, DnsOptions options);

  Result<std::vector<sip::SrvRecord>> Srv(const std::string& name);
  Result<std::vector<std::string>> Ipv4(const std::string& name);
  // Both, for sip::LocateServer; the resolver must outlive them.
  sip::ServerLookups Lookups();
  // sip::LocateServer with these lookups, SRV weights drawn at random.
  Result<std::vector<sip::Destination>> Locate(const sip::Destination& next_hop);

 private:
  DnsResolver(const core::Clock& clock, DnsOptions options, std::vector<sockaddr_in> servers);

  struct Answer {
    std::vector<sip::SrvRecord> srv;
    std::vector<std::string> addresses;
    core::Clock::TimePoint expires;       // fresh until then
    core::Clock::TimePoint usable_until;  // stale until then, while DNS cannot be asked
  };
  // A query of `type` (ns_t_srv, ns_t_a) to the resolver library: the records and their
  // smallest TTL.
  Result<Answer> Query(const std::string& name, int type) const;
  Result<Answer> SystemAddresses(const std::string& name) const;
  // The cached answer under `key`, or `ask`'s, kept when it is one.
  template <typename Ask>
  Result<Answer> Cached(const std::string& key, Ask ask);

  const core::Clock& clock_;
  const DnsOptions options_;
  const std::vector<sockaddr_in> servers_;
  std::mutex mu_;
  std::map<std::string, Answer> cache_;  // "SRV <name>", "A <name>"
};

}  // namespace sb::signaling
