//===- Manifest.h - What a compiled kernel needs to be launched -*- C++ -*-===//
//
// A compiled kernel travels as two files, NAME.ptx and NAME.manifest. The
// manifest says how to launch the PTX (entry symbol, grid, block, dynamic
// shared memory) and what it computes (dtype, shape, scale, softcap, mask),
// so that a runtime without MLIR or LLVM can launch it and check it against
// the reference. The compiler writes it with formatManifest; the runtime
// reads it with parseManifest / readManifest.
//
// Format, version 2: line-based text, one record a line, fields separated by
// spaces, blank lines and lines starting with '#' ignored:
//
//   fattn-manifest 2                       (first record)
//   kernel <entry symbol in the PTX>
//   ptx <PTX file name, relative to the manifest's folder>
//   grid <x> <y> <z>
//   block <x> <y> <z>
//   shared <dynamic shared memory bytes per block>
//   param <name> <input|output> <bf16|f16|f32> <extent> ...   (one or more)
//   dtype <bf16|f16|f32>
//   shape <numQ> <numK> <headsQ> <headsK> <headDim>
//   scale <the effective softmax scale, > 0>
//   softcap <float, 0 = none>
//   slice <qBegin> <qEnd> <kBegin> <kEnd> <kind code>   (zero or more)
//
// Kernel ABI: the entry takes one 64-bit device pointer per `param` record,
// in their order, each to a contiguous row-major buffer of the record's
// element type and extents. The parameters named q, k, v, out and lse are
// the attention's "thd" tensors and must agree with dtype and shape: q and
// out (numQ, headsQ, headDim), k and v (numK, headsK, headDim), lse
// (numQ, headsQ) float32 (forwardParams). Version 1 had
// `params q k v out lse` in place of the param records, meaning exactly
// forwardParams; it is still read.
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
#include <vector>

namespace fattn::runtime {

/// The version this runtime writes; it reads this one and version 1.
constexpr int kManifestVersion = 2;

enum class ParamRole { Input, Output };

/// One kernel parameter: a device pointer to a contiguous buffer.
struct KernelParam {
  std::string name;
  ParamRole role = ParamRole::Input;
  ElementType dtype = ElementType::BF16;
  std::vector<int64_t> extents;

  int64_t elements() const;
  size_t bytes() const;
  bool operator==(const KernelParam &other) const {
    return name == other.name && role == other.role && dtype == other.dtype &&
           extents == other.extents;
  }
};

/// q, k, v, out, lse of a forward kernel of `dtype` and `shape`.
std::vector<KernelParam> forwardParams(ElementType dtype,
                                       const AttentionShape &shape);

struct KernelManifest {
  std::string kernel;  // entry symbol
  std::string ptxFile; // as written: relative to the manifest's folder
  std::array<unsigned, 3> grid = {1, 1, 1};
  std::array<unsigned, 3> block = {1, 1, 1};
  unsigned sharedBytes = 0; // dynamic shared memory per block
  /// In kernel-argument order.
  std::vector<KernelParam> parameters;
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
