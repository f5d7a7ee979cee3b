//===- Manifest.h - What a compiled kernel needs to be launched -*- C++ -*-===//
//
// A compiled kernel travels as two files, NAME.ptx and NAME.manifest. The
// manifest says how to launch the PTX (entry symbol, grid, block, dynamic
// shared memory) and what it computes (dtype, shape, scale, softcap, mask),
// so that a runtime without MLIR or LLVM can launch it and check it against
// the reference. The compiler writes it with formatManifest; the runtime
// reads it with parseManifest / readManifest.
//
// Format, version 4: line-based text, one record a line, fields separated by
// spaces, blank lines and lines starting with '#' ignored:
//
//   fattn-manifest 4                       (first record)
//   kernel <entry symbol in the PTX>
//   ptx <PTX file name, relative to the manifest's folder>
//   grid <x> <y> <z>     (y is '?' under a run-time mask, x where headsQ is)
//   block <x> <y> <z>
//   shared <dynamic shared memory bytes per block>
//   param <name> <role> <dtype> <extent> ...   (one or more, see below)
//   dtype <bf16|f16|f32>
//   shape <numQ> <numK> <headsQ> <headsK> <headDim>   (counts may be '?')
//   scale <the effective softmax scale, > 0, or '?'>
//   softcap <float, 0 = none, or '?'>
//   slice <qBegin> <qEnd> <kBegin> <kEnd> <kind code>   (zero or more)
//   schedule <blockQ> <blockK> <clipped|whole> <uniform|aligned>
//            <maxItemsPerTile>             (a run-time mask; then no slices)
//
// '?' means each launch gives the value; only a kernel with a run-time mask
// (a schedule record) has any.
//
// Kernel ABI: the entry takes one parameter per `param` record, in their
// order. Roles input and output are 64-bit device pointers to contiguous
// row-major buffers of the record's element type (bf16, f16, f32) and
// extents; an extent is a positive integer or, for a kernel whose token or
// head counts are run-time values, the name of the scalar parameter giving
// it. Role schedule (dtype i32) is a device pointer to one of the run-time
// plan's tables, which the runtime builds from the mask at each launch
// (RuntimeSchedule.h: slots, items, item_slices, slices), its row count '?'.
// Role scalar (no extents) is a 32-bit value passed by value: the plan's
// num_q, num_k, num_slots (i32), and the call's heads_q, heads_k (i32),
// scale and softcap (f32), each present exactly when the shape, scale or
// softcap record has '?' for it (a kernel without a softcap takes none).
// The parameters named q, k, v, out and lse are the attention's "thd"
// tensors and must agree with dtype and shape: q and out (numQ, headsQ,
// headDim), k and v (numK, headsK, headDim), lse (numQ, headsQ) float32
// (forwardParams). Version 1 had `params q k v out lse` in place of the
// param records, meaning exactly forwardParams; versions 1 to 3 are still
// read (version 3: no '?' but for token counts; 2: no run-time roles, no
// schedule record).
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

/// The version this runtime writes; it reads this one and 3, 2 and 1.
constexpr int kManifestVersion = 4;

enum class ParamRole { Input, Output, Schedule, Scalar };

/// The parameters of a run-time-mask kernel that the runtime fills in from
/// each call's plan, by the names the compiler gives them.
namespace plan_param {
inline constexpr const char *kSlots = "slots";
inline constexpr const char *kItems = "items";
inline constexpr const char *kItemSlices = "item_slices";
inline constexpr const char *kSlices = "slices";
inline constexpr const char *kNumQ = "num_q";
inline constexpr const char *kNumK = "num_k";
inline constexpr const char *kNumSlots = "num_slots";
} // namespace plan_param

/// The parameters of a run-time-mask kernel that each call gives besides its
/// mask: the head counts (i32, the extents of q, k, v, out and lse they
/// name) and the effective softmax scale and the softcap (f32; the softcap
/// only where the kernel was compiled with one).
namespace call_param {
inline constexpr const char *kHeadsQ = "heads_q";
inline constexpr const char *kHeadsK = "heads_k";
inline constexpr const char *kScale = "scale";
inline constexpr const char *kSoftcap = "softcap";
} // namespace call_param

/// The role's word in manifests and in the compiler's kernel description
/// ("input", "output", "schedule", "scalar"), and back.
inline std::string_view stringifyParamRole(ParamRole role) {
  constexpr std::string_view kNames[] = {"input", "output", "schedule",
                                         "scalar"};
  return kNames[static_cast<int>(role)];
}
inline std::optional<ParamRole> parseParamRole(std::string_view name) {
  for (ParamRole role : {ParamRole::Input, ParamRole::Output,
                         ParamRole::Schedule, ParamRole::Scalar})
    if (stringifyParamRole(role) == name)
      return role;
  return std::nullopt;
}

/// One kernel parameter: a device pointer to a contiguous buffer, or (role
/// Scalar) an i32 value.
struct KernelParam {
  std::string name;
  ParamRole role = ParamRole::Input;
  /// Of an input or output, or F32 for an f32 scalar; schedule tables and
  /// other scalars are i32.
  ElementType dtype = ElementType::BF16;
  /// kDynamicExtent where the launch decides.
  std::vector<int64_t> extents;
  /// For each dynamic extent, in order: the scalar parameter giving it, or
  /// "" for a schedule table's planned row count.
  std::vector<std::string> extentScalars;

  bool isScalar() const { return role == ParamRole::Scalar; }
  /// An f32 scalar (scale, softcap: dtype F32); other scalars are i32.
  bool isFloatScalar() const {
    return isScalar() && dtype == ElementType::F32;
  }
  /// Bytes of one element: 4 for schedule tables.
  size_t elementSize() const;
  /// Static extents only.
  int64_t elements() const;
  size_t bytes() const;
  bool operator==(const KernelParam &other) const {
    return name == other.name && role == other.role && dtype == other.dtype &&
           extents == other.extents && extentScalars == other.extentScalars;
  }
};

/// q, k, v, out, lse of a forward kernel of `dtype` and `shape`; a dynamic
/// count becomes an extent given by its scalar (num_q, num_k, heads_q,
/// heads_k).
std::vector<KernelParam> forwardParams(ElementType dtype,
                                       const AttentionShape &shape);

/// How a run-time mask is planned into the kernel's schedule tables: the
/// arguments of mask::buildWorkSchedule the kernel was compiled for, and the
/// most work items one query tile may have (the kernel's search is unrolled
/// that far).
struct RuntimeSchedule {
  int64_t blockQ = 0, blockK = 0;
  mask::KeyEdge keyEdge = mask::KeyEdge::Clipped;
  mask::QueryTiles queryTiles = mask::QueryTiles::Uniform;
  int64_t maxItemsPerTile = 1;
  bool operator==(const RuntimeSchedule &other) const {
    return blockQ == other.blockQ && blockK == other.blockK &&
           keyEdge == other.keyEdge && queryTiles == other.queryTiles &&
           maxItemsPerTile == other.maxItemsPerTile;
  }
};

struct KernelManifest {
  std::string kernel;  // entry symbol
  std::string ptxFile; // as written: relative to the manifest's folder
  /// grid[1] is 0 under a run-time mask: the plan's slot count; grid[0] is
  /// 0 where the call gives the heads: their count.
  std::array<unsigned, 3> grid = {1, 1, 1};
  std::array<unsigned, 3> block = {1, 1, 1};
  unsigned sharedBytes = 0; // dynamic shared memory per block
  /// In kernel-argument order.
  std::vector<KernelParam> parameters;
  ElementType dtype = ElementType::BF16;
  /// Counts are kDynamicExtent where the launch gives them.
  AttentionShape shape;
  /// scale is always the effective one (never 0); softcap 0 means none;
  /// either is kCallParam where the launch gives it.
  AttentionParams params;
  /// Empty under a run-time mask.
  mask::Mask mask;
  /// Set when the mask (and the token counts) come with each launch.
  std::optional<RuntimeSchedule> schedule;

  bool hasRuntimeMask() const { return schedule.has_value(); }
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
