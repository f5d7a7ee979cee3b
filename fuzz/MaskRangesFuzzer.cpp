//===- MaskRangesFuzzer.cpp - libFuzzer target: the mask algebra ----------===//
//
// Bytes become lengths, tile sizes and slices, either small (every value
// below 48, so cells can be enumerated) or anywhere up to 2^62 (so that
// work linear in rows shows up as a hang). See MaskOracle.h for what is
// checked.
//
//===----------------------------------------------------------------------===//

#include "MaskOracle.h"

#include <cstring>

using namespace fattn;

namespace {

/// Reads values from the input, zeros once it runs out.
struct Reader {
  const uint8_t *data;
  size_t size;

  uint64_t next(size_t bytes) {
    uint64_t value = 0;
    size_t take = std::min(bytes, size);
    std::memcpy(&value, data, take);
    data += take;
    size -= take;
    return value;
  }
  /// Small values, or ones spread over [0, 2^62] with a bias to the ends.
  int64_t index(bool large) {
    if (!large)
      return int64_t(next(1) % 48);
    uint64_t raw = next(8);
    switch (raw & 3) {
    case 0:
      return int64_t(raw >> 2) % 64;
    case 1:
      return mask::kMaxIndex - int64_t(raw >> 2) % 64;
    default:
      return int64_t(raw >> 2) % (mask::kMaxIndex + 1);
    }
  }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Reader in{data, size};
  bool large = in.next(1) & 1;
  int64_t numQ = in.index(large), numK = in.index(large);
  mask::TileSizes tile{int64_t(in.next(1) % 32) + 1,
                       int64_t(in.next(1) % 32) + 1};
  mask::Mask slices;
  while (in.size > 0 && slices.size() < 64) {
    mask::Slice slice;
    slice.qBegin = in.index(large);
    slice.qEnd = in.index(large);
    slice.kBegin = in.index(large);
    slice.kEnd = in.index(large);
    slice.kind = static_cast<mask::SliceKind>(in.next(1) % mask::kNumSliceKinds);
    slices.push_back(slice);
  }
  fuzz::checkMask(slices, numQ, numK, tile);
  return 0;
}
