//===- GpuCompiler.h - fattn programs to PTX plus a manifest ----*- C++ -*-===//
//
// The compiler end of the GPU path: lowers a tensor-level program with the
// fattn-to-ptx pipeline and returns the PTX and the manifest (kernel name,
// launch geometry, parameter order, shape, mask) that the runtime reads on a
// machine with a GPU and no LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_GPUCOMPILER_H
#define FATTN_GPUCOMPILER_H

#include "FlashDialect/CpuRunner.h"
#include "FlashDialect/Passes.h"
#include "FlashDialect/Runtime/Manifest.h"

#include <string>

namespace mlir::fattn {

struct GpuKernelArtifacts {
  std::string ptx;
  ::fattn::runtime::KernelManifest manifest;
};

/// Lowers `module` (modified in place). `ptxFileName` is recorded in the
/// manifest as the PTX's name beside it.
FailureOr<GpuKernelArtifacts>
compileForGpu(ModuleOp module, const AttentionProgram &program,
              const FattnToPTXPipelineOptions &options,
              StringRef ptxFileName);

} // namespace mlir::fattn

#endif // FATTN_GPUCOMPILER_H
