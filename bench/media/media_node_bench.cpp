// bench_media_node: what one media worker (one event loop, one core) carries, measured as the
// CPU time of the worker thread while a load generator on another thread sends real RTP over
// loopback UDP at 50 packets/s per stream:
//   (a) relayed calls (both legs PCMU: packets forwarded untouched),
//   (b) PCMU<->Opus transcoded calls, next to the libopus-only ceiling (Opus encode + decode of
//       one 20 ms frame, the least a transcoded call costs per 20 ms) measured in the same run,
//   (c) conference participants (rooms of 5, PCMU, mix minus self every 20 ms).
// Capacity per core = load / (worker CPU seconds per wall second).
//
//   bench_media_node [--seconds N] [--relay-calls N] [--transcode-calls N] [--rooms N]
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <numbers>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "net/media_node.h"
#include "net/udp_socket.h"
#include "switchboard/codec/audio_codec.h"
#include "switchboard/codec/g711.h"
#include "switchboard/core/ids.h"
#include "switchboard/rtp/rtp_packet.h"

namespace {

using namespace sb::media;
using Steady = std::chrono::steady_clock;

class NullEvents final : public EventSink {
 public:
  void OnDtmf(const LegInfo&, char, DtmfSource, uint32_t) override {}
  void OnPlaybackFinished(const LegInfo&, const std::string&, bool, uint32_t) override {}
  void OnRecordingFinished(const LegInfo&, const std::string&, const std::string&, uint32_t,
                           bool) override {}
  void OnLegStats(const LegInfo&, const LegStatsSnapshot&, bool) override {}
  void OnRtpTimeout(const LegInfo&, uint32_t) override {}
};

double ThreadCpuSeconds(pthread_t thread) {
  clockid_t id;
  if (pthread_getcpuclockid(thread, &id) != 0) return 0;
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double SelfCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Stream {
  uint16_t node_port;
  uint8_t payload_type;
  uint32_t ts_step;
  const std::vector<std::vector<uint8_t>>* frames;  // payloads to cycle through
  uint32_t ssrc;
  uint16_t seq = 0;
  uint32_t ts = 0;
};

struct Result {
  double worker_cpu_fraction = 0;  // of one core, over the window
  double cpu_per_packet = 0;       // worker CPU seconds per RTP packet the node accepted
  uint64_t sent = 0;
  uint64_t received = 0;
  uint64_t accepted = 0;  // by the node (sb_media_packets_received_total)
};

// Sends one packet per stream every 20 ms from `out` and counts what comes back on it.
// On a shared machine the worker may fall behind and catch up across the window's edges, so the
// cost is taken per packet the node accepted in the window (its own counter), not per packet sent.
// `cpu` gives the CPU seconds of whatever forwards (the node's worker thread, or the rtpengine
// process); `accepted` the packets it took in, or is empty to count what came back instead.
Result RunLoad(UdpSocket& out, std::vector<Stream>& streams, double seconds,
               const std::function<double()>& cpu_seconds,
               const std::function<double()>& accepted_count) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> received{0};
  std::thread drain([&] {
    std::array<uint8_t, 2048> buf;
    while (!stop) {
      ssize_t n = ::recv(out.fd(), buf.data(), buf.size(), MSG_DONTWAIT);
      if (n > 0) {
        received.fetch_add(1, std::memory_order_relaxed);
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    }
  });
  std::array<uint8_t, 1500> pkt;
  uint64_t sent = 0;
  const auto warmup = std::chrono::seconds(1);
  const auto start = Steady::now();
  double cpu0 = 0;
  auto measure_from = start + warmup;
  bool measuring = false;
  uint64_t received0 = 0, sent0 = 0;
  double accepted0 = 0;
  for (uint64_t tick = 0;; ++tick) {
    auto at = start + std::chrono::milliseconds(20) * tick;
    std::this_thread::sleep_until(at);
    if (!measuring && at >= measure_from) {
      measuring = true;
      cpu0 = cpu_seconds();
      accepted0 = accepted_count ? accepted_count() : static_cast<double>(received.load());
      received0 = received;
      sent0 = sent;
      measure_from = at;
    }
    if (at >= measure_from + std::chrono::duration<double>(seconds) && measuring) break;
    for (auto& s : streams) {
      const auto& payload = (*s.frames)[tick % s.frames->size()];
      auto n = sb::rtp::BuildRtp(
          {.payload_type = s.payload_type, .sequence = s.seq++, .timestamp = s.ts, .ssrc = s.ssrc},
          payload, pkt);
      if (!n.ok()) continue;
      s.ts += s.ts_step;
      out.SendTo({0x7f000001, s.node_port}, std::span(pkt.data(), *n));
      ++sent;
    }
  }
  const double wall = std::chrono::duration<double>(Steady::now() - measure_from).count();
  Result r;
  const double cpu = cpu_seconds() - cpu0;
  const double accepted_end =
      accepted_count ? accepted_count() : static_cast<double>(received.load());
  r.accepted = static_cast<uint64_t>(accepted_end - accepted0);
  r.worker_cpu_fraction = cpu / wall;
  r.cpu_per_packet = r.accepted > 0 ? cpu / static_cast<double>(r.accepted) : 0;
  r.sent = sent - sent0;
  stop = true;
  drain.join();
  r.received = received - received0;
  return r;
}

// utime + stime of a process (all its threads), from /proc/<pid>/stat.
double ProcessCpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// rtpengine's ng control protocol: "<cookie> <bencoded dictionary>" over UDP, one reply each.
std::string Bencode(const std::vector<std::pair<std::string, std::string>>& dict) {
  std::string out = "d";
  for (const auto& [k, v] : dict) {
    out += std::to_string(k.size()) + ":" + k + std::to_string(v.size()) + ":" + v;
  }
  return out + "e";
}

std::string NgRequest(UdpSocket& control, uint16_t ng_port,
                      const std::vector<std::pair<std::string, std::string>>& dict) {
  static int cookie = 0;
  // Appended, not `"c" + ...`: GCC 12 warns (-Wrestrict) on that inlined insert.
  std::string msg = std::string("c").append(std::to_string(++cookie)).append(" ") + Bencode(dict);
  control.SendTo({0x7f000001, ng_port},
                 std::span(reinterpret_cast<const uint8_t*>(msg.data()), msg.size()));
  pollfd p{control.fd(), POLLIN, 0};
  if (::poll(&p, 1, 2000) <= 0) return {};
  std::array<char, 65536> buf;
  ssize_t n = ::recv(control.fd(), buf.data(), buf.size(), 0);
  return n > 0 ? std::string(buf.data(), static_cast<size_t>(n)) : std::string();
}

std::string OfferFor(uint16_t port, bool opus) {
  return std::string("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n") +
         "m=audio " + std::to_string(port) + " RTP/AVP " + (opus ? "111" : "0") + "\r\n" +
         (opus ? "a=rtpmap:111 opus/48000/2\r\n" : "") + "a=rtcp-mux\r\n";
}

uint16_t NodePort(const std::string& sdp) {
  auto m = sdp.find("m=audio ");
  return static_cast<uint16_t>(std::stoi(sdp.substr(m + 8)));
}

std::vector<std::vector<uint8_t>> PcmuFrames(double freq) {
  std::vector<std::vector<uint8_t>> frames(50);
  for (size_t f = 0; f < frames.size(); ++f) {
    std::array<int16_t, 160> pcm;
    for (size_t i = 0; i < 160; ++i) {
      pcm[i] = static_cast<int16_t>(
          6000 * std::sin(2 * std::numbers::pi * freq * static_cast<double>(f * 160 + i) / 8000));
    }
    frames[f].resize(160);
    sb::codec::EncodeUlaw(pcm, frames[f]);
  }
  return frames;
}

std::vector<std::vector<uint8_t>> OpusFrames(double freq) {
  auto enc = sb::codec::MakeEncoder({.type = sb::codec::CodecType::kOpus, .sample_rate = 48000});
  std::vector<std::vector<uint8_t>> frames(50);
  for (size_t f = 0; f < frames.size(); ++f) {
    std::array<int16_t, 960> pcm;
    for (size_t i = 0; i < 960; ++i) {
      pcm[i] = static_cast<int16_t>(
          6000 * std::sin(2 * std::numbers::pi * freq * static_cast<double>(f * 960 + i) / 48000));
    }
    std::array<uint8_t, 1500> out;
    auto n = (*enc)->Encode(pcm, out);
    frames[f].assign(out.begin(), out.begin() + static_cast<ptrdiff_t>(*n));
  }
  return frames;
}

// Opus encode + decode of one 20 ms frame at `rate` (libopus default complexity), CPU seconds.
double OpusFrameCost(int rate) {
  auto enc = sb::codec::MakeEncoder({.type = sb::codec::CodecType::kOpus, .sample_rate = rate});
  auto dec = sb::codec::MakeDecoder({.type = sb::codec::CodecType::kOpus, .sample_rate = rate});
  const size_t samples = static_cast<size_t>(rate / 50);
  std::vector<int16_t> pcm(samples), out(samples);
  std::array<uint8_t, 1500> payload;
  const int kFrames = 2000;
  double t0 = SelfCpuSeconds();
  for (int f = 0; f < kFrames; ++f) {
    for (size_t i = 0; i < samples; ++i) {
      pcm[i] = static_cast<int16_t>(6000 * std::sin(2 * std::numbers::pi * 1000 *
                                                    static_cast<double>(f * samples + i) / rate));
    }
    auto n = (*enc)->Encode(pcm, payload);
    (void)(*dec)->Decode(std::span(payload).first(*n), out);
  }
  return (SelfCpuSeconds() - t0) / kFrames;
}

// libopus alone on the node's own transcoding work, CPU seconds per call and 20 ms: decode one of
// the generator's Opus packets (the ones the node receives) at the node's PCM rate, and encode
// the node's 8 kHz PCM of the generator's PCMU tone into Opus at that rate, with the node's
// encoder settings. Everything else the node does per call (G.711, RTP, system calls) is what
// the ratio to this ceiling measures.
double OpusSameWorkCost(const std::vector<std::vector<uint8_t>>& opus_packets,
                        const std::vector<std::vector<uint8_t>>& pcmu_frames, int rate) {
  auto enc = sb::codec::MakeEncoder({.type = sb::codec::CodecType::kOpus, .sample_rate = rate});
  auto dec = sb::codec::MakeDecoder({.type = sb::codec::CodecType::kOpus, .sample_rate = rate});
  std::vector<std::vector<int16_t>> pcm(pcmu_frames.size(), std::vector<int16_t>(160));
  for (size_t f = 0; f < pcmu_frames.size(); ++f) sb::codec::DecodeUlaw(pcmu_frames[f], pcm[f]);
  std::array<int16_t, sb::codec::kMaxFrameSamples> out;
  std::array<uint8_t, 1500> payload;
  const int kFrames = 2000;
  double t0 = SelfCpuSeconds();
  for (int f = 0; f < kFrames; ++f) {
    (void)(*dec)->Decode(opus_packets[static_cast<size_t>(f) % opus_packets.size()], out);
    (void)(*enc)->Encode(pcm[static_cast<size_t>(f) % pcm.size()], payload);
  }
  return (SelfCpuSeconds() - t0) / kFrames;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  int relay_calls = 200, transcode_calls = 20, rooms = 20;
  int rtpengine_pid = 0, rtpengine_ng = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--seconds") seconds = std::stod(argv[i + 1]);
    if (flag == "--relay-calls") relay_calls = std::stoi(argv[i + 1]);
    if (flag == "--transcode-calls") transcode_calls = std::stoi(argv[i + 1]);
    if (flag == "--rooms") rooms = std::stoi(argv[i + 1]);
    if (flag == "--rtpengine-pid") rtpengine_pid = std::stoi(argv[i + 1]);
    if (flag == "--rtpengine-ng") rtpengine_ng = std::stoi(argv[i + 1]);
  }
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);

  sb::core::SystemClock clock;
  sb::core::UuidV7Generator ids(clock, 1);
  sb::core::MetricsRegistry metrics;
  NullEvents events;
  NodeOptions options{.node_id = "bench",
                      .bind_address = "127.0.0.1",
                      .advertised_address = "127.0.0.1",
                      .port_min = 40000,
                      .port_max = 59999,
                      .recordings_dir = "/tmp",
                      .workers = 1};
  auto out = UdpSocket::Bind("127.0.0.1", 0);
  if (!out.ok()) return 1;
  int big = 8 << 20;
  setsockopt((*out)->fd(), SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
  setsockopt((*out)->fd(), SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
  const uint16_t gen_port = (*out)->port();
  auto pcmu = PcmuFrames(1000);
  auto opus = OpusFrames(1000);

  auto make_leg = [&](MediaNode& node, bool is_opus, const std::string& call) {
    auto leg = node.CreateLeg({.tenant_id = "bench",
                               .call_id = call,
                               .leg_id = "",
                               .kind = SdpKind::kOffer,
                               .sdp = OfferFor(gen_port, is_opus)});
    if (!leg.ok()) {
      std::fprintf(stderr, "create leg: %s\n", leg.status().ToString().c_str());
      std::exit(1);
    }
    return std::make_pair(leg->leg_id, NodePort(leg->sdp));
  };
  auto& accepted = metrics.Counter("sb_media_packets_received_total", "");
  std::function<double()> node_accepted = [&] { return accepted.value(); };
  auto worker_cpu = [](MediaNode& node) {
    pthread_t worker = node.WorkerThreads().at(0);
    return std::function<double()>([worker] { return ThreadCpuSeconds(worker); });
  };
  // units per core = 1 / (CPU per packet x packets per second one unit brings in).
  auto report = [&](const char* what, int units, const char* unit, double pps_per_unit,
                    const Result& r) {
    double per_core = r.cpu_per_packet > 0 ? 1 / (r.cpu_per_packet * pps_per_unit) : 0;
    std::printf(
        "%-34s %5d %-12s worker CPU %5.1f%%  %6.2f us/packet -> %7.0f %s per core  "
        "(sent %llu, node accepted %llu, returned %llu)\n",
        what, units, unit, 100 * r.worker_cpu_fraction, r.cpu_per_packet * 1e6, per_core, unit,
        static_cast<unsigned long long>(r.sent), static_cast<unsigned long long>(r.accepted),
        static_cast<unsigned long long>(r.received));
    return per_core;
  };

  {  // (a) relay
    MediaNode node(options, clock, events, metrics, ids);
    if (!node.Start().ok()) return 1;
    std::vector<Stream> streams;
    for (int c = 0; c < relay_calls; ++c) {
      // Appended, not `"r" + ...`: GCC 12 warns (-Wrestrict) on that inlined insert.
      const std::string call = std::string("r").append(std::to_string(c));
      auto a = make_leg(node, false, call);
      auto b = make_leg(node, false, call);
      if (!node.Bridge(a.first, b.first).ok()) return 1;
      streams.push_back({a.second, 0, 160, &pcmu, 0x10000u + static_cast<uint32_t>(c)});
      streams.push_back({b.second, 0, 160, &pcmu, 0x20000u + static_cast<uint32_t>(c)});
    }
    auto r = RunLoad(**out, streams, seconds, worker_cpu(node), node_accepted);
    report("(a) relayed calls (2 streams each)", relay_calls, "calls", 100, r);
  }
  if (rtpengine_pid > 0 && rtpengine_ng > 0) {  // (a') the same load through rtpengine
    auto control = UdpSocket::Bind("127.0.0.1", 0);
    if (!control.ok()) return 1;
    const std::string sdp = OfferFor(gen_port, false);
    auto port_of = [](const std::string& reply) -> uint16_t {
      auto m = reply.find("m=audio ");
      return m == std::string::npos ? 0 : static_cast<uint16_t>(std::stoi(reply.substr(m + 8)));
    };
    std::vector<Stream> streams;
    for (int c = 0; c < relay_calls; ++c) {
      const std::string call = "bench-" + std::to_string(::getpid()) + "-" + std::to_string(c);
      auto offer = NgRequest(
          **control, static_cast<uint16_t>(rtpengine_ng),
          {{"call-id", call}, {"command", "offer"}, {"from-tag", "caller"}, {"sdp", sdp}});
      auto answer = NgRequest(**control, static_cast<uint16_t>(rtpengine_ng),
                              {{"call-id", call},
                               {"command", "answer"},
                               {"from-tag", "caller"},
                               {"sdp", sdp},
                               {"to-tag", "callee"}});
      uint16_t to_callee_side = port_of(offer), to_caller_side = port_of(answer);
      if (to_callee_side == 0 || to_caller_side == 0) {
        std::fprintf(stderr, "rtpengine refused call %d: %s / %s\n", c, offer.c_str(),
                     answer.c_str());
        return 1;
      }
      streams.push_back({to_caller_side, 0, 160, &pcmu, 0x60000u + static_cast<uint32_t>(c)});
      streams.push_back({to_callee_side, 0, 160, &pcmu, 0x70000u + static_cast<uint32_t>(c)});
    }
    auto r = RunLoad(**out, streams, seconds,
                     [rtpengine_pid] { return ProcessCpuSeconds(rtpengine_pid); }, {});
    report("(a') rtpengine, same relayed calls", relay_calls, "calls", 100, r);
    std::printf("    (rtpengine: CPU of the whole process per packet it returned)\n");
  }
  {  // (b) transcode
    MediaNode node(options, clock, events, metrics, ids);
    if (!node.Start().ok()) return 1;
    std::vector<Stream> streams;
    for (int c = 0; c < transcode_calls; ++c) {
      auto a = make_leg(node, false, "t" + std::to_string(c));
      auto b = make_leg(node, true, "t" + std::to_string(c));
      if (!node.Bridge(a.first, b.first).ok()) return 1;
      streams.push_back({a.second, 0, 160, &pcmu, 0x30000u + static_cast<uint32_t>(c)});
      streams.push_back({b.second, 111, 960, &opus, 0x40000u + static_cast<uint32_t>(c)});
    }
    auto r = RunLoad(**out, streams, seconds, worker_cpu(node), node_accepted);
    double per_core = report("(b) PCMU<->Opus transcoded calls", transcode_calls, "calls", 100, r);
    // The ceiling of the goal: libopus alone on the same packets and PCM as the node, at the
    // node's Opus PCM rate (8 kHz against G.711, see session/engine.cpp).
    {
      double frame = OpusSameWorkCost(opus, pcmu, 8000);
      double ceiling = 0.020 / frame;
      std::printf(
          "    libopus-only ceiling, same work (decode the generator's packets + encode the "
          "node's 8 kHz PCM): %.1f us per call and 20 ms -> %.0f calls per core; node at %.0f%% "
          "of it\n",
          frame * 1e6, ceiling, 100 * per_core / ceiling);
    }
    // Session 1's ceiling (its own narrowband packets and a synthetic sine), for comparison.
    for (int rate : {8000, 48000}) {
      double frame = OpusFrameCost(rate);
      double ceiling = 0.020 / frame;
      std::printf(
          "    libopus-only ceiling at %d Hz: encode+decode %.1f us per 20 ms frame -> %.0f "
          "calls per core; node at %.0f%% of it\n",
          rate, frame * 1e6, ceiling, 100 * per_core / ceiling);
    }
  }
  {  // (c) conferences
    MediaNode node(options, clock, events, metrics, ids);
    if (!node.Start().ok()) return 1;
    std::vector<Stream> streams;
    const int kMembers = 5;
    for (int room = 0; room < rooms; ++room) {
      auto conf = node.CreateConference("bench", "room" + std::to_string(room));
      if (!conf.ok()) return 1;
      for (int m = 0; m < kMembers; ++m) {
        auto leg = make_leg(node, false, "c" + std::to_string(room) + "_" + std::to_string(m));
        if (!node.AddToConference(*conf, leg.first).ok()) return 1;
        streams.push_back(
            {leg.second, 0, 160, &pcmu, 0x50000u + static_cast<uint32_t>(room * kMembers + m)});
      }
    }
    auto r = RunLoad(**out, streams, seconds, worker_cpu(node), node_accepted);
    report("(c) conference participants (x5)", rooms * kMembers, "participants", 50, r);
  }
  return 0;
}
