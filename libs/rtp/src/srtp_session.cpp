#include "switchboard/rtp/srtp_session.h"

#include <srtp2/srtp.h>

#include <array>
#include <climits>
#include <cstring>
#include <mutex>

namespace sb::rtp {
namespace {

static_assert(kSrtpMaxTrailer == SRTP_MAX_TRAILER_LEN);

// libsrtp keeps global tables (the crypto kernel) that must be set up once per process.
Status InitOnce() {
  static std::once_flag once;
  static srtp_err_status_t result = srtp_err_status_ok;
  std::call_once(once, [] { result = srtp_init(); });
  if (result != srtp_err_status_ok) return Status::Internal("srtp_init failed");
  return Status::Ok();
}

// Messages are short literals: a flood of replayed packets must not allocate.
Status ToStatus(srtp_err_status_t err) {
  switch (err) {
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
      return Status(StatusCode::kAlreadyExists, "srtp: replay");
    case srtp_err_status_auth_fail:
      return Status(StatusCode::kUnauthenticated, "srtp: auth");
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err:
    case srtp_err_status_no_ctx:
      return Status(StatusCode::kInvalidArgument, "srtp: malformed");
    default:
      return Status(StatusCode::kInternal, "srtp: error");
  }
}

}  // namespace

bool IsSrtpReplay(const Status& s) { return s.code() == StatusCode::kAlreadyExists; }
bool IsSrtpAuthFailure(const Status& s) { return s.code() == StatusCode::kUnauthenticated; }

void SrtpSession::Deleter::operator()(srtp_ctx_t_* ctx) const { srtp_dealloc(ctx); }

Result<std::unique_ptr<SrtpSession>> SrtpSession::Create(Direction direction, CryptoSuite suite,
                                                         std::span<const uint8_t> key_salt,
                                                         unsigned replay_window) {
  SB_RETURN_IF_ERROR(InitOnce());
  if (key_salt.size() != KeySaltLength(suite)) {
    return Status::InvalidArgument("key||salt length does not match the suite", "key_salt");
  }
  if (replay_window < 64 || replay_window > 32768) {
    return Status::InvalidArgument("replay window is 64..32768 packets", "replay_window");
  }
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof(policy));
  switch (suite) {
    case CryptoSuite::kAesCm128HmacSha1_80:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
      break;
    case CryptoSuite::kAesCm128HmacSha1_32:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);  // RFC 4568 §6.2.1
      break;
    case CryptoSuite::kAeadAes128Gcm:
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
      break;
  }
  policy.ssrc.type = direction == Direction::kInbound ? ssrc_any_inbound : ssrc_any_outbound;
  // libsrtp copies the key during srtp_create; the buffer only has to live until then.
  std::array<unsigned char, kMaxKeySaltLength> key{};
  std::memcpy(key.data(), key_salt.data(), key_salt.size());
  policy.key = key.data();
  policy.window_size = replay_window;
  policy.allow_repeat_tx = 0;
  policy.next = nullptr;
  srtp_t ctx = nullptr;
  const srtp_err_status_t err = srtp_create(&ctx, &policy);
  if (err != srtp_err_status_ok) {
    return Status::Internal("srtp_create failed with code " + std::to_string(err));
  }
  return std::unique_ptr<SrtpSession>(new SrtpSession(direction, suite, ctx));
}

Result<size_t> SrtpSession::ProtectRtp(std::span<uint8_t> buf, size_t length) {
  if (direction_ != Direction::kOutbound) return Status::FailedPrecondition("srtp: inbound");
  if (length > INT_MAX - kSrtpMaxTrailer || buf.size() < length + kSrtpMaxTrailer) {
    return Status(StatusCode::kResourceExhausted, "srtp: no room");
  }
  int len = static_cast<int>(length);
  const srtp_err_status_t err = srtp_protect(ctx_.get(), buf.data(), &len);
  if (err != srtp_err_status_ok) return ToStatus(err);
  return static_cast<size_t>(len);
}

Result<size_t> SrtpSession::ProtectRtcp(std::span<uint8_t> buf, size_t length) {
  if (direction_ != Direction::kOutbound) return Status::FailedPrecondition("srtp: inbound");
  if (length > INT_MAX - kSrtpMaxTrailer || buf.size() < length + kSrtpMaxTrailer) {
    return Status(StatusCode::kResourceExhausted, "srtp: no room");
  }
  int len = static_cast<int>(length);
  const srtp_err_status_t err = srtp_protect_rtcp(ctx_.get(), buf.data(), &len);
  if (err != srtp_err_status_ok) return ToStatus(err);
  return static_cast<size_t>(len);
}

Result<size_t> SrtpSession::UnprotectRtp(std::span<uint8_t> packet) {
  if (direction_ != Direction::kInbound) return Status::FailedPrecondition("srtp: outbound");
  // libsrtp reads the header before checking the length against the tag.
  if (packet.size() < 12 || packet.size() > INT_MAX)
    return Status(StatusCode::kInvalidArgument, "srtp: malformed");
  int len = static_cast<int>(packet.size());
  const srtp_err_status_t err = srtp_unprotect(ctx_.get(), packet.data(), &len);
  if (err != srtp_err_status_ok) return ToStatus(err);
  return static_cast<size_t>(len);
}

Result<size_t> SrtpSession::UnprotectRtcp(std::span<uint8_t> packet) {
  if (direction_ != Direction::kInbound) return Status::FailedPrecondition("srtp: outbound");
  if (packet.size() < 8 || packet.size() > INT_MAX)
    return Status(StatusCode::kInvalidArgument, "srtp: malformed");
  int len = static_cast<int>(packet.size());
  const srtp_err_status_t err = srtp_unprotect_rtcp(ctx_.get(), packet.data(), &len);
  if (err != srtp_err_status_ok) return ToStatus(err);
  return static_cast<size_t>(len);
}

}  // namespace sb::rtp
