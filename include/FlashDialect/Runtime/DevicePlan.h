//===- DevicePlan.h - Run-time masks planned on the GPU ---------*- C++ -*-===//
//
// A call whose ranges are CUDA tensors is planned where they are, by the
// planning kernel (lib/Runtime/PlanKernel.cu), so that it never copies them
// to the host nor waits for the stream (nor breaks a CUDA graph capture).
// The host knows only the slice count and the token counts, so it sizes
// everything by bounds: the launch covers slotCapacity() slots (spare ones
// empty), and the kernels of several item classes are launched one after
// the other, each with a slot table of its own, of which the planner fills
// the smallest class's that holds the plan (the others' CTAs find no rows).
// Bad ranges cannot raise before the launch: the planner refuses them on
// the GPU, writes why into status words and NaN into out and lse, and the
// caller reads the status when it synchronises (devicePlanProblem).
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_RUNTIME_DEVICEPLAN_H
#define FATTN_RUNTIME_DEVICEPLAN_H

#include "FlashDialect/Runtime/CudaDriver.h"
#include "FlashDialect/Runtime/Problem.h"
#include "FlashDialect/Runtime/RuntimeSchedule.h"

#include <optional>
#include <string>
#include <vector>

namespace fattn::runtime {

/// A call's mask in device memory: MagiAttention's ranges (int32 [N][2],
/// [N][2] and [N] kinds, 0 for all full) or FlashAttention's cu_seqlens
/// (int32 [N + 1] each, every sequence one slice of `seqlensKind`).
struct DeviceRanges {
  uint64_t qRanges = 0, kRanges = 0, kinds = 0;
  uint64_t cuSeqlensQ = 0, cuSeqlensK = 0;
  mask::SliceKind seqlensKind = mask::SliceKind::Full;
  int64_t count = 0; // slices, or sequences
  int64_t numQ = 0, numK = 0;

  bool isVarlen() const { return cuSeqlensQ != 0 || cuSeqlensK != 0; }
};

/// Words of the planner's status (plan_kernel::kStatusFields).
constexpr int kDevicePlanStatusWords = 16;

/// Where the planner writes each table in one buffer (int32 offsets), and
/// the bounds it plans within.
struct DevicePlanLayout {
  RuntimeSchedule schedule;        // the classes' common record
  std::vector<int64_t> classItems; // ascending
  int64_t numQ = 0, numK = 0, count = 0;
  bool varlen = false; // cu_seqlens (sequences) rather than ranges (slices)
  bool keyMajor = false; // the backward's plan: rows are keys
  /// What the plan tiles and the tiles' rows (the queries in tiles of
  /// schedule.blockQ, or a key-major plan's keys in tiles of blockK), the
  /// other axis's tile, and the slices table's records (a key-major plan:
  /// each slice's three transposed pieces, unused ones empty).
  int64_t rows() const { return keyMajor ? numK : numQ; }
  int64_t rowTile() const {
    return keyMajor ? schedule.blockK : schedule.blockQ;
  }
  int64_t columnTile() const {
    return keyMajor ? schedule.blockQ : schedule.blockK;
  }
  int64_t records() const;
  int64_t capSlots = 0, capItems = 0;
  std::vector<size_t> classSlots;
  size_t items = 0, itemSlices = 0, slices = 0, status = 0, scratch = 0;
  size_t words = 0;
  /// Bytes of dynamic shared memory the planner's scratch takes there, or
  /// 0 where it must stay in the buffer (too many slots to sort in shared
  /// memory).
  size_t sharedScratchBytes = 0;

  size_t bytes() const { return words * sizeof(int32_t); }
  /// Class c's plan as its kernel binds it: the tables' offsets in this
  /// buffer, capSlots launch slots, and no host tables.
  PlannedSchedule viewOf(size_t c) const;
};

/// The layout of a call for kernels of `schedules` (one per item class:
/// the same record but for maxItemsPerTile, ascending), or nullopt with
/// `error` naming the problem: no classes or mismatched ones, a negative or
/// too large count, token counts outside [0, 2^31 - 1], missing pointers.
std::optional<DevicePlanLayout>
layoutDevicePlan(const std::vector<RuntimeSchedule> &schedules,
                 const DeviceRanges &ranges, std::string *error);

/// The backward's key-major layout of the same call: for each key tile of
/// schedule.blockK keys, the query tiles of schedule.blockQ queries that
/// the slices' transposes (mask::transposeMask's pieces, three records a
/// slice: piece k of slice i is record 3i + k) visit, as
/// mask::buildKeyMajorSchedule plans them on the host. schedule.queryTiles
/// says how the key tiles are cut; the key edge must be Clipped (query
/// tiles end at the queries' end).
std::optional<DevicePlanLayout>
layoutKeyMajorPlan(const std::vector<RuntimeSchedule> &schedules,
                   const DeviceRanges &ranges, std::string *error);

/// Why the planner refused the call whose status words these are (they
/// name the slice and value, as mask::maskFromRanges does on the host), or
/// nullopt if it planned it.
std::optional<std::string>
devicePlanProblem(const int32_t status[kDevicePlanStatusWords],
                  const DevicePlanLayout &layout);

/// The planning kernel's outputs for a refused call.
struct RefusedOutputs {
  uint64_t out = 0, lse = 0;
  int64_t outElements = 0, lseElements = 0;
  uint16_t outNaN = 0x7fff; // a quiet NaN of out's 16-bit type
};

/// The outputs of a call of `type` with out's and lse's element counts:
/// the planner writes a quiet NaN into every 16-bit half of out (for f32,
/// 0x7fc07fc0 is a NaN too) and into every lse float.
RefusedOutputs refusedOutputsOf(ElementType type, uint64_t out, uint64_t lse,
                                int64_t outElements, int64_t lseElements);

/// The planning kernel's argument bytes for a launch writing into the
/// buffer at `base` (device or, emulated, host memory); with
/// `scratchInShared`, the launch gives sharedScratchBytes of dynamic
/// shared memory and the scratch part of the buffer goes unused.
std::vector<uint8_t> devicePlanArguments(const DevicePlanLayout &layout,
                                         const DeviceRanges &ranges,
                                         uint64_t base,
                                         const RefusedOutputs &outputs,
                                         bool scratchInShared);

/// The planning kernel loaded into a context, and the buffer its plans
/// go to (grown as needed; launches on one stream may share it).
class DevicePlanner {
public:
  /// nullopt with `error` when the runtime was built without nvcc.
  static std::optional<DevicePlanner> load(const cuda::Context &context,
                                           std::string *error);
  static bool isAvailable();

  /// Makes the buffer hold `layout`'s plan (pointer() may change): waits
  /// for `stream` when it must grow, and refuses to grow while `stream`
  /// captures a CUDA graph (a call of that size must come first).
  cuda::Status reserve(const DevicePlanLayout &layout, cuda::CUstream stream);
  /// Enqueues the plan of `ranges` on `stream` (after reserve); the
  /// layout's views then bind the kernels, with tables at pointer().
  cuda::Status enqueue(const DevicePlanLayout &layout,
                       const DeviceRanges &ranges,
                       const RefusedOutputs &outputs, cuda::CUstream stream);
  cuda::CUdeviceptr pointer() const { return buffer ? buffer->pointer() : 0; }

  /// Waits for the stream of the last plan and reads its status: nullopt if
  /// it was planned (or there is none), else why not.
  std::optional<std::string> lastProblem(std::string *cudaError) const;
  /// A call that planned nothing (no query tokens): no status to report.
  void forgetLast() { last.reset(); }

private:
  bool isCapturing(cuda::CUstream stream) const;

  const cuda::Driver *driver = nullptr;
  cuda::Module module;
  cuda::CUfunction function = nullptr;
  size_t maxSharedBytes = 0; // the dynamic shared memory a launch may take
  std::optional<cuda::DeviceBuffer> buffer;
  std::optional<DevicePlanLayout> last;
  cuda::CUstream lastStream = nullptr;
  bool captured = false; // a plan was enqueued into a CUDA graph capture
  std::vector<cuda::DeviceBuffer> retired; // buffers such a graph may use
};

} // namespace fattn::runtime

#endif // FATTN_RUNTIME_DEVICEPLAN_H
