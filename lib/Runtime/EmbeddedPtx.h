//===- EmbeddedPtx.h - The PTX of the runtime's CUDA kernels ----*- C++ -*-===//
//
// Defined in files generated at build time (EmbedPtx.cmake): the PTX nvcc
// made of each kernel's .cu, or nullptr when the build found no nvcc, with
// the reason.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_LIB_RUNTIME_EMBEDDEDPTX_H
#define FATTN_LIB_RUNTIME_EMBEDDEDPTX_H

#define FATTN_DECLARE_EMBEDDED_PTX(NAMESPACE)                                  \
  namespace fattn::runtime::NAMESPACE {                                        \
  extern const char *const kPtx;                                               \
  /* Why kPtx is null ("" when it is not). */                                  \
  extern const char *const kPtxUnavailableReason;                              \
  }

/// ReferenceKernel.cu: the GPU reference (GpuReference.h).
FATTN_DECLARE_EMBEDDED_PTX(reference_kernel)
/// PlanKernel.cu: the planner of CUDA range tensors (DevicePlan.h).
FATTN_DECLARE_EMBEDDED_PTX(plan_kernel)

#undef FATTN_DECLARE_EMBEDDED_PTX

#endif // FATTN_LIB_RUNTIME_EMBEDDEDPTX_H
