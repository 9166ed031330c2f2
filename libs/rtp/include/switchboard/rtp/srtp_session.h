// SrtpSession: SRTP and SRTCP (RFC 3711) protection of one direction of one leg, through
// libsrtp 2.5, keyed by SDES (sdes_crypto.h).
//
//   auto tx = sb::rtp::SrtpSession::Create(Direction::kOutbound, our.suite, our.key());
//   auto rx = sb::rtp::SrtpSession::Create(Direction::kInbound, their.suite, their.key());
//   // buf holds an RTP packet of len bytes and has kSrtpMaxTrailer bytes to spare after it
//   auto protected_len = (*tx)->ProtectRtp(buf, len);           // in place
//   auto plain_len = (*rx)->UnprotectRtp(std::span(buf).first(received));
//   if (!plain_len.ok() && sb::rtp::IsSrtpReplay(plain_len.status())) CountReplay();
//
// Errors keep what went wrong apart, because the media node counts each:
//   kAlreadyExists     a replayed packet, or one older than the replay window (RFC 3711 §3.3.2)
//   kUnauthenticated   the authentication tag does not match (tampered, or the wrong key)
//   kInvalidArgument   not an RTP/RTCP packet libsrtp can parse
//   kResourceExhausted the buffer has no room for the trailer
// Wildcard SSRC policies (ssrc_any_inbound/outbound) make one session serve whatever SSRC the
// peer picks. Not thread-safe; libsrtp does not allocate per packet.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "switchboard/core/status.h"
#include "switchboard/rtp/sdes_crypto.h"

struct srtp_ctx_t_;  // libsrtp's session, kept out of this header

namespace sb::rtp {

// libsrtp's SRTP_MAX_TRAILER_LEN: the most a protect call appends (tag + MKI).
inline constexpr size_t kSrtpMaxTrailer = 144;

bool IsSrtpReplay(const Status& status);
bool IsSrtpAuthFailure(const Status& status);

class SrtpSession {
 public:
  enum class Direction { kInbound, kOutbound };

  // key_salt: KeySaltLength(suite) bytes. replay_window: packets, 64..32768 (libsrtp's range).
  static Result<std::unique_ptr<SrtpSession>> Create(Direction direction, CryptoSuite suite,
                                                     std::span<const uint8_t> key_salt,
                                                     unsigned replay_window = 128);

  // Protects the packet of `length` bytes at the start of buf in place; buf must have
  // kSrtpMaxTrailer bytes of room beyond length. Returns the protected length.
  Result<size_t> ProtectRtp(std::span<uint8_t> buf, size_t length);
  Result<size_t> ProtectRtcp(std::span<uint8_t> buf, size_t length);
  // Verifies and decrypts the packet that fills buf, in place; returns the plaintext length.
  Result<size_t> UnprotectRtp(std::span<uint8_t> packet);
  Result<size_t> UnprotectRtcp(std::span<uint8_t> packet);

  Direction direction() const { return direction_; }
  CryptoSuite suite() const { return suite_; }

 private:
  struct Deleter {
    void operator()(srtp_ctx_t_* ctx) const;
  };
  SrtpSession(Direction direction, CryptoSuite suite, srtp_ctx_t_* ctx)
      : direction_(direction), suite_(suite), ctx_(ctx) {}

  Direction direction_;
  CryptoSuite suite_;
  std::unique_ptr<srtp_ctx_t_, Deleter> ctx_;
};

}  // namespace sb::rtp
