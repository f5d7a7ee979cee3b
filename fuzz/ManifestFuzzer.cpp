//===- ManifestFuzzer.cpp - libFuzzer target: the manifest reader ---------===//
//
// Any text goes to parseManifest. What it accepts must be within every
// limit the runtime relies on, must print and read back to the same
// manifest, and its mask must pass MaskOracle's checks.
//
//===----------------------------------------------------------------------===//

#include "MaskOracle.h"

#include "FlashDialect/Limits.h"
#include "FlashDialect/Runtime/Manifest.h"
#include "FlashDialect/Runtime/Reference.h"

using namespace fattn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  std::string error;
  std::optional<runtime::KernelManifest> manifest =
      runtime::parseManifest(text, &error);
  if (!manifest) {
    if (error.empty())
      fuzz::violated("a manifest was rejected without a reason", {});
    return 0;
  }
  const runtime::KernelManifest &m = *manifest;
  // A run-time mask's token counts come with each launch (and its grid y
  // from the plan): the limits hold for any count, 1 stands for them.
  runtime::AttentionShape shape = m.shape;
  if (m.hasRuntimeMask()) {
    if (!m.mask.empty() || m.grid[1] != 0)
      fuzz::violated("a run-time-mask manifest has slices or a grid y", m.mask);
    shape.numQ = shape.numQ == runtime::kDynamicExtent ? 1 : shape.numQ;
    shape.numK = shape.numK == runtime::kDynamicExtent ? 1 : shape.numK;
  } else if (m.grid[1] == 0 || shape.numQ < 0 || shape.numK < 0) {
    fuzz::violated("a static manifest has a run-time grid or length", m.mask);
  }
  if (runtime::checkShape(shape) || runtime::checkParams(m.params))
    fuzz::violated("an accepted manifest breaks a shape or scale limit", m.mask);
  if (m.grid[0] > limits::kMaxGridX || m.grid[1] > limits::kMaxGridYZ ||
      m.grid[2] > limits::kMaxGridYZ ||
      int64_t(m.block[0]) * m.block[1] * m.block[2] > limits::kMaxBlockThreads ||
      m.sharedBytes > limits::kMaxSharedBytesAnyGpu)
    fuzz::violated("an accepted manifest breaks a launch limit", m.mask);
  if (mask::validate(m.mask, shape.numQ, shape.numK))
    fuzz::violated("an accepted manifest has an invalid mask", m.mask);
  std::string printed = runtime::formatManifest(m);
  std::optional<runtime::KernelManifest> again =
      runtime::parseManifest(printed, &error);
  if (!again || runtime::formatManifest(*again) != printed)
    fuzz::violated("a manifest does not read back as printed", m.mask);
  fuzz::checkMask(m.mask, shape.numQ, shape.numK, {64, 64});
  return 0;
}
