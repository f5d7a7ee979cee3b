//===- GpuSuitePrograms.cpp - The CPU suite's masks as GPU programs -------===//
//
// gpu-suite-programs DIR writes DIR/suite-<case>-<dtype>.mlir for every case
// of the CPU execution suite, with the head dim raised to one the GPU kernels
// take (64 or 128) and the element type alternating bf16 / f16. Cases whose
// masks leave rows empty get a "sanitize-" prefix so that the device script
// also runs them under compute-sanitizer.
//
//===----------------------------------------------------------------------===//

#include "ExecutionCases.h"

#include "FlashDialect/CpuRunner.h"

#include <cstdio>
#include <fstream>

using namespace ::fattn::testing;

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
    std::ofstream out(folder + "/" + name + ".mlir");
    if (!out) {
      std::fprintf(stderr, "gpu-suite-programs: cannot write %s/%s.mlir\n",
                   folder.c_str(), name.c_str());
      return 2;
    }
    out << mlir::fattn::formatAttentionProgram(c.mask, shape, c.params,
                                               "attention", type);
    ++written;
  }
  std::printf("gpu-suite-programs: %d programs in %s\n", written,
              folder.c_str());
  return 0;
}
