// SrtpSession: SRTP and SRTCP (RFC 3711) for one direction of one leg through libsrtp 2.5, with
// SDES keys (RFC 4568: 16-byte master key || 14-byte master salt). libsrtp keeps the replay
// window (64 packets by default) and the rollover counter.
//
//   auto rx = SrtpSession::Create("AES_CM_128_HMAC_SHA1_80", remote_key, SrtpSession::kInbound);
//   auto n = (*rx)->UnprotectRtp(buffer, received);   // in place
//   if (!n.ok()) Drop(n.status().code() == StatusCode::kAborted ? kReplay : kAuth);
//
// libsrtp works in place and needs kSrtpMaxTrailer bytes of room after the packet to protect.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "switchboard/core/status.h"

namespace sb::media {

inline constexpr size_t kSrtpMaxTrailer = 144;  // SRTP_MAX_TRAILER_LEN in libsrtp 2.5
inline constexpr size_t kSrtpKeySize = 30;

class SrtpSession {
 public:
  enum Direction { kInbound, kOutbound };
  // INVALID_ARGUMENT for an unknown suite or a key that is not 30 bytes.
  static Result<std::unique_ptr<SrtpSession>> Create(const std::string& suite,
                                                     const std::string& key, Direction direction);
  ~SrtpSession();
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  // Protect: `buffer` holds `length` bytes of plain packet and has room for the trailer; returns
  // the protected length.
  Result<size_t> ProtectRtp(std::span<uint8_t> buffer, size_t length);
  Result<size_t> ProtectRtcp(std::span<uint8_t> buffer, size_t length);
  // Unprotect in place; returns the plain length. ABORTED for a replayed packet, UNAUTHENTICATED
  // for one that fails authentication, INVALID_ARGUMENT for anything else libsrtp refuses.
  Result<size_t> UnprotectRtp(std::span<uint8_t> packet);
  Result<size_t> UnprotectRtcp(std::span<uint8_t> packet);

  static bool IsSupportedSuite(const std::string& suite);

 private:
  explicit SrtpSession(void* ctx) : ctx_(ctx) {}
  void* ctx_;  // srtp_t, kept out of this header
};

}  // namespace sb::media
