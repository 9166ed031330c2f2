#include "switchboard/codec/resampler.h"

#include <speex/speex_resampler.h>

#include <algorithm>
#include <string>

namespace sb::codec {
namespace {

bool SupportedRate(int rate) { return rate == 8000 || rate == 16000 || rate == 48000; }

}  // namespace

void Resampler::SpeexDeleter::operator()(SpeexResamplerState_* s) const {
  speex_resampler_destroy(s);
}

Result<std::unique_ptr<Resampler>> Resampler::Create(int in_rate, int out_rate, int quality) {
  if (!SupportedRate(in_rate)) return Status::InvalidArgument("unsupported rate", "in_rate");
  if (!SupportedRate(out_rate)) return Status::InvalidArgument("unsupported rate", "out_rate");
  if (quality < 0 || quality > 10) return Status::InvalidArgument("quality is 0..10", "quality");
  SpeexPtr speex;
  if (in_rate != out_rate) {
    int err = RESAMPLER_ERR_SUCCESS;
    speex.reset(speex_resampler_init(1, static_cast<spx_uint32_t>(in_rate),
                                     static_cast<spx_uint32_t>(out_rate), quality, &err));
    if (speex == nullptr || err != RESAMPLER_ERR_SUCCESS) {
      return Status::Internal(std::string("speex_resampler_init: ") +
                              speex_resampler_strerror(err));
    }
    // No speex_resampler_skip_zeros: it would make the first frames come out short, and a
    // frame-based transcoder needs exactly N * ratio samples from every call.
  }
  return std::unique_ptr<Resampler>(new Resampler(in_rate, out_rate, std::move(speex)));
}

Resampler::Resampler(int in_rate, int out_rate, SpeexPtr speex)
    : in_rate_(in_rate), out_rate_(out_rate), speex_(std::move(speex)) {}

size_t Resampler::OutputSize(size_t in_samples) const {
  return in_samples * static_cast<size_t>(out_rate_) / static_cast<size_t>(in_rate_);
}

int Resampler::delay_samples() const {
  if (speex_ == nullptr) return 0;
  return speex_resampler_get_output_latency(speex_.get());
}

Result<size_t> Resampler::Process(std::span<const int16_t> in, std::span<int16_t> out) {
  const size_t want = OutputSize(in.size());
  if (out.size() < want) return Status::ResourceExhausted("resampler output buffer too small");
  if (speex_ == nullptr) {
    std::copy(in.begin(), in.end(), out.begin());
    return in.size();
  }
  spx_uint32_t in_len = static_cast<spx_uint32_t>(in.size());
  spx_uint32_t out_len = static_cast<spx_uint32_t>(want);
  const int err =
      speex_resampler_process_int(speex_.get(), 0, in.data(), &in_len, out.data(), &out_len);
  if (err != RESAMPLER_ERR_SUCCESS) {
    return Status::Internal(std::string("speex_resampler_process_int: ") +
                            speex_resampler_strerror(err));
  }
  return static_cast<size_t>(out_len);
}

}  // namespace sb::codec
