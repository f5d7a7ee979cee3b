//===- ReferenceKernelPtx.h - The PTX of ReferenceKernel.cu -----*- C++ -*-===//
//
// Defined in a file generated at build time: the PTX nvcc made of
// ReferenceKernel.cu, or nullptr when the build found no nvcc.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_LIB_RUNTIME_REFERENCEKERNELPTX_H
#define FATTN_LIB_RUNTIME_REFERENCEKERNELPTX_H

namespace fattn::runtime::reference_kernel {

extern const char *const kPtx;
/// Why kPtx is null ("" when it is not).
extern const char *const kPtxUnavailableReason;

} // namespace fattn::runtime::reference_kernel

#endif // FATTN_LIB_RUNTIME_REFERENCEKERNELPTX_H
