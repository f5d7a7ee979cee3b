//===- plan_schedule.cpp - Host planning time of the work schedule --------===//
//
// How long lib/Mask takes to plan a run-time mask into the kernel's work
// schedule and its records (buildWorkSchedule + kernelScheduleTables, which
// orders the query tiles longest first) for N slices and S
// tokens, and how big the schedule is: the numbers that decide whether
// run-time masks can be planned on the host on every call. Prints one row
// a case: mask, S, N, items, schedule bytes, bytes per token of Q at one
// head of dimension 128 in bf16, median planning time over repetitions.
//
//   fattn-plan-bench [--quick]
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Mask/Schedule.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace fattn::mask;

namespace {

/// N documents of random lengths summing to S, each causal (varlen causal).
Mask varlenCausal(int64_t s, int64_t documents, std::mt19937_64 &rng) {
  std::vector<int64_t> cuts = {0, s};
  std::uniform_int_distribution<int64_t> cut(1, s - 1);
  while ((int64_t)cuts.size() < documents + 1)
    cuts.push_back(cut(rng));
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  return *varlenMask(cuts, cuts, /*causal=*/true);
}

/// N slices of random geometry and kind anywhere in S x S (overlaps allowed:
/// the schedule is about each slice alone).
Mask randomSlices(int64_t s, int64_t count, std::mt19937_64 &rng) {
  std::uniform_int_distribution<int64_t> position(0, s - 1);
  std::uniform_int_distribution<int64_t> length(1, std::max<int64_t>(s / 64, 2));
  Mask mask;
  for (int64_t i = 0; i < count; ++i) {
    Slice slice;
    slice.qBegin = position(rng);
    slice.qEnd = std::min(s, slice.qBegin + length(rng));
    slice.kBegin = position(rng);
    slice.kEnd = std::min(s, slice.kBegin + length(rng));
    slice.kind = static_cast<SliceKind>(i % kNumSliceKinds);
    mask.push_back(slice);
  }
  return mask;
}

struct Case {
  std::string name;
  int64_t s;
  Mask mask;
};

void run(const Case &c, int repetitions) {
  std::vector<double> seconds;
  std::optional<WorkSchedule> schedule;
  for (int r = 0; r < repetitions; ++r) {
    auto start = std::chrono::steady_clock::now();
    schedule = buildWorkSchedule(c.mask, c.s, c.s, {128, 128}, KeyEdge::Whole,
                                 QueryTiles::SliceAligned);
    KernelScheduleTables tables = kernelScheduleTables(*schedule);
    auto end = std::chrono::steady_clock::now();
    seconds.push_back(std::chrono::duration<double>(end - start).count());
    if (tables.slots.size() != size_t(schedule->numQTiles) * tables.kSlotFields)
      std::abort();
  }
  std::sort(seconds.begin(), seconds.end());
  int64_t bytes = schedule->tableBytes() + int64_t(c.mask.size()) * 20;
  double qBytes = double(c.s) * 128 * 2;
  std::printf("%-14s %8lld %6zu %8zu %10lld %8.4f%% %10.1f\n", c.name.c_str(),
              (long long)c.s, c.mask.size(), schedule->items.size(),
              (long long)bytes, 100.0 * bytes / qBytes,
              1e6 * seconds[seconds.size() / 2]);
}

} // namespace

int main(int argc, char **argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  std::mt19937_64 rng(7);
  std::vector<Case> cases;
  for (int64_t s : {int64_t(4096), int64_t(16384), int64_t(131072),
                    int64_t(1) << 20}) {
    cases.push_back({"causal", s, causalMask(s, s)});
    for (int64_t n : {10, 100, 1000, 10000})
      if (n < s / 4)
        cases.push_back({"varlen-causal", s, varlenCausal(s, n, rng)});
    cases.push_back({"block-causal", s, *blockCausalMask(s, 2048)});
    for (int64_t n : {1000, 10000})
      cases.push_back({"random", s, randomSlices(s, n, rng)});
  }
  std::printf("%-14s %8s %6s %8s %10s %9s %10s\n", "mask", "S", "N", "items",
              "bytes", "of Q(1h)", "plan us");
  for (const Case &c : cases)
    run(c, quick ? 1 : 9);
  return 0;
}
