#include "session/srtp.h"

#include <srtp2/srtp.h>

#include <cstring>
#include <mutex>

namespace sb::media {
namespace {

Status InitOnce() {
  static std::once_flag once;
  static srtp_err_status_t result = srtp_err_status_ok;
  std::call_once(once, [] { result = srtp_init(); });
  if (result != srtp_err_status_ok) return Status::Internal("srtp_init failed");
  return Status::Ok();
}

Result<size_t> FromUnprotect(srtp_err_status_t err, int length) {
  switch (err) {
    case srtp_err_status_ok:
      return static_cast<size_t>(length);
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
      return Status::Aborted("SRTP replay");
    case srtp_err_status_auth_fail:
      return Status::Unauthenticated("SRTP authentication failed");
    default:
      return Status::InvalidArgument("SRTP unprotect failed (" + std::to_string(err) + ")");
  }
}

}  // namespace

bool SrtpSession::IsSupportedSuite(const std::string& suite) {
  return suite == "AES_CM_128_HMAC_SHA1_80" || suite == "AES_CM_128_HMAC_SHA1_32";
}

Result<std::unique_ptr<SrtpSession>> SrtpSession::Create(const std::string& suite,
                                                         const std::string& key,
                                                         Direction direction) {
  if (!IsSupportedSuite(suite)) {
    return Status::InvalidArgument("unsupported SRTP suite " + suite, "sdp");
  }
  if (key.size() != kSrtpKeySize) {
    return Status::InvalidArgument("an SRTP master key and salt are 30 bytes", "sdp");
  }
  SB_RETURN_IF_ERROR(InitOnce());
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof(policy));
  if (suite == "AES_CM_128_HMAC_SHA1_32") {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
  } else {
    srtp_crypto_policy_set_rtp_default(&policy.rtp);
  }
  // RFC 4568 §6.2.1: SRTCP always uses the 80-bit tag.
  srtp_crypto_policy_set_rtcp_default(&policy.rtcp);
  policy.ssrc.type = direction == kInbound ? ssrc_any_inbound : ssrc_any_outbound;
  unsigned char key_bytes[kSrtpKeySize];
  std::memcpy(key_bytes, key.data(), kSrtpKeySize);
  policy.key = key_bytes;
  policy.window_size = 128;
  policy.allow_repeat_tx = 0;
  policy.next = nullptr;
  srtp_t ctx = nullptr;
  if (srtp_create(&ctx, &policy) != srtp_err_status_ok) {
    return Status::Internal("srtp_create failed");
  }
  return std::unique_ptr<SrtpSession>(new SrtpSession(ctx));
}

SrtpSession::~SrtpSession() { srtp_dealloc(static_cast<srtp_t>(ctx_)); }

Result<size_t> SrtpSession::ProtectRtp(std::span<uint8_t> buffer, size_t length) {
  if (buffer.size() < length + kSrtpMaxTrailer) return Status::Internal("no room for SRTP tag");
  int len = static_cast<int>(length);
  if (srtp_protect(static_cast<srtp_t>(ctx_), buffer.data(), &len) != srtp_err_status_ok) {
    return Status::Internal("srtp_protect failed");
  }
  return static_cast<size_t>(len);
}

Result<size_t> SrtpSession::ProtectRtcp(std::span<uint8_t> buffer, size_t length) {
  if (buffer.size() < length + kSrtpMaxTrailer) return Status::Internal("no room for SRTCP tag");
  int len = static_cast<int>(length);
  if (srtp_protect_rtcp(static_cast<srtp_t>(ctx_), buffer.data(), &len) != srtp_err_status_ok) {
    return Status::Internal("srtp_protect_rtcp failed");
  }
  return static_cast<size_t>(len);
}

Result<size_t> SrtpSession::UnprotectRtp(std::span<uint8_t> packet) {
  int len = static_cast<int>(packet.size());
  srtp_err_status_t err = srtp_unprotect(static_cast<srtp_t>(ctx_), packet.data(), &len);
  return FromUnprotect(err, len);
}

Result<size_t> SrtpSession::UnprotectRtcp(std::span<uint8_t> packet) {
  int len = static_cast<int>(packet.size());
  srtp_err_status_t err = srtp_unprotect_rtcp(static_cast<srtp_t>(ctx_), packet.data(), &len);
  return FromUnprotect(err, len);
}

}  // namespace sb::media
