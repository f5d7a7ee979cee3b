//===- GpuSuitePrograms.cpp - The CPU suite's masks as GPU programs -------===//
//
// gpu-suite-programs DIR writes DIR/suite-<case>-<dtype>.mlir for every case
// of the CPU execution suite, with the head dim raised to one the GPU kernels
// take (64 or 128) and the element type alternating bf16 / f16. Cases whose
// masks leave rows empty get a "sanitize-" prefix so that the device script
// also runs them under compute-sanitizer. Beside each, runtime-<name>.mlir is
// the same attention with the mask as ranges operands and dynamic lengths;
// the device script runs its kernel with the static kernel's mask and shape
// (fattn-launch --mask-of), and its first line tells stage-device.sh the
// fattn-run flags it needs (the most slices one query tile attends).
//
//===----------------------------------------------------------------------===//

#include "ExecutionCases.h"

#include "FlashDialect/CpuRunner.h"
#include "FlashDialect/Mask/Schedule.h"
#include "FlashDialect/Passes.h"

#include <cstdio>
#include <fstream>

using namespace ::fattn::testing;

/// The most work items a query tile of the GPU's default tiling (fattn-run's
/// 128 x 64, the GPU pipeline's key edge and query tiles) has, as a power of
/// two (the kernel searches them in log2 steps anyway).
static int64_t itemsPerTile(const ::fattn::mask::Mask &mask,
                            const runtime::AttentionShape &shape) {
  std::optional<::fattn::mask::WorkSchedule> schedule =
      ::fattn::mask::buildWorkSchedule(
          mask, shape.numQ, shape.numK, {128, 64},
          mlir::fattn::kGpuWholeKeyTiles ? ::fattn::mask::KeyEdge::Whole
                                         : ::fattn::mask::KeyEdge::Clipped,
          mlir::fattn::kGpuAlignQueryTiles
              ? ::fattn::mask::QueryTiles::SliceAligned
              : ::fattn::mask::QueryTiles::Uniform);
  int64_t most = schedule ? ::fattn::mask::kernelScheduleTables(*schedule)
                                .maxItemsPerTile
                          : 1;
  int64_t items = 1;
  while (items < most)
    items *= 2;
  return items;
}

static bool write(const std::string &path, const std::string &text) {
  std::ofstream out(path);
  out << text;
  if (out)
    return true;
  std::fprintf(stderr, "gpu-suite-programs: cannot write %s\n", path.c_str());
  return false;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: gpu-suite-programs DIR\n");
    return 2;
  }
  std::string folder = argv[1];
  int written = 0;
  for (const ExecutionCase &c : allCases()) {
    runtime::AttentionShape shape = c.shape;
    shape.headDim = shape.headDim <= 64 ? 64 : 128;
    auto type = written % 2 ? runtime::ElementType::F16
                            : runtime::ElementType::BF16;
    bool hasEmptyRows = false;
    for (int64_t row = 0; row < shape.numQ && !hasEmptyRows; ++row) {
      bool attends = false;
      for (const Slice &s : c.mask)
        attends |= !s.keysOfRow(row).empty();
      hasEmptyRows = !attends;
    }
    std::string name = std::string(hasEmptyRows ? "sanitize-" : "") +
                       "suite-" + c.name + "-" +
                       std::string(runtime::stringifyElementType(type));
    if (!write(folder + "/" + name + ".mlir",
               mlir::fattn::formatAttentionProgram(c.mask, shape, c.params,
                                                   "attention", type)) ||
        !write(folder + "/runtime-" + name + ".mlir",
               "// fattn-run-flags: --max-items-per-tile=" +
                   std::to_string(itemsPerTile(c.mask, shape)) + "\n" +
                   mlir::fattn::formatRuntimeMaskProgram(shape, c.params,
                                                         "attention", type)))
      return 2;
    ++written;
  }
  std::printf("gpu-suite-programs: %d programs, and their run-time forms, in "
              "%s\n",
              written,
              folder.c_str());
  return 0;
}
