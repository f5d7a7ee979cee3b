//===- PlanKernelPtx.h - The PTX of PlanKernel.cu ---------------*- C++ -*-===//
//
// Defined in a file generated at build time: the PTX nvcc made of
// PlanKernel.cu, or nullptr when the build found no nvcc.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_LIB_RUNTIME_PLANKERNELPTX_H
#define FATTN_LIB_RUNTIME_PLANKERNELPTX_H

namespace fattn::runtime::plan_kernel {

extern const char *const kPtx;
/// Why kPtx is null ("" when it is not).
extern const char *const kPtxUnavailableReason;

} // namespace fattn::runtime::plan_kernel

#endif // FATTN_LIB_RUNTIME_PLANKERNELPTX_H
