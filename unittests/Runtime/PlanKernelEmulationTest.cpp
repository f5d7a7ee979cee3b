//===- PlanKernelEmulationTest.cpp - The GPU planner on the CPU -----------===//
//
// The planning kernel (lib/Runtime/PlanKernel.cu) compiled as C++ against
// the CUDA emulation, run on random masks, FlashAttention-style sequences
// and bad calls, with blocks of 1 to 32 threads (the kernel may not depend
// on the block size). Its tables must equal the host planner's
// (runtime::planSchedule, itself checked against the cell definition in
// RuntimeScheduleTest) for the smallest item class that holds the plan,
// every other class's slots must be empty, and a refused call must name
// what mask::maskFromRanges names and leave NaN in out and lse.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Mask/Schedule.h"
#include "FlashDialect/Runtime/DevicePlan.h"
#include "FlashDialect/Runtime/RuntimeSchedule.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <random>

#include "CudaEmulation.h"

#include "PlanKernel.cu"

namespace {

using namespace fattn;
using namespace fattn::runtime;
using mask::Slice;
using mask::SliceKind;
namespace pk = fattn::runtime::plan_kernel;

std::vector<RuntimeSchedule> classes(int64_t blockQ, int64_t blockK,
                                     mask::KeyEdge edge,
                                     mask::QueryTiles tiles,
                                     std::vector<int64_t> items = {1, 4, 16}) {
  std::vector<RuntimeSchedule> schedules;
  for (int64_t count : items)
    schedules.push_back({blockQ, blockK, edge, tiles, count});
  return schedules;
}

std::vector<RuntimeSchedule> gpuClasses() {
  return classes(128, 64, mask::KeyEdge::Whole,
                 mask::QueryTiles::SliceAligned);
}

struct EmulatedPlan {
  DevicePlanLayout layout;
  std::vector<int32_t> buffer;
  std::vector<uint16_t> out;
  std::vector<float> lse;

  const int32_t *at(size_t offset) const { return buffer.data() + offset; }
  const int32_t *status() const { return at(layout.status); }
  std::optional<std::string> problem() const {
    return devicePlanProblem(status(), layout);
  }
};

/// Where the emulated planner keeps its scratch: in shared memory wherever
/// the slots' sort keys fit the static array (DevicePlanner also needs the
/// bytes to fit the block's shared memory), or in the buffer.
enum class ScratchIn { SharedWhereItFits, Buffer };

/// Which way the emulated planner tiles: the forward's query tiles, or
/// the backward's key tiles.
enum class Rows { Queries, Keys };

/// The planner run over `ranges` (host pointers) in one emulated block.
EmulatedPlan emulatePlan(const std::vector<RuntimeSchedule> &schedules,
                         const DeviceRanges &ranges, int threads,
                         ScratchIn scratchIn = ScratchIn::SharedWhereItFits,
                         Rows rows = Rows::Queries) {
  std::string error;
  std::optional<DevicePlanLayout> layout =
      rows == Rows::Keys ? layoutKeyMajorPlan(schedules, ranges, &error)
                         : layoutDevicePlan(schedules, ranges, &error);
  EXPECT_TRUE(layout) << error;
  EmulatedPlan plan;
  if (!layout)
    return plan;
  plan.layout = *layout;
  // Garbage, as device memory would hold: nothing may read it unwritten.
  plan.buffer.assign(layout->words, 0x5a5a5a5a);
  plan.out.assign(64, 0);
  plan.lse.assign(16, 0.0f);
  RefusedOutputs outputs{reinterpret_cast<uint64_t>(plan.out.data()),
                         reinterpret_cast<uint64_t>(plan.lse.data()),
                         int64_t(plan.out.size()), int64_t(plan.lse.size()),
                         0x7fc0};
  size_t sharedBytes =
      scratchIn == ScratchIn::Buffer ? 0 : layout->sharedScratchBytes;
  std::vector<double> shared((sharedBytes + 7) / sizeof(double));
  if (!shared.empty()) // (memset of a null pointer is undefined)
    std::memset(shared.data(), 0x5a, shared.size() * sizeof(double));
  std::vector<uint8_t> bytes = devicePlanArguments(
      *layout, ranges, reinterpret_cast<uint64_t>(plan.buffer.data()), outputs,
      sharedBytes > 0);
  pk::Args args;
  std::memcpy(&args, bytes.data(), sizeof(args));
  emulation::runBlock(0, 0, threads, shared.data(),
                      [&] { pk::fattn_plan_ranges(args); });
  return plan;
}

struct RangeArrays {
  std::vector<int32_t> q, k, kinds;
};
RangeArrays arraysOf(const mask::Mask &m) {
  RangeArrays arrays;
  for (const Slice &s : m) {
    arrays.q.insert(arrays.q.end(), {int32_t(s.qBegin), int32_t(s.qEnd)});
    arrays.k.insert(arrays.k.end(), {int32_t(s.kBegin), int32_t(s.kEnd)});
    arrays.kinds.push_back(int32_t(s.kind));
  }
  return arrays;
}
DeviceRanges rangesOf(const RangeArrays &a, int64_t numQ, int64_t numK) {
  DeviceRanges ranges;
  ranges.qRanges = reinterpret_cast<uint64_t>(a.q.data());
  ranges.kRanges = reinterpret_cast<uint64_t>(a.k.data());
  ranges.kinds = reinterpret_cast<uint64_t>(a.kinds.data());
  ranges.count = int64_t(a.kinds.size());
  ranges.numQ = numQ;
  ranges.numK = numK;
  return ranges;
}

std::vector<int32_t> slice(const int32_t *data, size_t count) {
  return std::vector<int32_t>(data, data + count);
}

/// The emulated plan equals the host's for the smallest class that holds
/// it, and only that class's slots have rows.
void expectHostPlan(const mask::Mask &m, int64_t numQ, int64_t numK,
                    const std::vector<RuntimeSchedule> &schedules,
                    const EmulatedPlan &device, const std::string &what) {
  using T = mask::KernelScheduleTables;
  std::optional<PlannedSchedule> host;
  size_t chosen = 0;
  std::string error;
  for (; chosen < schedules.size() && !host; ++chosen)
    host = planSchedule(schedules[chosen], m, numQ, numK, &error);
  ASSERT_TRUE(host) << what << ": " << error;
  --chosen;
  ASSERT_FALSE(device.problem()) << what << ": " << *device.problem();
  const int32_t *status = device.status();
  EXPECT_EQ(status[pk::kStatusClass], int32_t(chosen)) << what;
  ASSERT_EQ(status[pk::kStatusTiles], host->numSlots) << what;
  const DevicePlanLayout &l = device.layout;
  for (size_t c = 0; c < schedules.size(); ++c) {
    std::vector<int32_t> slots = slice(device.at(l.classSlots[c]),
                                       size_t(l.capSlots) * T::kSlotFields);
    std::vector<int32_t> expected(slots.size(), 0);
    if (c == chosen)
      std::copy_n(host->tables.data() + host->slots,
                  host->numSlots * T::kSlotFields, expected.begin());
    EXPECT_EQ(slots, expected) << what << ": slots of class " << c;
  }
  int32_t items = status[pk::kStatusItems];
  size_t hostItems = (host->itemSlices - host->items) / T::kItemFields;
  ASSERT_LE(size_t(items), hostItems) << what;
  EXPECT_EQ(slice(device.at(l.items), size_t(items) * T::kItemFields),
            slice(host->tables.data() + host->items,
                  size_t(items) * T::kItemFields))
      << what;
  EXPECT_EQ(slice(device.at(l.itemSlices), size_t(items)),
            slice(host->tables.data() + host->itemSlices, size_t(items)))
      << what;
  EXPECT_EQ(slice(device.at(l.slices), m.size() * mask::kSliceFields),
            mask::sliceRecords(m))
      << what;
  // The host pads each table to 16 bytes; beyond its items it holds zeros.
  for (size_t i = size_t(items) * T::kItemFields; i < hostItems * T::kItemFields;
       ++i)
    EXPECT_EQ(host->tables[host->items + i], 0) << what;
}

mask::Mask randomMask(std::mt19937 &rng, int64_t numQ, int64_t numK,
                      int count) {
  mask::Mask m;
  auto pick = [&](int64_t low, int64_t high) {
    return std::uniform_int_distribution<int64_t>(low, high)(rng);
  };
  for (int i = 0; i < count; ++i) {
    int64_t q0 = pick(0, numQ), k0 = pick(0, numK);
    // Short slices often: they cut slivers that fold into their neighbours.
    int64_t q1 = pick(0, 3) == 0 ? std::min(numQ, q0 + pick(0, 9))
                                 : pick(q0, numQ);
    m.push_back({q0, q1, k0, pick(k0, numK),
                 static_cast<SliceKind>(pick(0, 3))});
  }
  return m;
}

/// Trial number `trial` of a random test: token counts up to 1500, a mask
/// of up to 12 slices, 1 to 32 emulated threads, both scratch placements.
struct RandomTrial {
  int64_t numQ, numK;
  mask::Mask m;
  RangeArrays arrays;
  int threads;
  ScratchIn scratchIn;
  std::string name;

  RandomTrial(std::mt19937 &rng, int trial) {
    const int threadCounts[] = {1, 3, 8, 32};
    numQ = std::uniform_int_distribution<int64_t>(1, 1500)(rng);
    numK = std::uniform_int_distribution<int64_t>(1, 1500)(rng);
    m = randomMask(rng, numQ, numK, trial % 13);
    arrays = arraysOf(m);
    threads = threadCounts[trial % 4];
    scratchIn =
        (trial / 4) % 2 ? ScratchIn::Buffer : ScratchIn::SharedWhereItFits;
    name = "trial " + std::to_string(trial) + " (" + std::to_string(threads) +
           " threads, scratch in " +
           (scratchIn == ScratchIn::Buffer ? "the buffer" : "shared memory") +
           ")";
  }
  DeviceRanges ranges() const { return rangesOf(arrays, numQ, numK); }
};

TEST(PlanKernelEmulationTest, RandomMasksPlanAsTheHostDoes) {
  std::mt19937 rng(20261207);
  for (int trial = 0; trial < 240; ++trial) {
    RandomTrial t(rng, trial);
    std::vector<RuntimeSchedule> schedules =
        trial % 3 == 0 ? classes(64, 32, mask::KeyEdge::Clipped,
                                 trial % 2 ? mask::QueryTiles::Uniform
                                           : mask::QueryTiles::SliceAligned,
                                 {1, 4, 64})
                       : gpuClasses();
    EmulatedPlan device =
        emulatePlan(schedules, t.ranges(), t.threads, t.scratchIn);
    expectHostPlan(t.m, t.numQ, t.numK, schedules, device, t.name);
    if (HasFatalFailure())
      return;
  }
}

/// The host's view of a key-major plan of `m`: transposeMask's pieces,
/// those of slice i in records 3i, 3i + 1, 3i + 2 as the planner writes
/// them (unused records empty, which attend nothing).
mask::Mask paddedTranspose(const mask::Mask &m) {
  mask::TransposedMask transposed = mask::transposeMask(m);
  mask::Mask padded(3 * m.size());
  std::vector<int> used(m.size(), 0);
  for (size_t p = 0; p < transposed.slices.size(); ++p) {
    int32_t origin = transposed.origins[p];
    padded[3 * origin + used[origin]++] = transposed.slices[p];
  }
  return padded;
}

/// The transposed piece index of buildKeyMajorSchedule's items as the GPU
/// numbers them: piece k of slice i is record 3i + k.
std::vector<int32_t> paddedIndices(const mask::TransposedMask &transposed) {
  std::vector<int32_t> indices;
  for (size_t p = 0; p < transposed.slices.size(); ++p) {
    int32_t origin = transposed.origins[p];
    int32_t k = p > 0 && transposed.origins[p - 1] == origin
                    ? indices.back() - 3 * origin + 1
                    : 0;
    indices.push_back(3 * origin + k);
  }
  return indices;
}

TEST(PlanKernelEmulationTest, KeyMajorPlansAsTheHostPlansTheTranspose) {
  std::mt19937 rng(20261208);
  for (int trial = 0; trial < 160; ++trial) {
    RandomTrial t(rng, trial);
    // The backward's tiles: 32 queries (blockQ), 64 keys (blockK); the key
    // tiles are cut as queryTiles says.
    mask::QueryTiles cut = (trial / 8) % 2 ? mask::QueryTiles::Uniform
                                           : mask::QueryTiles::SliceAligned;
    std::vector<RuntimeSchedule> schedules =
        classes(32, 64, mask::KeyEdge::Clipped, cut, {1, 4, 64});
    EmulatedPlan device =
        emulatePlan(schedules, t.ranges(), t.threads, t.scratchIn, Rows::Keys);
    // The host's plan of the padded transpose, keys as rows: its records
    // tile the keys by blockK and the queries by blockQ.
    std::vector<RuntimeSchedule> transposedTiles = schedules;
    for (RuntimeSchedule &schedule : transposedTiles)
      std::swap(schedule.blockQ, schedule.blockK);
    mask::Mask padded = paddedTranspose(t.m);
    expectHostPlan(padded, t.numK, t.numQ, transposedTiles, device, t.name);
    if (HasFatalFailure())
      return;
    // That is the backward's host schedule, item for item, its piece
    // index p as record paddedIndices()[p].
    mask::TransposedMask transposed = mask::transposeMask(t.m);
    std::optional<mask::WorkSchedule> host =
        mask::buildKeyMajorSchedule(transposed, t.numQ, t.numK, {32, 64}, cut);
    std::optional<mask::WorkSchedule> ofPadded = mask::buildWorkSchedule(
        padded, t.numK, t.numQ, {64, 32}, mask::KeyEdge::Clipped, cut);
    ASSERT_TRUE(host && ofPadded) << t.name;
    EXPECT_EQ(host->qTileBegins, ofPadded->qTileBegins) << t.name;
    EXPECT_EQ(host->itemOffsets, ofPadded->itemOffsets) << t.name;
    std::vector<int32_t> indices = paddedIndices(transposed);
    for (mask::WorkItem &item : host->items)
      item.slice = indices[item.slice];
    EXPECT_EQ(host->items, ofPadded->items) << t.name;
  }
}

TEST(PlanKernelEmulationTest, KeyMajorPlansNeedClippedQueryTiles) {
  RangeArrays none;
  std::string error;
  EXPECT_FALSE(
      layoutKeyMajorPlan(gpuClasses(), rangesOf(none, 10, 10), &error));
  EXPECT_EQ(error, "a key-major plan clips its query tiles at the queries' "
                   "end: its kernels' key edge must be clipped");
}

TEST(PlanKernelEmulationTest, RunsOfSliversFoldAsTheHostFoldsThem) {
  // Documents of 1 to 40 rows, then long ones: runs of slivers cut between
  // longer tiles, folded one after the other while they fit.
  std::mt19937 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    mask::Mask m;
    int64_t row = 0;
    while (row < 3000) {
      int64_t length = trial % 2 && row % 7 ? 1 + int64_t(rng() % 40)
                                            : 1 + int64_t(rng() % 400);
      m.push_back({row, row + length, row, row + length, SliceKind::Causal});
      row += length;
    }
    RangeArrays arrays = arraysOf(m);
    EmulatedPlan device =
        emulatePlan(gpuClasses(), rangesOf(arrays, row, row), 8);
    expectHostPlan(m, row, row, gpuClasses(), device,
                   "trial " + std::to_string(trial));
  }
}

TEST(PlanKernelEmulationTest, SequencesPlanAsTheirSlices) {
  std::mt19937 rng(11);
  for (SliceKind kind : {SliceKind::Causal, SliceKind::Full}) {
    std::vector<int32_t> cuQ = {0}, cuK = {0};
    mask::Mask m;
    for (int b = 0; b < 60; ++b) {
      int32_t lq = int32_t(rng() % 300), lk = int32_t(rng() % 300);
      if (b % 5 == 0)
        lq = 0; // empty sequences too
      if (b % 3 == 0)
        lq = int32_t(1 + rng() % 20); // slivers, folded into one tile: its
                                      // items bound the plan's buffer
      m.push_back({cuQ.back(), cuQ.back() + lq, cuK.back(), cuK.back() + lk,
                   kind});
      cuQ.push_back(cuQ.back() + lq);
      cuK.push_back(cuK.back() + lk);
    }
    DeviceRanges ranges;
    ranges.cuSeqlensQ = reinterpret_cast<uint64_t>(cuQ.data());
    ranges.cuSeqlensK = reinterpret_cast<uint64_t>(cuK.data());
    ranges.seqlensKind = kind;
    ranges.count = int64_t(m.size());
    ranges.numQ = cuQ.back();
    ranges.numK = cuK.back();
    std::vector<RuntimeSchedule> wide =
        classes(128, 64, mask::KeyEdge::Whole, mask::QueryTiles::SliceAligned,
                {1, 4, 16, 64});
    EmulatedPlan device = emulatePlan(wide, ranges, 8);
    expectHostPlan(m, ranges.numQ, ranges.numK, wide, device,
                   kind == SliceKind::Causal ? "causal" : "full");
  }
}

TEST(PlanKernelEmulationTest, LongSequencesSortTilesOutsideSharedMemory) {
  // 4097 query tiles: past kSharedSortKeys, the sort runs in the scratch.
  int64_t numQ = 4097 * 128 - 50;
  mask::Mask m = {{0, numQ, 0, numQ, SliceKind::Causal},
                  {100, 70000, 0, 3000, SliceKind::Full}};
  RangeArrays arrays = arraysOf(m);
  std::optional<DevicePlanLayout> layout =
      layoutDevicePlan(gpuClasses(), rangesOf(arrays, numQ, numQ), nullptr);
  ASSERT_TRUE(layout);
  EXPECT_EQ(layout->sharedScratchBytes, 0u);
  EmulatedPlan device =
      emulatePlan(gpuClasses(), rangesOf(arrays, numQ, numQ), 32);
  expectHostPlan(m, numQ, numQ, gpuClasses(), device, "causal 524k");
}

TEST(PlanKernelEmulationTest, NoSlicesPlanEmptyRows) {
  RangeArrays none;
  EmulatedPlan device = emulatePlan(gpuClasses(), rangesOf(none, 1000, 7), 8);
  expectHostPlan({}, 1000, 7, gpuClasses(), device, "no slices");
}

/// Every class's slots empty and out, lse NaN: nothing launched after a
/// refusal writes or reads past the tokens.
void expectRefused(const EmulatedPlan &device) {
  const DevicePlanLayout &l = device.layout;
  for (size_t c = 0; c < l.classSlots.size(); ++c)
    for (int64_t i = 0; i < l.capSlots * 8; ++i)
      ASSERT_EQ(device.at(l.classSlots[c])[i], 0) << "class " << c;
  for (uint16_t bits : device.out)
    EXPECT_EQ(bits, 0x7fc0);
  for (float value : device.lse)
    EXPECT_TRUE(std::isnan(value));
}

TEST(PlanKernelEmulationTest, BadSlicesAreNamedAsOnTheHost) {
  std::mt19937 rng(3);
  int64_t numQ = 700, numK = 500;
  for (int trial = 0; trial < 40; ++trial) {
    mask::Mask m = randomMask(rng, numQ, numK, 12);
    RangeArrays arrays = arraysOf(m);
    size_t bad = rng() % m.size();
    switch (trial % 5) {
    case 0: arrays.q[2 * bad + 1] = int32_t(numQ + 1); break;
    case 1: arrays.k[2 * bad] = -3; break;
    case 2: std::swap(arrays.q[2 * bad], arrays.q[2 * bad + 1]);
            if (arrays.q[2 * bad] == arrays.q[2 * bad + 1]) arrays.q[2 * bad]++;
            break;
    case 3: arrays.kinds[bad] = 4 + trial; break;
    default: arrays.k[2 * bad + 1] = int32_t(numK + 9); break;
    }
    std::string hostError;
    ASSERT_FALSE(mask::maskFromRanges(arrays.q.data(), arrays.k.data(),
                                      arrays.kinds.data(), int64_t(m.size()),
                                      numQ, numK, &hostError));
    EmulatedPlan device =
        emulatePlan(gpuClasses(), rangesOf(arrays, numQ, numK), 8);
    ASSERT_TRUE(device.problem()) << "trial " << trial;
    EXPECT_EQ(*device.problem(), hostError) << "trial " << trial;
    expectRefused(device);
  }
}

TEST(PlanKernelEmulationTest, SequencesNotCoveringTheTokensAreRefused) {
  std::vector<int32_t> cuQ = {0, 10, 20}, cuK = {2, 10, 20};
  DeviceRanges ranges;
  ranges.cuSeqlensQ = reinterpret_cast<uint64_t>(cuQ.data());
  ranges.cuSeqlensK = reinterpret_cast<uint64_t>(cuK.data());
  ranges.count = 2;
  ranges.numQ = 20;
  ranges.numK = 20;
  EmulatedPlan device = emulatePlan(gpuClasses(), ranges, 8);
  ASSERT_TRUE(device.problem());
  EXPECT_EQ(*device.problem(),
            "cu_seqlens_q must run from 0 to 20 and cu_seqlens_k from 0 to "
            "20; they run [0, 20) and [2, 20)");
  expectRefused(device);
  cuQ = {0, 10, 15, 20};
  cuK = {0, 15, 12, 20}; // decreasing
  ranges.cuSeqlensQ = reinterpret_cast<uint64_t>(cuQ.data());
  ranges.cuSeqlensK = reinterpret_cast<uint64_t>(cuK.data());
  ranges.count = 3;
  device = emulatePlan(gpuClasses(), ranges, 8);
  ASSERT_TRUE(device.problem());
  EXPECT_EQ(*device.problem(), "sequence 1: k range [15, 12) is reversed");
}

TEST(PlanKernelEmulationTest, TilesPastTheLargestClassAreNamed) {
  // 20 slices over rows [0, 300): every tile there holds 20 items.
  mask::Mask m;
  for (int i = 0; i < 20; ++i)
    m.push_back({0, 300, 10 * i, 10 * i + 10, SliceKind::Full});
  m.push_back({300, 1000, 0, 900, SliceKind::Causal});
  RangeArrays arrays = arraysOf(m);
  EmulatedPlan device =
      emulatePlan(gpuClasses(), rangesOf(arrays, 1000, 1000), 8);
  ASSERT_TRUE(device.problem());
  EXPECT_EQ(*device.problem(),
            "the query tile of rows [0, 128) has 20 work items (slices "
            "attending its rows); the kernels search at most 16 (compile one "
            "with max-items-per-tile >= 20)");
  expectRefused(device);
  // The same mask fits a class of 32.
  std::vector<RuntimeSchedule> wider =
      classes(128, 64, mask::KeyEdge::Whole, mask::QueryTiles::SliceAligned,
              {1, 32});
  device = emulatePlan(wider, rangesOf(arrays, 1000, 1000), 8);
  expectHostPlan(m, 1000, 1000, wider, device, "class 32");
}

TEST(PlanKernelEmulationTest, MoreVisitsThanInt32AreRefusedAsOnTheHost) {
  // 16 slices over 2^30 keys in 300 query tiles: 2^24 visits a tile, 5e9
  // in all; the kernels count visits in int32.
  int64_t numQ = 128 * 300, numK = int64_t(1) << 30;
  mask::Mask m;
  for (int64_t i = 0; i < 16; ++i)
    m.push_back({0, numQ, i * (numK / 16), (i + 1) * (numK / 16),
                 SliceKind::Full});
  std::string hostError;
  EXPECT_FALSE(planSchedule(gpuClasses()[2], m, numQ, numK, &hostError));
  RangeArrays arrays = arraysOf(m);
  EmulatedPlan device =
      emulatePlan(gpuClasses(), rangesOf(arrays, numQ, numK), 8);
  ASSERT_TRUE(device.problem());
  EXPECT_EQ(*device.problem(),
            "the schedule would visit more than 2^31 - 1 key tiles (about 2 "
            "x 2^31)");
  expectRefused(device);
}

TEST(PlanKernelEmulationTest, HostRefusesWhatItCannotSize) {
  std::string error;
  DeviceRanges ranges;
  ranges.count = 3;
  ranges.numQ = ranges.numK = 10;
  EXPECT_FALSE(layoutDevicePlan(gpuClasses(), ranges, &error));
  EXPECT_EQ(error, "q_ranges and k_ranges must be given for 3 slices");
  ranges.count = 0;
  ranges.numQ = int64_t(1) << 31;
  EXPECT_FALSE(layoutDevicePlan(gpuClasses(), ranges, &error));
  EXPECT_EQ(error, "query token count 2147483648 is outside [0, 2^31 - 1]");
  ranges.numQ = 128 * 65536; // one query tile past grid y, as the host says
  EXPECT_FALSE(layoutDevicePlan(gpuClasses(), ranges, &error));
  EXPECT_EQ(error, "65536 query tiles exceed the 65535 launch slots of a "
                   "grid's y dimension");
  ranges.numQ = 10;
  std::vector<RuntimeSchedule> mixed = gpuClasses();
  mixed[1].blockK = 32;
  EXPECT_FALSE(layoutDevicePlan(mixed, ranges, &error));
  EXPECT_EQ(error, "kernel 1 tiles differently from kernel 0 (block sizes, "
                   "key edge or query tiles)");
  std::vector<RuntimeSchedule> descending = gpuClasses();
  std::swap(descending[0], descending[2]);
  EXPECT_FALSE(layoutDevicePlan(descending, ranges, &error));
  EXPECT_FALSE(layoutDevicePlan({}, ranges, &error));
}

TEST(PlanKernelEmulationTest, BoundSizedPlansTakeEightWordsAnItem) {
  // The adversarial call of 100,000 slices over 100,000 rows for kernels of
  // up to 1024 items: the bounds bind (65535 slots, 1024 items each), and
  // the kernels' item tables (five words an item) are most of the buffer,
  // the planner's pair records (two words) and placement (one) the rest.
  std::vector<int32_t> q(200000), k(200000), kinds(100000);
  DeviceRanges ranges;
  ranges.qRanges = reinterpret_cast<uint64_t>(q.data());
  ranges.kRanges = reinterpret_cast<uint64_t>(k.data());
  ranges.kinds = reinterpret_cast<uint64_t>(kinds.data());
  ranges.count = 100000;
  ranges.numQ = ranges.numK = 100000;
  std::string error;
  std::optional<DevicePlanLayout> layout =
      layoutDevicePlan(classes(128, 64, mask::KeyEdge::Whole,
                               mask::QueryTiles::SliceAligned, {1, 4, 1024}),
                       ranges, &error);
  ASSERT_TRUE(layout) << error;
  EXPECT_EQ(layout->capSlots, 65535);
  EXPECT_EQ(layout->capItems, int64_t(1024) * 65535);
  size_t perItem = layout->words / size_t(layout->capItems);
  EXPECT_EQ(perItem, 8u) << layout->bytes() << " bytes";
}

} // namespace
