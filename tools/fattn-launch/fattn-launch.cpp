//===- fattn-launch.cpp - Launch, check and time a compiled kernel --------===//
//
// fattn-launch KERNEL.manifest [--check] [--time] [--iters N] [--warmup N]
//                              [--seed S] [--device N] [--json FILE]
//                              [--max-fail-fraction F]
//                              [--mask-of STATIC.manifest | --ranges FILE]
//                              [--device-plan]
// fattn-launch KERNEL.manifest --info [--mask-of STATIC.manifest]
// fattn-launch --self-test [--seed S] [--device N] [--json FILE]
//
// Loads the manifest and its PTX, runs the kernel once on random inputs of
// its dtype with out and lse poisoned (NaN bit patterns), and
//  --check  compares out and lse with the GPU fp64 reference by the
//  docs/spec.md
//           §4 yardstick (bf16/f16: against the naive low-precision
//           attention, out rtol 0.05, lse rtol 0.001; f32: 1e-5 relative),
//           and for small problems also checks the GPU reference against
//           the CPU one. The share of elements allowed outside rtol is at
//           most twice the naive attention's and at most
//           --max-fail-fraction (Check.h's 0.05 by default);
//  --time   times --iters launches (after --warmup) with CUDA events, L2
//           flushed before each, and reports median and min time and
//           TFLOP/s = 4 * attended pairs * headsQ * headDim / time;
//  --mask-of gives a kernel compiled for a run-time mask the mask and the
//           token counts of STATIC.manifest (whose dtype, heads, head dim,
//           scale and softcap must be the kernel's); the call is planned
//           (the host time reported) and launched as a user's would be;
//  --ranges gives it instead the token counts and slices of FILE
//           ("tokens NUM_Q NUM_K", then "Q_BEGIN Q_END K_BEGIN K_END KIND"
//           a line), checked only as a user's call is: a call the runtime
//           refuses exits 2 with the reason, before any launch;
//  --device-plan plans the run-time call on the GPU as well, from ranges
//           in device memory as a user's CUDA tensors are: every table must
//           equal the host plan's (exit 1 otherwise), the planner's GPU
//           time is reported, and --check and --time run the kernel on the
//           GPU's plan (spare launch slots included);
//  --info   prints what the manifest says, needing no GPU;
//  --self-test checks the GPU reference against the CPU reference on masks
//           of every kind, needing no compiled kernel.
//
// Exit status: 0 everything passed, 1 a check failed (or the kernel faulted
// or left outputs unwritten), 2 an error (bad arguments or manifest, no
// driver, no GPU, a PTX that does not load).
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Runtime/KernelRun.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

using namespace fattn::runtime;

namespace {

//===----------------------------------------------------------------------===//
// Options
//===----------------------------------------------------------------------===//

struct Options : KernelRunOptions {
  bool info = false;
  bool selfTest = false;
};

const char *const kUsage =
    "usage: fattn-launch KERNEL.manifest [--check] [--time] [--iters N] "
    "[--warmup N] [--seed S] [--device N] [--json FILE] "
    "[--max-fail-fraction F] [--mask-of STATIC.manifest | --ranges FILE] "
    "[--device-plan]\n"
    "       fattn-launch KERNEL.manifest --info [--mask-of STATIC.manifest]\n"
    "       fattn-launch --self-test [--seed S] [--device N] [--json FILE]\n";

template <typename Integer> bool parseNumber(const char *text, Integer &value) {
  const char *end = text + std::strlen(text);
  auto result = std::from_chars(text, end, value);
  return result.ec == std::errc() && result.ptr == end;
}

/// strtod: floating-point from_chars needs GCC 11.
bool parseNumber(const char *text, double &value) {
  char *end = nullptr;
  value = std::strtod(text, &end);
  return *text && !std::isspace(static_cast<unsigned char>(*text)) &&
         *end == '\0';
}

std::optional<Options> parseOptions(int argc, char **argv,
                                    std::string *problem) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](auto &target) {
      if (i + 1 >= argc) {
        *problem = arg + " needs a value";
        return false;
      }
      if (!parseNumber(argv[++i], target)) {
        *problem = arg + " value '" + argv[i] + "' is not a valid number";
        return false;
      }
      return true;
    };
    if (arg == "--check")
      options.check = true;
    else if (arg == "--time")
      options.time = true;
    else if (arg == "--info")
      options.info = true;
    else if (arg == "--self-test")
      options.selfTest = true;
    else if (arg == "--device-plan")
      options.devicePlan = true;
    else if (arg == "--iters") {
      if (!value(options.iters))
        return std::nullopt;
    } else if (arg == "--warmup") {
      if (!value(options.warmup))
        return std::nullopt;
    } else if (arg == "--seed") {
      if (!value(options.seed))
        return std::nullopt;
    } else if (arg == "--device") {
      if (!value(options.device))
        return std::nullopt;
    } else if (arg == "--max-fail-fraction") {
      if (!value(options.maxFailFraction))
        return std::nullopt;
    } else if (arg == "--json") {
      if (i + 1 >= argc) {
        *problem = "--json needs a file name";
        return std::nullopt;
      }
      options.jsonPath = argv[++i];
    } else if (arg == "--mask-of") {
      if (i + 1 >= argc) {
        *problem = "--mask-of needs a manifest";
        return std::nullopt;
      }
      options.maskOfPath = argv[++i];
    } else if (arg == "--ranges") {
      if (i + 1 >= argc) {
        *problem = "--ranges needs a file";
        return std::nullopt;
      }
      options.rangesPath = argv[++i];
    } else if (arg == "-h" || arg == "--help") {
      *problem = "";
      return std::nullopt;
    } else if (!arg.empty() && arg[0] == '-') {
      *problem = "unknown option " + arg;
      return std::nullopt;
    } else if (options.manifestPath.empty()) {
      options.manifestPath = arg;
    } else {
      *problem = "more than one manifest given ('" + options.manifestPath +
                 "' and '" + arg + "')";
      return std::nullopt;
    }
  }
  if (options.selfTest != options.manifestPath.empty()) {
    *problem = options.selfTest ? "--self-test takes no manifest"
                                : "no manifest given";
    return std::nullopt;
  }
  if (!options.maskOfPath.empty() && !options.rangesPath.empty()) {
    *problem = "--mask-of and --ranges both give the mask; give one";
    return std::nullopt;
  }
  if (!(options.maxFailFraction >= 0 && options.maxFailFraction <= 1)) {
    *problem = "--max-fail-fraction must be in [0, 1]";
    return std::nullopt;
  }
  if (options.iters < 1 || options.warmup < 0) {
    *problem = "--iters must be >= 1 and --warmup >= 0";
    return std::nullopt;
  }
  return options;
}

} // namespace

int main(int argc, char **argv) {
  std::string problem;
  std::optional<Options> options = parseOptions(argc, argv, &problem);
  if (!options) {
    if (problem.empty()) {
      std::fputs(kUsage, stdout);
      return kRunPass;
    }
    std::fprintf(stderr, "fattn-launch: %s\n%s", problem.c_str(), kUsage);
    return kRunError;
  }
  options->toolName = "fattn-launch";
  if (options->selfTest)
    return runReferenceSelfTest(*options);
  return options->info ? printKernelInfo(*options) : runKernel(*options);
}
