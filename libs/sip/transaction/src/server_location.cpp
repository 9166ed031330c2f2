// RFC 3263 §4.2 (transport known) and the target selection of RFC 2782.
#include "switchboard/sip/server_location.h"

#include <algorithm>
#include <numeric>

#include "switchboard/core/cidr.h"

namespace sb::sip {
namespace {

// A name's addresses on `port`, appended to `out`.
Status AppendAddresses(const std::string& name, uint16_t port, Transport transport,
                       const ServerLookups& lookups, std::vector<Destination>& out) {
  auto addresses = lookups.addresses(name);
  if (!addresses.ok()) return addresses.status();
  for (auto& address : *addresses) {
    out.push_back({.host = std::move(address), .port = port, .transport = transport});
  }
  return Status::Ok();
}

}  // namespace

uint16_t DefaultPort(Transport transport) {
  return transport == Transport::kTls || transport == Transport::kWss ? 5061 : 5060;
}

std::string SrvName(std::string_view host, Transport transport) {
  std::string name = transport == Transport::kTls   ? "_sips._tcp."
                     : transport == Transport::kUdp ? "_sip._udp."
                                                    : "_sip._tcp.";
  name.append(host);
  return name;
}

std::vector<SrvRecord> OrderSrv(std::vector<SrvRecord> records, const SrvDraw& draw) {
  // Weight 0 first within its priority, as RFC 2782 asks, so that it is chosen only by a draw
  // of 0 while heavier records remain.
  std::stable_sort(records.begin(), records.end(), [](const SrvRecord& a, const SrvRecord& b) {
    if (a.priority != b.priority) return a.priority < b.priority;
    return a.weight == 0 && b.weight != 0;
  });
  std::vector<SrvRecord> ordered;
  ordered.reserve(records.size());
  auto group = records.begin();
  while (group != records.end()) {
    auto group_end = std::find_if(
        group, records.end(), [&](const SrvRecord& r) { return r.priority != group->priority; });
    std::vector<SrvRecord> left(std::make_move_iterator(group), std::make_move_iterator(group_end));
    while (!left.empty()) {
      const uint32_t total =
          std::accumulate(left.begin(), left.end(), uint32_t{0},
                          [](uint32_t sum, const SrvRecord& r) { return sum + r.weight; });
      const uint32_t drawn = draw(total);
      uint32_t running = 0;
      auto chosen = left.begin();
      for (; chosen != left.end(); ++chosen) {
        running += chosen->weight;
        if (running >= drawn) break;
      }
      if (chosen == left.end()) chosen = std::prev(left.end());
      ordered.push_back(std::move(*chosen));
      left.erase(chosen);
    }
    group = group_end;
  }
  return ordered;
}

Result<std::vector<Destination>> LocateServer(const Destination& next_hop,
                                              const ServerLookups& lookups, const SrvDraw& draw) {
  const Transport transport = next_hop.transport;
  if (core::IsIpLiteral(next_hop.host)) {
    Destination d = next_hop;
    if (d.port == 0) d.port = DefaultPort(transport);
    return std::vector<Destination>{std::move(d)};
  }
  std::vector<Destination> hops;
  if (next_hop.port != 0) {
    SB_RETURN_IF_ERROR(AppendAddresses(next_hop.host, next_hop.port, transport, lookups, hops));
    if (hops.empty()) return Status::NotFound("no address for " + next_hop.host);
    return hops;
  }
  auto srv = lookups.srv(SrvName(next_hop.host, transport));
  if (!srv.ok()) return srv.status();
  if (srv->empty()) {
    // §4.2: no SRV records, so the name's own addresses on the transport's default port.
    SB_RETURN_IF_ERROR(
        AppendAddresses(next_hop.host, DefaultPort(transport), transport, lookups, hops));
    if (hops.empty()) return Status::NotFound("no address for " + next_hop.host);
    return hops;
  }
  if (srv->size() == 1 && (srv->front().target == "." || srv->front().target.empty())) {
    return Status::NotFound(SrvName(next_hop.host, transport) + " says no service there");
  }
  Status last_error = Status::Ok();
  for (const auto& record : OrderSrv(std::move(*srv), draw)) {
    Status added = AppendAddresses(record.target, record.port, transport, lookups, hops);
    if (!added.ok()) last_error = std::move(added);
  }
  if (!hops.empty()) return hops;
  if (!last_error.ok()) return last_error;
  return Status::NotFound("no address for the SRV targets of " + next_hop.host);
}

}  // namespace sb::sip
