// Conference mixing: every member hears the sum of everyone else ("mix minus"), clipped to 16
// bits. The total is summed once in 32 bits and each member's own contribution subtracted, so
// N members cost O(N) per sample instead of O(N^2).
//
//   std::array<const int16_t*, 3> in = {a, b, c};      // what each member sent this frame
//   std::array<int16_t*, 3> out = {to_a, to_b, to_c};  // what each member will hear
//   sb::media::MixMinusSelf(in, out, 160);
//
// A null input is a silent member (muted, or nothing arrived); a null output is a member who
// hears nothing (deaf). Allocation free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace sb::media {

void MixMinusSelf(std::span<const int16_t* const> inputs, std::span<int16_t* const> outputs,
                  size_t samples);

// Adds b into a with clipping (mixed recordings: what a leg sent plus what it heard).
void MixInto(std::span<int16_t> a, std::span<const int16_t> b);

}  // namespace sb::media
