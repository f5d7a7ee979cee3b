//===- GpuTarget.cpp - The GPUs fattn compiles for ------------------------===//

#include "FlashDialect/GpuTarget.h"

#include <algorithm>
#include <charconv>

using namespace mlir::fattn;

namespace {

struct ChipInfo {
  const char *name;
  int minPtx; // PTX ISA version x 10, as in "+ptx80"
  int64_t maxSharedBytes;
};

// PTX versions from the PTX ISA's target table; shared memory from CUDA's
// per-architecture limit on dynamic shared memory per block.
constexpr int64_t k99KiB = 99 * 1024, k163KiB = 163 * 1024,
                  k227KiB = 227 * 1024;
constexpr ChipInfo kChips[] = {
    {"sm_80", 70, k163KiB},   {"sm_86", 71, k99KiB},
    {"sm_87", 74, k163KiB},   {"sm_89", 78, k99KiB},
    {"sm_90", 78, k227KiB},   {"sm_90a", 80, k227KiB},
    {"sm_100", 86, k227KiB},  {"sm_100a", 86, k227KiB},
    {"sm_103", 88, k227KiB},  {"sm_103a", 88, k227KiB},
    {"sm_120", 87, k99KiB},   {"sm_120a", 87, k99KiB},
    {"sm_121", 88, k99KiB},   {"sm_121a", 88, k99KiB},
};

/// The PTX versions LLVM 22's NVPTX backend emits, from 7.0 (the first with
/// mma.sync on bf16 and cp.async).
constexpr int kPtxVersions[] = {70, 71, 72, 73, 74, 75, 76, 77, 78, 80,
                                81, 82, 83, 84, 85, 86, 87, 88, 90};

/// What the kernels were written against; newer chips raise it.
constexpr int kDefaultPtx = 80;

std::string formatPtx(int version) {
  return std::to_string(version / 10) + "." + std::to_string(version % 10);
}

} // namespace

std::string mlir::fattn::supportedGpuChips() {
  std::string list;
  for (const ChipInfo &chip : kChips)
    list += (list.empty() ? "" : ", ") + std::string(chip.name);
  return list;
}

std::optional<std::string>
mlir::fattn::resolveGpuTarget(std::string_view chip, std::string_view features,
                              GpuTarget &target) {
  const ChipInfo *info = nullptr;
  for (const ChipInfo &candidate : kChips)
    if (chip == candidate.name)
      info = &candidate;
  if (!info)
    return "unsupported chip '" + std::string(chip) +
           "'; the kernels need sm_80 or newer, one of: " + supportedGpuChips();

  int ptx = std::max(kDefaultPtx, info->minPtx);
  if (!features.empty()) {
    std::string_view digits = features.substr(std::min<size_t>(4, features.size()));
    auto [end, error] =
        std::from_chars(digits.data(), digits.data() + digits.size(), ptx);
    bool known = features.substr(0, 4) == "+ptx" && error == std::errc() &&
                 end == digits.data() + digits.size() &&
                 std::find(std::begin(kPtxVersions), std::end(kPtxVersions),
                           ptx) != std::end(kPtxVersions);
    if (!known)
      return "features '" + std::string(features) +
             "' must be empty (the chip's PTX version) or +ptxNN for a PTX "
             "version from 7.0 (+ptx70) to 9.0 (+ptx90)";
    if (ptx < info->minPtx)
      return "PTX " + formatPtx(ptx) + " (features '" + std::string(features) +
             "') cannot target " + info->name + ", which needs PTX " +
             formatPtx(info->minPtx) + " or newer";
  }
  target.chip = info->name;
  target.features = "+ptx" + std::to_string(ptx);
  target.maxSharedBytes = info->maxSharedBytes;
  // Every chip in the table runs the mma.sync kernels; an sm_90a family
  // is chosen here once its builders exist.
  target.family = GpuKernelFamily::MmaSync;
  return std::nullopt;
}
