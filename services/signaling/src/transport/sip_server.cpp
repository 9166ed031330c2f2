#include "transport/sip_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "switchboard/sip/builder.h"
#include "switchboard/sip/framer.h"
#include "switchboard/sip/transaction_manager.h"

namespace sb::signaling {
namespace {

constexpr size_t kMaxDatagram = 65536;
// Per wake-up, so that one busy socket cannot starve the others or the timers. A smaller cap
// sends each batch's Redis pipelines sooner, so Redis works while the loop reads on: 4 raised
// the REGISTER ratio from about 0.73 to 0.76-0.95, but split the call path's Redis writes into
// more, smaller ones and lowered the calls ratio by 0.04-0.10 in three pairs of runs out of five
// (bench/RESULTS.md, session 8).
constexpr int kMaxReadsPerWake = 64;
constexpr int kMaxMessagesPerRead = 1024;
constexpr int kMaxEvents = 64;
constexpr auto kIdleSweepEvery = std::chrono::seconds(1);
// After a framing error, how long a connection waits for the answers it still owes (64*T1, the
// longest a server transaction lives) before it closes anyway.
constexpr auto kOwedAnswersLinger = std::chrono::seconds(32);
// A connection we open (§18.1.1) that is not up by then is given up, with what was queued on it:
// the transactions whose requests those were time out as over any lost path.
constexpr auto kConnectTimeout = std::chrono::seconds(10);

// A final response ("SIP/2.0 2xx".."6xx"): what ends the answer owed to a request.
bool IsFinalResponse(std::string_view bytes) {
  return bytes.size() > 8 && bytes.starts_with("SIP/2.0 ") && bytes[8] >= '2' && bytes[8] <= '6';
}

Result<sockaddr_in> ParseAddr(const std::string& host_port) {
  size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("expected host:port", host_port);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  std::string host = host_port.substr(0, colon);
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return Status::InvalidArgument("not an IPv4 address: " + host, host_port);
  }
  unsigned port = 0;
  std::string_view p(host_port);
  p.remove_prefix(colon + 1);
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || ptr != p.data() + p.size() || port > 65535) {
    return Status::InvalidArgument("bad port", host_port);
  }
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

// A destination's address, parsed as the kernel wants it (no "host:port" string in between: one
// per datagram sent).
std::optional<sockaddr_in> SockAddr(const std::string& host, uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return std::nullopt;
  addr.sin_port = htons(port);
  return addr;
}

std::string HostOf(const sockaddr_in& addr) {
  // Dotted quad by to_chars, not inet_ntop's sprintf: this runs for every datagram received.
  const auto* octets = reinterpret_cast<const uint8_t*>(&addr.sin_addr);
  std::string host;
  host.reserve(INET_ADDRSTRLEN);
  for (int i = 0; i < 4; ++i) {
    if (i != 0) host += '.';
    char digits[3];
    host.append(digits, std::to_chars(digits, digits + sizeof digits, octets[i]).ptr);
  }
  return host;
}

std::string PeerKey(const std::string& host, uint16_t port) {
  return host + ":" + std::to_string(port);
}

Status Errno(std::string what) {
  return Status::Unavailable(std::move(what) + ": " + std::strerror(errno));
}

// The message layer's framer answers a framing error only when the head parses; a head whose
// Content-Length is what broke (negative, RFC 4475 §3.1.2.3) does not. Without its
// Content-Length lines the head still names the transaction, so the 400 can be sent.
std::string StreamErrorResponse(std::string_view unframed, const sip::ParseError& error) {
  size_t start = unframed.find_first_not_of("\r\n");
  if (start == std::string_view::npos) return {};
  unframed.remove_prefix(start);
  size_t end = unframed.find("\r\n\r\n");
  if (end == std::string_view::npos) return {};
  std::string head;
  std::string_view lines = unframed.substr(0, end + 2);
  while (!lines.empty()) {
    size_t eol = lines.find("\r\n");
    std::string_view line = lines.substr(0, eol + 2);
    lines.remove_prefix(line.size());
    std::string_view name = line.substr(0, line.find(':'));
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    if (sip::HeaderIdFromName(name) == sip::HeaderId::kContentLength) continue;
    head += line;
  }
  head += "Content-Length: 0\r\n\r\n";
  sip::ParseOptions lenient;
  lenient.validate = false;
  auto parsed = sip::Message::Parse(head, lenient);
  if (!parsed.ok() || !parsed->is_request() || parsed->method() == sip::Method::kAck) return {};
  return sip::MakeResponse(*parsed, error.status_code, error.reason).Build();
}

}  // namespace

struct SipServer::Impl {
  struct Conn {
    int fd = -1;
    sip::Destination peer;
    sip::StreamFramer framer;
    // The bytes the framer holds and has not returned (its buffered() tail), kept to answer a
    // framing error the message layer could not build a response for.
    std::string unframed;
    std::string wbuf;
    core::Clock::TimePoint last_active;
    bool closing = false;
    // Requests read (ACK aside) whose final response has not been queued yet.
    int owed = 0;
    // After a framing error nothing more is read (§18.3: the stream cannot be resynchronised),
    // but the requests framed before it are still answered: the connection closes once none is
    // owed, or at close_by.
    bool read_done = false;
    core::Clock::TimePoint close_by;
    // Opened by us and not connected yet: what is queued waits (Connect).
    bool connecting = false;
  };

  SipEndpoint& endpoint;
  const core::Clock& clock;
  core::Logger log;
  ListenConfig config;
  int epfd = -1;
  int udp_fd = -1;
  int tcp_fd = -1;
  int wake_fd = -1;
  uint16_t udp_port = 0;
  uint16_t tcp_port = 0;
  int udp_receive_buffer = 0;  // as the kernel reports it
  std::map<int, std::unique_ptr<Conn>> conns;
  std::map<std::string, int, std::less<>> conn_by_peer;
  // Descriptors of others (FdWatcher), by fd; shared so that a callback that unwatches its own
  // fd does not destroy itself while it runs.
  std::map<int, std::shared_ptr<FdWatcher::OnReady>> watched;
  std::vector<int> write_before_waiting;  // WriteBeforeWaiting's, for the batch's end
  std::mutex mu;
  std::deque<std::function<void()>> tasks;
  bool stop = false;  // guarded by mu
  std::thread thread;
  core::Clock::TimePoint next_sweep;
  // A batch's datagrams: read with one recvmmsg, and the UDP sends of a Flush written with one
  // sendmmsg, rather than a system call each (bench/RESULTS.md, session 26).
  // Left unwritten, so that only the pages datagrams land in are ever touched.
  std::unique_ptr<char[]> in_bytes =
      std::make_unique_for_overwrite<char[]>(kMaxReadsPerWake * kMaxDatagram);
  std::vector<mmsghdr> in_headers = std::vector<mmsghdr>(kMaxReadsPerWake);
  std::vector<iovec> in_iov = std::vector<iovec>(kMaxReadsPerWake);
  std::vector<sockaddr_in> in_from = std::vector<sockaddr_in>(kMaxReadsPerWake);
  std::vector<mmsghdr> out_headers;
  std::vector<iovec> out_iov;
  std::vector<sockaddr_in> out_to;

  core::CounterMetric& udp_in;
  core::CounterMetric& tcp_in;
  core::CounterMetric& send_errors;
  core::CounterMetric& tcp_refused;
  core::CounterMetric& keepalive_pongs;
  core::GaugeMetric& tcp_open;

  Impl(SipEndpoint& e, const core::Clock& c, core::MetricsRegistry& m, const core::Logger& l,
       ListenConfig cfg)
      : endpoint(e),
        clock(c),
        log(l),
        config(std::move(cfg)),
        udp_in(m.Counter("sb_signaling_transport_messages_total", "SIP messages read",
                         {{"transport", "udp"}})),
        tcp_in(m.Counter("sb_signaling_transport_messages_total", "SIP messages read",
                         {{"transport", "tcp"}})),
        send_errors(m.Counter("sb_signaling_transport_send_errors_total",
                              "messages that could not be sent")),
        tcp_refused(m.Counter("sb_signaling_tcp_refused_total",
                              "TCP connections refused at the connection limit")),
        keepalive_pongs(m.Counter("sb_signaling_keepalive_pongs_total",
                                  "CRLF pongs sent for double-CRLF pings (RFC 5626)")),
        tcp_open(m.Gauge("sb_signaling_tcp_connections", "open TCP connections")) {
    // Each slot's buffer and address once; recvmmsg only rewrites the lengths.
    for (int i = 0; i < kMaxReadsPerWake; ++i) {
      in_iov[i] = {in_bytes.get() + i * kMaxDatagram, kMaxDatagram};
      in_headers[i].msg_hdr.msg_name = &in_from[i];
      in_headers[i].msg_hdr.msg_iov = &in_iov[i];
      in_headers[i].msg_hdr.msg_iovlen = 1;
    }
  }

  ~Impl() {
    for (auto& [fd, conn] : conns) close(fd);
    for (int fd : {udp_fd, tcp_fd, wake_fd, epfd}) {
      if (fd >= 0) close(fd);
    }
  }

  Status Watch(int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) return Errno("epoll_ctl");
    return Status::Ok();
  }

  Result<int> BindUdp(sockaddr_in addr, int receive_buffer) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Errno("socket");
    // Without CAP_NET_ADMIN the forced size is refused (EPERM): the capped one is what is left.
    if (receive_buffer > 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &receive_buffer, sizeof receive_buffer) != 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer) != 0) {
      Status s = Errno("SO_RCVBUF");
      close(fd);
      return s;
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      Status s = Errno("bind UDP " + HostOf(addr) + ":" + std::to_string(ntohs(addr.sin_port)));
      close(fd);
      return s;
    }
    return fd;
  }

  Result<int> BindTcp(sockaddr_in addr) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Errno("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 512) != 0) {
      Status s = Errno("bind TCP " + HostOf(addr) + ":" + std::to_string(ntohs(addr.sin_port)));
      close(fd);
      return s;
    }
    return fd;
  }

  static uint16_t LocalPort(int fd) {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    return ntohs(addr.sin_port);
  }

  Status Open() {
    epfd = epoll_create1(EPOLL_CLOEXEC);
    wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epfd < 0 || wake_fd < 0) return Errno("epoll/eventfd");
    SB_RETURN_IF_ERROR(Watch(wake_fd, EPOLLIN));
    std::optional<sockaddr_in> udp_addr, tcp_addr;
    if (!config.udp_addr.empty()) {
      auto a = ParseAddr(config.udp_addr);
      if (!a.ok()) return a.status();
      udp_addr = *a;
    }
    if (!config.tcp_addr.empty()) {
      auto a = ParseAddr(config.tcp_addr);
      if (!a.ok()) return a.status();
      tcp_addr = *a;
    }
    // SIP peers expect UDP and TCP on one port; with both asked for on port 0, the kernel's
    // UDP choice may be taken for TCP, so try a few.
    const bool same_port =
        udp_addr && tcp_addr && udp_addr->sin_port == 0 && tcp_addr->sin_port == 0;
    Status last = Status::Ok();
    for (int attempt = 0; attempt < 20; ++attempt) {
      if (udp_addr) {
        auto fd = BindUdp(*udp_addr, config.udp_receive_buffer);
        if (!fd.ok()) return fd.status();
        udp_fd = *fd;
        udp_port = LocalPort(udp_fd);
        socklen_t len = sizeof udp_receive_buffer;
        getsockopt(udp_fd, SOL_SOCKET, SO_RCVBUF, &udp_receive_buffer, &len);
      }
      if (tcp_addr) {
        sockaddr_in a = *tcp_addr;
        if (same_port) a.sin_port = htons(udp_port);
        auto fd = BindTcp(a);
        if (!fd.ok()) {
          last = fd.status();
          if (udp_fd >= 0) close(udp_fd);
          udp_fd = -1;
          if (same_port) continue;
          return last;
        }
        tcp_fd = *fd;
        tcp_port = LocalPort(tcp_fd);
      }
      break;
    }
    if ((udp_addr && udp_fd < 0) || (tcp_addr && tcp_fd < 0)) return last;
    if (udp_fd >= 0) SB_RETURN_IF_ERROR(Watch(udp_fd, EPOLLIN));
    if (tcp_fd >= 0) SB_RETURN_IF_ERROR(Watch(tcp_fd, EPOLLIN));
    return Status::Ok();
  }

  void Run() {
    next_sweep = clock.Now() + kIdleSweepEvery;
    epoll_event events[kMaxEvents];
    for (;;) {
      int n = epoll_wait(epfd, events, kMaxEvents, TimeoutMs());
      if (n < 0 && errno != EINTR) {
        log.Error("epoll_wait failed", {{"error", std::strerror(errno)}});
        return;
      }
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == wake_fd) {
          uint64_t v;
          (void)!read(wake_fd, &v, sizeof v);
          if (!RunTasks()) return;
        } else if (fd == udp_fd) {
          ReadUdp();
        } else if (fd == tcp_fd) {
          Accept();
        } else if (auto w = watched.find(fd); w != watched.end()) {
          auto on_ready = w->second;
          const uint32_t e = events[i].events;
          (*on_ready)((e & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0, (e & EPOLLOUT) != 0);
        } else {
          OnConnEvent(fd, events[i].events);
        }
      }
      auto deadline = endpoint.NextDeadline();
      if (deadline && *deadline <= clock.Now()) endpoint.OnTimers();
      WriteWatched();
      Flush();
      if (clock.Now() >= next_sweep) SweepIdle();
    }
  }

  // The watched descriptors' output queued during this batch (WriteBeforeWaiting). A callback
  // asking again is served at the next batch's end.
  void WriteWatched() {
    std::vector<int> fds;
    fds.swap(write_before_waiting);
    for (int fd : fds) {
      auto w = watched.find(fd);
      if (w == watched.end()) continue;  // unwatched meanwhile
      auto on_ready = w->second;
      (*on_ready)(false, true);
    }
  }

  int TimeoutMs() const {
    auto now = clock.Now();
    auto wake = next_sweep;
    if (auto deadline = endpoint.NextDeadline()) wake = std::min(wake, *deadline);
    if (wake <= now) return 0;
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(wake - now).count();
    return static_cast<int>(std::min<int64_t>(ms, 1000));
  }

  bool RunTasks() {
    std::deque<std::function<void()>> run;
    {
      std::lock_guard lock(mu);
      if (stop) return false;
      run.swap(tasks);
    }
    for (auto& task : run) task();
    return true;
  }

  void ReadUdp() {
    for (auto& header : in_headers) header.msg_hdr.msg_namelen = sizeof(sockaddr_in);
    // EAGAIN, or an ICMP error of an earlier send: nothing to read.
    const int n = recvmmsg(udp_fd, in_headers.data(), kMaxReadsPerWake, 0, nullptr);
    for (int i = 0; i < n; ++i) {
      udp_in.Inc();
      endpoint.OnReceived(
          std::string_view(in_bytes.get() + i * kMaxDatagram, in_headers[i].msg_len),
          {HostOf(in_from[i]), ntohs(in_from[i].sin_port), sip::Transport::kUdp});
    }
  }

  void Accept() {
    for (int i = 0; i < kMaxReadsPerWake; ++i) {
      sockaddr_in from{};
      socklen_t len = sizeof from;
      int fd =
          accept4(tcp_fd, reinterpret_cast<sockaddr*>(&from), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      if (conns.size() >= config.max_tcp_connections) {
        tcp_refused.Inc();
        close(fd);
        continue;
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto conn = std::make_unique<Conn>();
      conn->fd = fd;
      conn->peer = {HostOf(from), ntohs(from.sin_port), sip::Transport::kTcp};
      conn->last_active = clock.Now();
      if (!Watch(fd, EPOLLIN).ok()) {
        close(fd);
        continue;
      }
      Add(std::move(conn));
    }
  }

  void Add(std::unique_ptr<Conn> conn) {
    conn_by_peer[PeerKey(conn->peer.host, conn->peer.port)] = conn->fd;
    conns.emplace(conn->fd, std::move(conn));
    tcp_open.Set(static_cast<double>(conns.size()));
  }

  // §18.1.1: a message for a TCP peer with no connection to it (a carrier's gateway over TCP, a
  // phone whose connection closed and that listens on its Contact's port) opens one; what is
  // queued meanwhile goes once it is up. Null when no connection can be started.
  Conn* Connect(const sip::Destination& to) {
    auto addr = SockAddr(to.host, to.port);
    if (!addr || conns.size() >= config.max_tcp_connections) return nullptr;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return nullptr;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const int rc = connect(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof(sockaddr_in));
    if ((rc != 0 && errno != EINPROGRESS) || !Watch(fd, EPOLLIN | EPOLLOUT).ok()) {
      close(fd);
      return nullptr;
    }
    auto conn = std::make_unique<Conn>();
    conn->fd = fd;
    conn->peer = to;
    conn->connecting = rc != 0;
    conn->last_active = clock.Now();
    Conn* added = conn.get();
    Add(std::move(conn));
    return added;
  }

  // The outcome of a connection we opened: up (what waited is written) or failed (dropped).
  void Connected(Conn& conn) {
    int error = 0;
    socklen_t len = sizeof error;
    getsockopt(conn.fd, SOL_SOCKET, SO_ERROR, &error, &len);
    conn.connecting = false;
    conn.last_active = clock.Now();
    if (error != 0) {
      if (!conn.wbuf.empty()) send_errors.Inc();
      conn.wbuf.clear();
      conn.closing = true;
      return;
    }
    WriteSome(conn);
  }

  void OnConnEvent(int fd, uint32_t events) {
    auto it = conns.find(fd);
    if (it == conns.end()) return;
    Conn& conn = *it->second;
    if (conn.connecting) {
      Connected(conn);
      if (conn.closing) CloseConn(fd);
      return;
    }
    if (events & EPOLLOUT) WriteSome(conn);
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
      if (conn.read_done) {
        // Only a hang-up or an error wakes a connection no longer read: the peer is gone.
        conn.closing = true;
        conn.wbuf.clear();
      } else {
        ReadTcp(conn);
      }
    }
    if (conn.closing && conn.wbuf.empty()) CloseConn(fd);
  }

  void ReadTcp(Conn& conn) {
    char buf[16384];
    for (int i = 0; i < kMaxReadsPerWake && !conn.closing && !conn.read_done; ++i) {
      ssize_t n = read(conn.fd, buf, sizeof buf);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        conn.closing = true;
        conn.wbuf.clear();  // the peer is gone: nothing queued can reach it
        return;
      }
      if (n < 0) return;
      conn.last_active = clock.Now();
      conn.framer.Append(std::string_view(buf, static_cast<size_t>(n)));
      conn.unframed.append(buf, static_cast<size_t>(n));
      for (int m = 0; m < kMaxMessagesPerRead; ++m) {
        auto next = conn.framer.Next();
        if (!next.ok()) {
          // The stream cannot be resynchronised after a framing error (§18.3): answer, then
          // close.
          std::string response = next.error().response;
          if (response.empty() && next.error().status_code != 0) {
            response = StreamErrorResponse(conn.unframed, next.error());
          }
          conn.read_done = true;
          conn.close_by = clock.Now() + kOwedAnswersLinger;
          conn.closing = conn.owed == 0;
          if (!response.empty()) Queue(conn, response);
          Arm(conn);
          break;
        }
        if (!next->has_value()) {
          // Only keep-alive CRLFs may have been skipped: nothing framed is owed to them.
          conn.unframed.erase(0, conn.unframed.size() - conn.framer.buffered());
          break;
        }
        tcp_in.Inc();
        const std::string_view message = **next;
        if (!message.starts_with("SIP/2.0 ") && !message.starts_with("ACK ")) ++conn.owed;
        endpoint.OnReceived(**next, conn.peer);
        conn.unframed.erase(0, conn.unframed.size() - conn.framer.buffered());
      }
      // RFC 5626 §4.4.1: each double-CRLF ping gets one CRLF pong, which tells the phone its
      // flow (and the NAT binding on the way) is alive.
      for (size_t pings = conn.framer.TakePings(); pings > 0 && !conn.closing; --pings) {
        keepalive_pongs.Inc();
        Queue(conn, "\r\n");
      }
    }
  }

  void Queue(Conn& conn, std::string_view bytes) {
    if (conn.wbuf.size() + bytes.size() > config.max_tcp_write_buffer) {
      send_errors.Inc();
      conn.closing = true;
      conn.wbuf.clear();
      return;
    }
    const bool was_empty = conn.wbuf.empty();
    conn.wbuf.append(bytes);
    if (was_empty) WriteSome(conn);
  }

  void WriteSome(Conn& conn) {
    while (!conn.connecting && !conn.wbuf.empty()) {
      ssize_t n = send(conn.fd, conn.wbuf.data(), conn.wbuf.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN) break;
        send_errors.Inc();
        conn.wbuf.clear();
        conn.closing = true;
        return;
      }
      conn.wbuf.erase(0, static_cast<size_t>(n));
    }
    Arm(conn);
  }

  // Watches what the connection waits for: input unless it is no longer read, room to write
  // while bytes are queued.
  void Arm(const Conn& conn) {
    epoll_event ev{};
    ev.events = (conn.read_done ? 0u : static_cast<uint32_t>(EPOLLIN)) |
                (conn.wbuf.empty() && !conn.connecting ? 0u : static_cast<uint32_t>(EPOLLOUT));
    ev.data.fd = conn.fd;
    epoll_ctl(epfd, EPOLL_CTL_MOD, conn.fd, &ev);
  }

  void Flush() {
    const std::vector<sip::action::Send> sends = endpoint.TakeSends();
    out_headers.clear();
    out_iov.clear();
    out_to.clear();
    for (const auto& send : sends) {
      const sip::Destination& to = send.destination;
      if (to.transport == sip::Transport::kUdp) {
        auto addr = SockAddr(to.host, to.port);
        if (!addr || udp_fd < 0) {
          send_errors.Inc();
          continue;
        }
        out_to.push_back(*addr);
        out_iov.push_back({const_cast<char*>(send.bytes.data()), send.bytes.size()});
        continue;
      }
      Conn* open = Connection(to, send.bytes);
      if (open == nullptr) {
        send_errors.Inc();
        continue;
      }
      Conn& conn = *open;
      if (IsFinalResponse(send.bytes) && conn.owed > 0 && --conn.owed == 0 && conn.read_done) {
        conn.closing = true;
      }
      Queue(conn, send.bytes);
    }
    SendUdp();
    std::vector<int> done;
    for (auto& [fd, conn] : conns) {
      if (conn->closing && conn->wbuf.empty()) done.push_back(fd);
    }
    for (int fd : done) CloseConn(fd);
  }

  // The datagrams Flush queued, in as few sendmmsg calls as the kernel takes them: it stops at
  // the first one it cannot send, which is counted and skipped.
  void SendUdp() {
    out_headers.resize(out_iov.size());
    for (size_t i = 0; i < out_iov.size(); ++i) {
      out_headers[i] = {};
      out_headers[i].msg_hdr.msg_name = &out_to[i];
      out_headers[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
      out_headers[i].msg_hdr.msg_iov = &out_iov[i];
      out_headers[i].msg_hdr.msg_iovlen = 1;
    }
    size_t next = 0;
    while (next < out_headers.size()) {
      const size_t count = std::min<size_t>(out_headers.size() - next, UIO_MAXIOV);
      const int sent = sendmmsg(udp_fd, out_headers.data() + next, static_cast<unsigned>(count), 0);
      if (sent <= 0) {
        send_errors.Inc();
        ++next;
      } else {
        next += static_cast<size_t>(sent);
      }
    }
  }

  // The connection a message for `to` goes on: the open one, else a new one (§18.1.1); for a
  // response whose connection closed, one to where its Via says the client listens (§18.2.2).
  Conn* Connection(const sip::Destination& to, std::string_view bytes) {
    // TLS and WebSocket are not served here: plain TCP to their port would put SIP in clear
    // text on a connection the peer expects a handshake on.
    if (to.transport != sip::Transport::kTcp) return nullptr;
    auto it = conn_by_peer.find(PeerKey(to.host, to.port));
    if (it != conn_by_peer.end()) return conns.at(it->second).get();
    if (!bytes.starts_with("SIP/2.0 ")) return Connect(to);
    sip::ParseOptions lenient;
    lenient.validate = false;
    auto response = sip::Message::Parse(bytes, lenient);
    if (!response.ok()) return nullptr;
    auto listening = sip::ReconnectDestination(*response, to.transport);
    if (!listening) return nullptr;
    it = conn_by_peer.find(PeerKey(listening->host, listening->port));
    return it != conn_by_peer.end() ? conns.at(it->second).get() : Connect(*listening);
  }

  void SweepIdle() {
    auto now = clock.Now();
    next_sweep = now + kIdleSweepEvery;
    std::vector<int> idle;
    for (auto& [fd, conn] : conns) {
      if (now - conn->last_active > config.tcp_idle_timeout ||
          (conn->read_done && now >= conn->close_by) ||
          (conn->connecting && now - conn->last_active > kConnectTimeout)) {
        if (conn->connecting && !conn->wbuf.empty()) send_errors.Inc();
        idle.push_back(fd);
      }
    }
    for (int fd : idle) CloseConn(fd);
  }

  void CloseConn(int fd) {
    auto it = conns.find(fd);
    if (it == conns.end()) return;
    conn_by_peer.erase(PeerKey(it->second->peer.host, it->second->peer.port));
    epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    conns.erase(it);
    tcp_open.Set(static_cast<double>(conns.size()));
  }

  static uint32_t WatchEvents(bool want_write) {
    return EPOLLIN | (want_write ? static_cast<uint32_t>(EPOLLOUT) : 0u);
  }

  void Wake() {
    uint64_t one = 1;
    (void)!write(wake_fd, &one, sizeof one);
  }
};

Result<std::unique_ptr<SipServer>> SipServer::Start(SipEndpoint& endpoint, const core::Clock& clock,
                                                    core::MetricsRegistry& metrics,
                                                    const core::Logger& log, ListenConfig config) {
  if (config.udp_addr.empty() && config.tcp_addr.empty()) {
    return Status::InvalidArgument("neither a UDP nor a TCP address to listen on");
  }
  auto impl = std::make_unique<Impl>(endpoint, clock, metrics, log, std::move(config));
  SB_RETURN_IF_ERROR(impl->Open());
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->Run(); });
  return std::unique_ptr<SipServer>(new SipServer(std::move(impl)));
}

SipServer::SipServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SipServer::~SipServer() { Stop(); }

uint16_t SipServer::udp_port() const { return impl_->udp_port; }
uint16_t SipServer::tcp_port() const { return impl_->tcp_port; }
int SipServer::udp_receive_buffer() const { return impl_->udp_receive_buffer; }

void SipServer::Post(std::function<void()> task) {
  bool first;
  {
    std::lock_guard lock(impl_->mu);
    first = impl_->tasks.empty();
    impl_->tasks.push_back(std::move(task));
  }
  // The loop reads the wake-up before it takes the queue, so tasks posted behind the first are
  // taken with it: one write (and one loop wake-up) per batch, not per task.
  if (first) impl_->Wake();
}

Status SipServer::Watch(int fd, bool want_write, OnReady on_ready) {
  if (impl_->watched.contains(fd) || impl_->conns.contains(fd)) {
    return Status::AlreadyExists("fd " + std::to_string(fd) + " is already watched");
  }
  SB_RETURN_IF_ERROR(impl_->Watch(fd, Impl::WatchEvents(want_write)));
  impl_->watched.emplace(fd, std::make_shared<OnReady>(std::move(on_ready)));
  return Status::Ok();
}

void SipServer::SetWantWrite(int fd, bool want_write) {
  if (!impl_->watched.contains(fd)) return;
  epoll_event ev{};
  ev.events = Impl::WatchEvents(want_write);
  ev.data.fd = fd;
  epoll_ctl(impl_->epfd, EPOLL_CTL_MOD, fd, &ev);
}

void SipServer::WriteBeforeWaiting(int fd) {
  if (!impl_->watched.contains(fd)) return;
  auto& pending = impl_->write_before_waiting;
  if (std::find(pending.begin(), pending.end(), fd) == pending.end()) pending.push_back(fd);
}

void SipServer::Unwatch(int fd) {
  if (impl_->watched.erase(fd) == 0) return;
  epoll_ctl(impl_->epfd, EPOLL_CTL_DEL, fd, nullptr);
}

void SipServer::Stop() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->Wake();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace sb::signaling
