//===- DevicePlan.cpp - Run-time masks planned on the GPU -----------------===//

#include "FlashDialect/Runtime/DevicePlan.h"

#include "FlashDialect/Limits.h"
#include "FlashDialect/Mask/Schedule.h"
#include "FlashDialect/Mask/TileGeometry.h"
#include "PlanKernelArgs.h"
#include "EmbeddedPtx.h"

#include <cstring>

namespace fattn::runtime {

namespace pk = plan_kernel;
using cuda::Status;

static_assert(kDevicePlanStatusWords == pk::kStatusFields,
              "the status words changed: update DevicePlan.h");

namespace {

std::nullopt_t fail(std::string *error, std::string message) {
  if (error)
    *error = std::move(message);
  return std::nullopt;
}

/// Why `schedules` cannot share one call, or nullopt.
std::optional<std::string>
checkClasses(const std::vector<RuntimeSchedule> &schedules) {
  if (schedules.empty())
    return std::string("no kernels given");
  if (int64_t(schedules.size()) > pk::kMaxClasses)
    return std::to_string(schedules.size()) + " kernels given; at most " +
           std::to_string(pk::kMaxClasses) + " item classes share a call";
  for (size_t c = 0; c < schedules.size(); ++c) {
    RuntimeSchedule same = schedules[c];
    same.maxItemsPerTile = schedules[0].maxItemsPerTile;
    if (!(same == schedules[0]))
      return "kernel " + std::to_string(c) +
             " tiles differently from kernel 0 (block sizes, key edge or "
             "query tiles)";
    if (schedules[c].maxItemsPerTile < 1 ||
        (c > 0 &&
         schedules[c].maxItemsPerTile <= schedules[c - 1].maxItemsPerTile))
      return std::string("the kernels' item classes must ascend from 1 item "
                         "per tile up");
  }
  return std::nullopt;
}

/// Why the host cannot even size the call, or nullopt.
std::optional<std::string> checkRanges(const DeviceRanges &ranges) {
  for (auto [count, name] :
       {std::pair{ranges.numQ, "query"}, {ranges.numK, "key"}})
    if (count < 0 || count > limits::kMaxTokens)
      return std::string(name) + " token count " + std::to_string(count) +
             " is outside [0, 2^31 - 1]";
  if (ranges.count < 0 || ranges.count > mask::kMaxTileMapEntries)
    return (ranges.isVarlen() ? "sequence count " : "slice count ") +
           std::to_string(ranges.count) + " is outside [0, 2^26]";
  if (ranges.isVarlen()) {
    if (!ranges.cuSeqlensQ || !ranges.cuSeqlensK)
      return std::string("cu_seqlens_q and cu_seqlens_k must both be given");
    if (ranges.qRanges || ranges.kRanges || ranges.kinds)
      return std::string("give either ranges or cu_seqlens, not both");
  } else if (ranges.count > 0 && (!ranges.qRanges || !ranges.kRanges)) {
    return "q_ranges and k_ranges must be given for " +
           std::to_string(ranges.count) + " slices";
  }
  return std::nullopt;
}

} // namespace

RefusedOutputs refusedOutputsOf(ElementType type, uint64_t out, uint64_t lse,
                                int64_t outElements, int64_t lseElements) {
  RefusedOutputs outputs;
  outputs.out = out;
  outputs.lse = lse;
  outputs.outElements = type == ElementType::F32 ? 2 * outElements : outElements;
  outputs.lseElements = lseElements;
  outputs.outNaN = type == ElementType::F16 ? 0x7e00 : 0x7fc0;
  return outputs;
}

int64_t DevicePlanLayout::records() const {
  return pk::planRecords(count, keyMajor);
}

PlannedSchedule DevicePlanLayout::viewOf(size_t c) const {
  PlannedSchedule view;
  view.numQ = numQ;
  view.numK = numK;
  view.numSlots = rows() > 0 ? capSlots : 0;
  view.maxItemsPerTile = classItems[c];
  view.slots = classSlots[c];
  view.items = items;
  view.itemSlices = itemSlices;
  view.slices = slices;
  return view;
}

namespace {
std::optional<DevicePlanLayout>
layoutPlan(const std::vector<RuntimeSchedule> &schedules,
           const DeviceRanges &ranges, bool keyMajor, std::string *error) {
  if (std::optional<std::string> problem = checkClasses(schedules))
    return fail(error, *problem);
  if (std::optional<std::string> problem = checkRanges(ranges))
    return fail(error, *problem);
  DevicePlanLayout layout;
  layout.schedule = schedules[0];
  for (const RuntimeSchedule &schedule : schedules)
    layout.classItems.push_back(schedule.maxItemsPerTile);
  layout.numQ = ranges.numQ;
  layout.numK = ranges.numK;
  layout.count = ranges.count;
  layout.varlen = ranges.isVarlen();
  layout.keyMajor = keyMajor;
  bool aligned = layout.schedule.queryTiles == mask::QueryTiles::SliceAligned;
  // No tile holds more than rowTile() rows: what cannot fit a grid's y
  // dimension is refused here, as the host planner refuses it.
  int64_t fewestTiles =
      mask::geometry::ceilDiv(layout.rows(), layout.rowTile());
  if (fewestTiles > limits::kMaxGridYZ)
    return fail(error, std::to_string(fewestTiles) +
                           (keyMajor ? " key" : " query") +
                           " tiles exceed the 65535 launch slots of a "
                           "grid's y dimension");
  // More slots than that are refused by the planner if the call really
  // needs them (pk::kTooManyTiles).
  layout.capSlots =
      std::min<int64_t>(pk::slotCapacity(layout.records(), layout.rows(),
                                         layout.rowTile(), aligned),
                        limits::kMaxGridYZ);
  // A record gives a tile at most one item; the sequences of cu_seqlens
  // (and their transposes) do not overlap, so each tile holds one item
  // more than the record boundaries inside it (at most one a record in
  // all); and the host plans at most kMaxTileMapEntries items (the planner
  // refuses more: kTooManyPairs).
  int64_t itemBound =
      std::min<int64_t>(layout.classItems.back(),
                        std::max<int64_t>(layout.records(), 1)) *
      layout.capSlots;
  if (layout.varlen)
    itemBound =
        std::min<int64_t>(itemBound, layout.capSlots + layout.records());
  layout.capItems = std::min<int64_t>(itemBound, mask::kMaxTileMapEntries);
  size_t at = 0;
  auto take = [&at](int64_t words) {
    size_t begin = at;
    at += size_t(std::max<int64_t>(words, 4) + 3) / 4 * 4;
    return begin;
  };
  for (size_t c = 0; c < schedules.size(); ++c)
    layout.classSlots.push_back(
        take(layout.capSlots * mask::KernelScheduleTables::kSlotFields));
  layout.items =
      take(layout.capItems * mask::KernelScheduleTables::kItemFields);
  layout.itemSlices = take(layout.capItems);
  layout.slices = take(layout.records() * mask::kSliceFields);
  layout.status = take(pk::kStatusFields);
  pk::ScratchLayout scratch = pk::scratchLayout(
      layout.records(), layout.rows(), layout.capSlots, layout.capItems);
  layout.scratch = take(scratch.total);
  layout.words = at;
  layout.sharedScratchBytes =
      size_t(pk::sharedScratchWords(scratch, layout.capSlots)) *
      sizeof(int32_t);
  return layout;
}
} // namespace

std::optional<DevicePlanLayout>
layoutDevicePlan(const std::vector<RuntimeSchedule> &schedules,
                 const DeviceRanges &ranges, std::string *error) {
  return layoutPlan(schedules, ranges, /*keyMajor=*/false, error);
}

std::optional<DevicePlanLayout>
layoutKeyMajorPlan(const std::vector<RuntimeSchedule> &schedules,
                   const DeviceRanges &ranges, std::string *error) {
  for (const RuntimeSchedule &schedule : schedules)
    if (schedule.keyEdge != mask::KeyEdge::Clipped)
      return fail(error, "a key-major plan clips its query tiles at the "
                         "queries' end: its kernels' key edge must be "
                         "clipped");
  return layoutPlan(schedules, ranges, /*keyMajor=*/true, error);
}

std::vector<uint8_t> devicePlanArguments(const DevicePlanLayout &layout,
                                         const DeviceRanges &ranges,
                                         uint64_t base,
                                         const RefusedOutputs &outputs,
                                         bool scratchInShared) {
  auto address = [base](size_t offset) {
    return base + offset * sizeof(int32_t);
  };
  pk::Args args = {};
  args.qRanges = ranges.qRanges;
  args.kRanges = ranges.kRanges;
  args.kinds = ranges.kinds;
  args.cuSeqlensQ = ranges.cuSeqlensQ;
  args.cuSeqlensK = ranges.cuSeqlensK;
  args.slices = address(layout.slices);
  for (size_t c = 0; c < layout.classSlots.size(); ++c) {
    args.classSlots[c] = address(layout.classSlots[c]);
    args.classItems[c] = int32_t(layout.classItems[c]);
  }
  args.numClasses = int32_t(layout.classSlots.size());
  args.items = address(layout.items);
  args.itemSlices = address(layout.itemSlices);
  args.status = address(layout.status);
  args.scratch = address(layout.scratch);
  args.out = outputs.out;
  args.lse = outputs.lse;
  args.outElements = outputs.outElements;
  args.lseElements = outputs.lseElements;
  // From the layout, which sized the buffer and the shared memory (it was
  // made of these ranges).
  args.numSlices = int32_t(layout.count);
  args.numQ = int32_t(layout.numQ);
  args.numK = int32_t(layout.numK);
  args.tileQ = int32_t(layout.rowTile());
  args.tileK = int32_t(layout.columnTile());
  args.sliceAligned =
      layout.schedule.queryTiles == mask::QueryTiles::SliceAligned;
  args.clippedEdge = layout.schedule.keyEdge == mask::KeyEdge::Clipped;
  args.varlenKind = int32_t(ranges.seqlensKind);
  args.capSlots = int32_t(layout.capSlots);
  args.capItems = int32_t(layout.capItems);
  args.outNaN = outputs.outNaN;
  args.scratchInShared = scratchInShared;
  args.keyMajor = layout.keyMajor;
  std::vector<uint8_t> bytes(sizeof(args));
  std::memcpy(bytes.data(), &args, sizeof(args));
  return bytes;
}

std::optional<std::string>
devicePlanProblem(const int32_t status[kDevicePlanStatusWords],
                  const DevicePlanLayout &layout) {
  auto range = [](int32_t begin, int32_t end) {
    return "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
  };
  // A key-major plan tiles the keys and visits query tiles.
  std::string tile = layout.keyMajor ? "key tile" : "query tile";
  std::string visited = layout.keyMajor ? "query tiles" : "key tiles";
  switch (status[pk::kStatusCode]) {
  case pk::kPlanned:
    return std::nullopt;
  case pk::kBadSlice: {
    mask::Slice slice{status[pk::kStatusQBegin], status[pk::kStatusQEnd],
                      status[pk::kStatusKBegin], status[pk::kStatusKEnd],
                      static_cast<mask::SliceKind>(status[pk::kStatusKind])};
    std::string what = layout.varlen ? "sequence " : "slice ";
    what += std::to_string(status[pk::kStatusSlice]) + ": ";
    if (!mask::sliceKindFromCode(status[pk::kStatusKind]))
      return what + "kind " + std::to_string(status[pk::kStatusKind]) +
             " is not one of 0 (full), 1 (causal), 2 (inv_causal), 3 "
             "(bi_causal)";
    std::optional<std::string> problem =
        mask::checkSlice(slice, layout.numQ, layout.numK);
    return what + problem.value_or("refused by the planner");
  }
  case pk::kBadSeqlens:
    return "cu_seqlens_q must run from 0 to " + std::to_string(layout.numQ) +
           " and cu_seqlens_k from 0 to " + std::to_string(layout.numK) +
           "; they run " + range(status[pk::kStatusQBegin],
                                 status[pk::kStatusQEnd]) +
           " and " +
           range(status[pk::kStatusKBegin], status[pk::kStatusKEnd]);
  case pk::kTooManyItems:
    return "the " + tile + " of " + (layout.keyMajor ? "keys " : "rows ") +
           range(status[pk::kStatusQBegin], status[pk::kStatusQEnd]) + " has " +
           std::to_string(status[pk::kStatusItems]) +
           " work items (slices attending its rows); the kernels search at "
           "most " +
           std::to_string(layout.classItems.back()) +
           " (compile one with max-items-per-tile >= " +
           std::to_string(status[pk::kStatusItems]) + ")";
  case pk::kTooManyPairs:
    return "the slices cross " + tile + "s " +
           std::to_string(status[pk::kStatusPairs]) + " times, more than the " +
           std::to_string(layout.capItems) +
           " work items a plan holds (the largest kernel's " +
           std::to_string(layout.classItems.back()) + " a tile over " +
           std::to_string(layout.capSlots) + " slots, at most " +
           std::to_string(mask::kMaxTileMapEntries) + ")";
  case pk::kTooManyTiles:
    return "the mask cuts " + std::to_string(status[pk::kStatusTiles]) + " " +
           tile + "s, more than the " + std::to_string(layout.capSlots) +
           " launch slots of a grid's y dimension";
  case pk::kTooManyVisits:
    return "the schedule would visit more than 2^31 - 1 " + visited +
           " (about " + std::to_string(status[pk::kStatusVisits]) + " x 2^31)";
  default:
    return "the planner returned unknown status " +
           std::to_string(status[pk::kStatusCode]);
  }
}

bool DevicePlanner::isAvailable() { return pk::kPtx != nullptr; }

namespace {
/// The dynamic shared memory a plan may take (every plan whose scratch fits
/// takes it there): all the block may have beside the static arrays, opted
/// into once; where the driver refuses, the default limit, and where even
/// that fails, none (the scratch then stays in the buffer: slower, not
/// wrong).
size_t plannerSharedLimit(const cuda::Context &context,
                          cuda::CUfunction function) {
  const cuda::Driver &driver = context.driver();
  int staticBytes = 0;
  if (driver.cuFuncGetAttribute(&staticBytes, cuda::kFuncSharedSizeBytes,
                                function) != 0)
    return 0;
  int optin = context.info().maxSharedPerBlockOptin;
  if (optin > staticBytes &&
      driver.cuFuncSetAttribute(function, cuda::kFuncMaxDynamicSharedSizeBytes,
                                optin - staticBytes) == 0)
    return size_t(optin - staticBytes);
  constexpr int kDefaultLimit = 48 * 1024;
  return size_t(std::max(kDefaultLimit - staticBytes, 0));
}
} // namespace

std::optional<DevicePlanner> DevicePlanner::load(const cuda::Context &context,
                                                 std::string *error) {
  if (!pk::kPtx)
    return fail(error, std::string("the GPU planner is unavailable: ") +
                           pk::kPtxUnavailableReason);
  DevicePlanner planner;
  planner.driver = &context.driver();
  std::string problem;
  std::optional<cuda::Module> module =
      cuda::Module::loadPtx(context.driver(), pk::kPtx, &problem);
  if (!module)
    return fail(error, "the GPU planner: " + problem);
  std::optional<cuda::CUfunction> function =
      module->function(pk::kEntryName, &problem);
  if (!function)
    return fail(error, "the GPU planner: " + problem);
  planner.module = std::move(*module);
  planner.function = *function;
  planner.maxSharedBytes = plannerSharedLimit(context, planner.function);
  return planner;
}

bool DevicePlanner::isCapturing(cuda::CUstream stream) const {
  if (!driver->cuStreamIsCapturing)
    return false;
  int capturing = 0;
  // A failed query (the legacy stream during another thread's global
  // capture) counts as capturing: nothing then waits or frees.
  return driver->cuStreamIsCapturing(stream, &capturing) != 0 || capturing;
}

Status DevicePlanner::reserve(const DevicePlanLayout &layout,
                              cuda::CUstream stream) {
  if (buffer && buffer->size() >= layout.bytes())
    return Status::success();
  // Growing waits for the streams (launches still queued may read the old
  // tables), which a capture forbids.
  if (isCapturing(stream))
    return Status::failure(
        "the GPU planner's buffer must grow to " +
        std::to_string(layout.bytes()) +
        " bytes, which cannot happen while the stream captures a CUDA graph: "
        "before capturing, make a call on the capturing stream with these "
        "kernels and at least as many slices and query tokens");
  for (cuda::CUstream waited : {stream, lastStream})
    if (buffer)
      if (Status status = driver->check(driver->cuStreamSynchronize(waited),
                                        "cuStreamSynchronize");
          !status)
        return status;
  size_t bytes = std::max(layout.bytes(), buffer ? 2 * buffer->size() : 0);
  // A graph captured on these kernels keeps the old buffer's address: it
  // stays allocated as long as the planner.
  if (buffer && captured)
    retired.push_back(std::move(*buffer));
  buffer.reset();
  last.reset(); // its status lived in the old buffer
  std::string problem;
  buffer = cuda::DeviceBuffer::allocate(*driver, bytes, &problem);
  if (!buffer)
    return Status::failure("the GPU planner's tables: " + problem);
  return Status::success();
}

Status DevicePlanner::enqueue(const DevicePlanLayout &layout,
                              const DeviceRanges &ranges,
                              const RefusedOutputs &outputs,
                              cuda::CUstream stream) {
  if (Status status = reserve(layout, stream); !status)
    return status;
  size_t sharedBytes = layout.sharedScratchBytes;
  bool scratchInShared = sharedBytes > 0 && sharedBytes <= maxSharedBytes;
  std::vector<uint8_t> args = devicePlanArguments(
      layout, ranges, buffer->pointer(), outputs, scratchInShared);
  cuda::LaunchConfig config;
  config.block = {unsigned(pk::kThreads), 1, 1};
  config.sharedBytes = scratchInShared ? unsigned(sharedBytes) : 0;
  void *params[] = {args.data()};
  if (Status status = cuda::launch(*driver, function, config, stream, params,
                                   "the GPU planner");
      !status)
    return status;
  last = layout;
  lastStream = stream;
  captured = captured || isCapturing(stream);
  return Status::success();
}

std::optional<std::string>
DevicePlanner::lastProblem(std::string *cudaError) const {
  if (!last || !buffer)
    return std::nullopt;
  if (isCapturing(lastStream)) {
    if (cudaError)
      *cudaError = "the last plan's stream is capturing a CUDA graph, which "
                   "nothing may wait for: read the status after the capture";
    return std::nullopt;
  }
  int32_t status[kDevicePlanStatusWords] = {};
  Status synced = driver->check(driver->cuStreamSynchronize(lastStream),
                                "cuStreamSynchronize");
  if (synced)
    synced = driver->check(
        driver->cuMemcpyDtoH(status,
                             buffer->pointer() + last->status * sizeof(int32_t),
                             sizeof(status)),
        "cuMemcpyDtoH (the planner's status)");
  if (!synced) {
    if (cudaError)
      *cudaError = synced.message;
    return std::nullopt;
  }
  return devicePlanProblem(status, *last);
}

} // namespace fattn::runtime
