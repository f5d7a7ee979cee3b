//===- Manifest.h - What a compiled kernel needs to be launched -*- C++ -*-===//
//
// A compiled kernel travels as two files, NAME.ptx and NAME.manifest. The
// manifest says how to launch the PTX (entry symbol, grid, block, dynamic
// shared memory) and what it computes (dtype, shape, scale, softcap, mask),
// so that a runtime without MLIR or LLVM can launch it and check it against
// the reference. The compiler writes it with formatManifest; the runtime
// reads it with parseManifest / readManifest.
//
// Format, version 1: line-based text, one record a line, fields separated by
// spaces, blank lines and lines starting with '#' ignored:
//
//   fattn-manifest 1                       (first record)
//   kernel <entry symbol in the PTX>
//   ptx <PTX file name, relative to the manifest's folder>
//   grid <x> <y> <z>
//   block <x> <y> <z>
//   shared <dynamic shared memory bytes per block>
//   params q k v out lse
//   dtype <bf16|f16|f32>
//   shape <numQ> <numK> <headsQ> <headsK> <headDim>
//   scale <the effective softmax scale, > 0>
//   softcap <float, 0 = none>
//   slice <qBegin> <qEnd> <kBegin> <kEnd> <kind code>   (zero or more)
//
// Kernel ABI: the entry takes the params in that order, each a 64-bit device
// pointer to a contiguous "thd" buffer: q (numQ, headsQ, headDim), k and v
// (numK, headsK, headDim), out (numQ, headsQ, headDim), all of dtype, and lse
// (numQ, headsQ) float32.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_RUNTIME_MANIFEST_H
#define FATTN_RUNTIME_MANIFEST_H

#include "FlashDialect/Mask/Mask.h"
#include "FlashDialect/Runtime/Problem.h"

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace fattn::runtime {

/// The version this runtime reads and writes.
constexpr int kManifestVersion = 1;

struct KernelManifest {
  std::string kernel;  // entry symbol
  std::string ptxFile; // as written: relative to the manifest's folder
  std::array<unsigned, 3> grid = {1, 1, 1};
  std::array<unsigned, 3> block = {1, 1, 1};
  unsigned sharedBytes = 0; // dynamic shared memory per block
  ElementType dtype = ElementType::BF16;
  AttentionShape shape;
  /// scale is always the effective one (never 0); softcap 0 means none.
  AttentionParams params;
  mask::Mask mask;
};

/// Parses a manifest. On failure returns nullopt and sets `error` (if
/// non-null) to one line naming the problem and, where there is one, the line
/// ("line 4: 'grid' takes 3 values, got 2"; "missing required key 'shape'";
/// "mask: slices 0 and 1 both attend (q 3, k 0)").
std::optional<KernelManifest> parseManifest(std::string_view text,
                                            std::string *error);

/// Reads and parses the file at `path`; errors are prefixed with the path.
std::optional<KernelManifest> readManifest(const std::string &path,
                                           std::string *error);

/// The manifest as text, one record a line, in the order of the format above.
/// parseManifest(formatManifest(m)) reproduces `m` exactly (floats are
/// written with enough digits to round-trip).
std::string formatManifest(const KernelManifest &manifest);

/// The PTX file of the manifest read from `manifestPath`: ptxFile resolved
/// against the manifest's folder (absolute ptxFile paths are kept).
std::string resolvePtxPath(const std::string &manifestPath,
                           const KernelManifest &manifest);

/// Reads a whole file. nullopt with "cannot read 'PATH': <reason>" on failure.
std::optional<std::string> readTextFile(const std::string &path,
                                        std::string *error);

} // namespace fattn::runtime

#endif // FATTN_RUNTIME_MANIFEST_H
