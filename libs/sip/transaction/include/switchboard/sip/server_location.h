// Locating a SIP server (RFC 3263 §4) for a next hop whose transport is already known, such as a
// trunk's carrier gateway: its transport is configured, so the NAPTR step (§4.1) does not apply.
// The DNS answers come through ServerLookups, so the procedure is pure and the ordering testable:
//
//   an IP address               -> itself, on its port or the transport's default (5060, 5061)
//   a name with a port          -> its addresses on that port (§4.2)
//   a name without a port       -> its SRV records for the transport (_sip._udp, _sip._tcp,
//                                  _sips._tcp) in RFC 2782 order, each target's addresses on the
//                                  record's port; no SRV records: its addresses, default port
//
//   sb::sip::ServerLookups dns{.srv = ..., .addresses = ...};
//   auto hops = sb::sip::LocateServer({.host = "sip.carrier.example", .port = 0,
//                                      .transport = sb::sip::Transport::kTcp}, dns, draw);
//   // hops: every destination to try, in order (§4.3: the next one after a failure)
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "switchboard/core/status.h"
#include "switchboard/sip/transaction.h"

namespace sb::sip {

struct SrvRecord {
  uint16_t priority = 0;
  uint16_t weight = 0;
  uint16_t port = 0;
  std::string target;  // "." alone: the service is decidedly not there (RFC 2782)
  friend bool operator==(const SrvRecord&, const SrvRecord&) = default;
};

// Each lookup gives an empty list when the name has no such record (NXDOMAIN, NODATA) and an
// error when DNS could not say (no server answered, SERVFAIL).
struct ServerLookups {
  std::function<Result<std::vector<SrvRecord>>(const std::string& name)> srv;
  std::function<Result<std::vector<std::string>>(const std::string& name)> addresses;
};

// A uniform random number in [0, bound] (RFC 2782's weighted choice).
using SrvDraw = std::function<uint32_t(uint32_t bound)>;

// 5061 for TLS (and WSS), 5060 otherwise.
uint16_t DefaultPort(Transport transport);
// "_sip._udp.<host>", "_sip._tcp.<host>" or "_sips._tcp.<host>" (TLS).
std::string SrvName(std::string_view host, Transport transport);
// RFC 2782's order: lowest priority first; within a priority, a weighted random order in which a
// record's chance to come next is its share of the remaining weight (weight 0: a small chance).
std::vector<SrvRecord> OrderSrv(std::vector<SrvRecord> records, const SrvDraw& draw);

// The destinations to try for `next_hop` (port 0: none given), in order. NOT_FOUND: the name
// has no addresses (or its SRV says the service is not there); UNAVAILABLE: DNS did not answer
// the lookups that would have decided. A target of several that fails to resolve is skipped.
Result<std::vector<Destination>> LocateServer(const Destination& next_hop,
                                              const ServerLookups& lookups, const SrvDraw& draw);

}  // namespace sb::sip
