//===- KernelRun.cpp - Load, run, check and time a compiled kernel --------===//
//
// What fattn-launch and fattn-run --target=gpu do with a manifest: load the
// PTX, run the kernel once on random inputs of its dtype with out and lse
// poisoned (NaN bit patterns), judge the outputs against the GPU fp64
// reference (cross-checked against the CPU one on small problems), and time
// it. See KernelRun.h.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Runtime/KernelRun.h"

#include "DevicePlanRun.h"

#include "FlashDialect/Mask/Mask.h"
#include "FlashDialect/Runtime/AttentionKernel.h"
#include "FlashDialect/Runtime/Check.h"
#include "FlashDialect/Runtime/CudaDriver.h"
#include "FlashDialect/Runtime/Elements.h"
#include "FlashDialect/Runtime/GpuReference.h"
#include "FlashDialect/Runtime/Manifest.h"
#include "FlashDialect/Runtime/Reference.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include <unistd.h>

using namespace fattn;
using namespace fattn::runtime;

namespace {

constexpr int kExitPass = kRunPass;
constexpr int kExitFail = kRunFail;
constexpr int kExitError = kRunError;

/// Problems up to this many (numQ * numK * headsQ * headDim) also run the
/// CPU reference, as a cross-check of the GPU one.
constexpr int64_t kCpuCrossCheckLimit = int64_t(1) << 26;

int error(const KernelRunOptions &options, const std::string &message) {
  std::fprintf(stderr, "%s: %s\n", options.toolName.c_str(), message.c_str());
  return kExitError;
}

__attribute__((format(printf, 1, 2))) std::string format(const char *pattern,
                                                         ...) {
  char buffer[1024];
  va_list args;
  va_start(args, pattern);
  std::vsnprintf(buffer, sizeof(buffer), pattern, args);
  va_end(args);
  return buffer;
}

//===----------------------------------------------------------------------===//
// JSON output (flat enough to write by hand)
//===----------------------------------------------------------------------===//

class Json {
public:
  void field(const std::string &key, const std::string &value) {
    raw(key, "\"" + escape(value) + "\"");
  }
  void field(const std::string &key, double value) {
    raw(key, std::isfinite(value) ? format("%.17g", value) : "null");
  }
  void field(const std::string &key, int64_t value) {
    raw(key, std::to_string(value));
  }
  void field(const std::string &key, bool value) {
    raw(key, value ? "true" : "false");
  }
  void object(const std::string &key, const Json &value) {
    raw(key, value.str());
  }
  void array(const std::string &key, const std::vector<Json> &values) {
    std::string text = "[";
    for (size_t i = 0; i < values.size(); ++i)
      text += (i ? ", " : "") + values[i].str();
    raw(key, text + "]");
  }
  std::string str() const { return "{" + body + "}"; }

private:
  void raw(const std::string &key, const std::string &value) {
    body += (body.empty() ? "\"" : ", \"") + escape(key) + "\": " + value;
  }
  static std::string escape(const std::string &text) {
    std::string escaped;
    for (char c : text) {
      if (c == '"' || c == '\\')
        escaped += '\\';
      if (static_cast<unsigned char>(c) < 0x20) {
        escaped += format("\\u%04x", c);
        continue;
      }
      escaped += c;
    }
    return escaped;
  }
  std::string body;
};

bool writeJson(const std::string &path, const Json &json) {
  std::FILE *file = std::fopen(path.c_str(), "w");
  if (!file)
    return false;
  std::string text = json.str() + "\n";
  bool ok = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  return std::fclose(file) == 0 && ok;
}

Json verdictJson(const Verdict &verdict) {
  Json json;
  json.field("pass", verdict.pass);
  json.field("max_abs", verdict.ours.maxAbsError);
  json.field("max_rel", verdict.ours.maxRelError);
  json.field("frac_out_of_tol", verdict.ours.fractionOutsideTolerance());
  json.field("non_finite", verdict.ours.numNonFinite);
  json.field("naive_max_abs", verdict.naive.maxAbsError);
  json.field("naive_frac_out_of_tol", verdict.naive.fractionOutsideTolerance());
  json.field("summary", verdict.summary);
  return json;
}

//===----------------------------------------------------------------------===//
// Device work shared by the modes
//===----------------------------------------------------------------------===//

/// Everything that needs the driver, acquired in order.
struct Gpu {
  const cuda::Driver *driver = nullptr;
  std::optional<cuda::Context> context;
  std::optional<cuda::Stream> stream;
};

std::optional<Gpu> openGpu(int device, std::string *problem) {
  Gpu gpu;
  gpu.driver = cuda::Driver::get(problem);
  if (!gpu.driver)
    return std::nullopt;
  gpu.context = cuda::Context::acquire(*gpu.driver, device, problem);
  if (!gpu.context)
    return std::nullopt;
  gpu.stream = cuda::Stream::create(*gpu.driver, problem);
  if (!gpu.stream)
    return std::nullopt;
  return gpu;
}

std::optional<cuda::DeviceBuffer> upload(const cuda::Driver &driver,
                                         const std::vector<uint8_t> &bytes,
                                         std::string *problem) {
  std::optional<cuda::DeviceBuffer> buffer =
      cuda::DeviceBuffer::allocate(driver, bytes.size(), problem);
  if (!buffer)
    return std::nullopt;
  if (cuda::Status status = buffer->upload(bytes.data(), bytes.size());
      !status) {
    *problem = status.message;
    return std::nullopt;
  }
  return buffer;
}

template <typename T>
bool download(const cuda::DeviceBuffer &buffer, std::vector<T> &values,
              std::string *problem) {
  values.resize(buffer.size() / sizeof(T));
  cuda::Status status = buffer.download(values.data(), buffer.size());
  if (!status)
    *problem = status.message;
  return status.ok;
}

/// Random q, k, v of a shape, as float (for the CPU) and on the device in
/// the element type (for the kernels). Seeds follow fattn-run: q seed, k
/// seed + 1, v seed + 2.
struct Inputs {
  std::vector<float> q, k, v;
  std::optional<cuda::DeviceBuffer> qDevice, kDevice, vDevice;
};

/// A run keeps its inputs in f32 and their encoding on the host, and a check
/// the fp64 and naive results beside the kernel's: refuse up front what this
/// machine's memory cannot hold, rather than die in an allocation.
std::optional<std::string> checkHostMemory(const AttentionShape &shape) {
  double inputs = double(shape.qElements()) + 2.0 * double(shape.kvElements());
  double bytes = 6.0 * inputs + 26.0 * double(shape.qElements());
  double physical =
      double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE));
  if (physical > 0 && bytes <= 0.75 * physical)
    return std::nullopt;
  char text[160];
  std::snprintf(text, sizeof(text),
                "the run needs about %.3g GiB of host memory for its inputs and "
                "checks; this machine has %.3g GiB",
                bytes / (1 << 30), physical / (1 << 30));
  return std::string(text);
}

std::optional<Inputs> makeInputs(const cuda::Driver &driver,
                                 const AttentionShape &shape, ElementType type,
                                 uint64_t seed, std::string *problem) {
  if (std::optional<std::string> tooLarge = checkHostMemory(shape)) {
    *problem = *tooLarge;
    return std::nullopt;
  }
  Inputs inputs;
  inputs.q = randomTensor(shape.qElements(), seed, type);
  inputs.k = randomTensor(shape.kvElements(), seed + 1, type);
  inputs.v = randomTensor(shape.kvElements(), seed + 2, type);
  inputs.qDevice =
      upload(driver, encodeElements(type, inputs.q.data(), shape.qElements()),
             problem);
  if (!inputs.qDevice)
    return std::nullopt;
  inputs.kDevice =
      upload(driver, encodeElements(type, inputs.k.data(), shape.kvElements()),
             problem);
  if (!inputs.kDevice)
    return std::nullopt;
  inputs.vDevice =
      upload(driver, encodeElements(type, inputs.v.data(), shape.kvElements()),
             problem);
  if (!inputs.vDevice)
    return std::nullopt;
  return inputs;
}

/// Both GPU references of one problem, downloaded.
struct GpuReferenceResult {
  std::vector<double> exactOut, exactLse;
  std::vector<float> naiveOut, naiveLse;
};

std::optional<GpuReferenceResult>
runGpuReference(const Gpu &gpu, const GpuReference &reference,
                const mask::Mask &mask, const AttentionShape &shape,
                const AttentionParams &params, ElementType type,
                const Inputs &inputs, std::string *problem) {
  const cuda::Driver &driver = *gpu.driver;
  auto allocate = [&](size_t bytes) {
    return cuda::DeviceBuffer::allocate(driver, bytes, problem);
  };
  size_t outCount = size_t(shape.qElements());
  size_t lseCount = size_t(shape.lseElements());
  std::optional<cuda::DeviceBuffer> exactOut = allocate(8 * outCount);
  std::optional<cuda::DeviceBuffer> exactLse = allocate(8 * lseCount);
  std::optional<cuda::DeviceBuffer> naiveOut = allocate(4 * outCount);
  std::optional<cuda::DeviceBuffer> naiveLse = allocate(4 * lseCount);
  if (!exactOut || !exactLse || !naiveOut || !naiveLse)
    return std::nullopt;
  // Poisoned like the kernel's outputs, so that an unwritten reference
  // element shows up as a NaN rather than as a plausible zero.
  for (const auto *buffer : {&*exactOut, &*exactLse, &*naiveOut, &*naiveLse})
    if (cuda::Status status = buffer->fill(0xff); !status) {
      *problem = status.message;
      return std::nullopt;
    }
  struct Run {
    ReferenceMode mode;
    const cuda::DeviceBuffer &out, &lse;
  } runs[] = {{ReferenceMode::Exact, *exactOut, *exactLse},
              {ReferenceMode::Naive, *naiveOut, *naiveLse}};
  for (const Run &run : runs) {
    cuda::Status status = reference.run(
        run.mode, mask, shape, params, type, inputs.qDevice->pointer(),
        inputs.kDevice->pointer(), inputs.vDevice->pointer(), run.out.pointer(),
        run.lse.pointer(), gpu.stream->handle());
    if (!status) {
      *problem = status.message;
      return std::nullopt;
    }
  }
  GpuReferenceResult result;
  if (!download(*exactOut, result.exactOut, problem) ||
      !download(*exactLse, result.exactLse, problem) ||
      !download(*naiveOut, result.naiveOut, problem) ||
      !download(*naiveLse, result.naiveLse, problem))
    return std::nullopt;
  return result;
}

/// The CPU references of a problem.
struct CpuReferenceResult {
  std::vector<double> exactOut, exactLse;
  std::vector<float> naiveOut, naiveLse;
};

CpuReferenceResult runCpuReference(const mask::Mask &mask,
                                   const AttentionShape &shape,
                                   const AttentionParams &params,
                                   ElementType type, const Inputs &inputs) {
  CpuReferenceResult result;
  result.exactOut.resize(shape.qElements());
  result.exactLse.resize(shape.lseElements());
  result.naiveOut.resize(shape.qElements());
  result.naiveLse.resize(shape.lseElements());
  referenceAttention(mask, shape, params, inputs.q.data(), inputs.k.data(),
                     inputs.v.data(), result.exactOut.data(),
                     result.exactLse.data());
  naiveAttention(mask, shape, params, type, inputs.q.data(), inputs.k.data(),
                 inputs.v.data(), result.naiveOut.data(),
                 result.naiveLse.data());
  return result;
}

/// Largest |a - b| / (1 + |b|) over two fp64 arrays; matching infinities
/// count as equal, anything else non-finite as infinitely different.
double maxScaledDifference(const std::vector<double> &a,
                           const std::vector<double> &b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == b[i])
      continue;
    double difference = std::fabs(a[i] - b[i]) / (1.0 + std::fabs(b[i]));
    worst = std::isnan(difference) ? std::numeric_limits<double>::infinity()
                                   : std::max(worst, difference);
  }
  return worst;
}

/// Max abs error of `values` against `reference` (finite elements only) and
/// whether the infinities and NaNs match those of the reference.
struct Deviation {
  double maxAbs = 0;
  bool finitePatternMatches = true;
};
Deviation deviation(const std::vector<float> &values,
                    const std::vector<double> &reference) {
  ErrorStats stats = measureError(values.data(), reference.data(),
                                  int64_t(values.size()), 0, 0);
  return {stats.maxAbsError, stats.numNonFinite == 0};
}

/// The GPU references against the CPU ones. The fp64 results must agree to
/// rounding; the two naive results round at the same points but sum in
/// different orders, so their errors against the fp64 reference must be of
/// the same size (for f32, both tiny).
struct CrossCheck {
  bool pass = false;
  std::string summary;
  Json json;
};

CrossCheck crossCheck(const GpuReferenceResult &gpu,
                      const CpuReferenceResult &cpu, ElementType type) {
  CrossCheck check;
  double exactOut = maxScaledDifference(gpu.exactOut, cpu.exactOut);
  double exactLse = maxScaledDifference(gpu.exactLse, cpu.exactLse);
  bool exactOk = exactOut <= 1e-10 && exactLse <= 1e-10;

  auto naiveOk = [&](const Deviation &ours, const Deviation &theirs,
                     double floor) {
    if (!ours.finitePatternMatches || !theirs.finitePatternMatches)
      return false;
    if (type == ElementType::F32)
      return ours.maxAbs <= floor;
    return ours.maxAbs <= 2.0 * theirs.maxAbs + floor &&
           ours.maxAbs >= 0.5 * theirs.maxAbs - floor;
  };
  Deviation gpuOut = deviation(gpu.naiveOut, cpu.exactOut);
  Deviation cpuOut = deviation(cpu.naiveOut, cpu.exactOut);
  Deviation gpuLse = deviation(gpu.naiveLse, cpu.exactLse);
  Deviation cpuLse = deviation(cpu.naiveLse, cpu.exactLse);
  bool naiveOutOk = naiveOk(gpuOut, cpuOut, 1e-4);
  // Rounded at the same points, the two naive outputs agree bit for bit on
  // nearly every element; a rounding left out on one side moves a third of
  // them (measured with the emulated kernel).
  int64_t identical = 0;
  for (size_t i = 0; i < gpu.naiveOut.size(); ++i)
    identical += gpu.naiveOut[i] == cpu.naiveOut[i];
  double identicalFraction =
      gpu.naiveOut.empty() ? 1.0 : double(identical) / gpu.naiveOut.size();
  if (type != ElementType::F32 && identicalFraction < 0.95)
    naiveOutOk = false;
  bool naiveLseOk = naiveOk(gpuLse, cpuLse, 1e-4);
  check.pass = exactOk && naiveOutOk && naiveLseOk;
  check.summary =
      format("%s fp64 gpu-vs-cpu max_scaled_diff out=%.3g lse=%.3g%s; naive "
             "max_abs_err gpu/cpu out=%.3g/%.3g (%.2f%% identical)%s "
             "lse=%.3g/%.3g%s",
             check.pass ? "PASS" : "FAIL", exactOut, exactLse,
             exactOk ? "" : " EXCEEDED 1e-10", gpuOut.maxAbs, cpuOut.maxAbs,
             100.0 * identicalFraction, naiveOutOk ? "" : " MISMATCH",
             gpuLse.maxAbs, cpuLse.maxAbs, naiveLseOk ? "" : " MISMATCH");
  check.json.field("pass", check.pass);
  check.json.field("exact_out_max_scaled_diff", exactOut);
  check.json.field("exact_lse_max_scaled_diff", exactLse);
  check.json.field("naive_out_max_abs_gpu", gpuOut.maxAbs);
  check.json.field("naive_out_max_abs_cpu", cpuOut.maxAbs);
  check.json.field("naive_out_identical_fraction", identicalFraction);
  check.json.field("naive_lse_max_abs_gpu", gpuLse.maxAbs);
  check.json.field("naive_lse_max_abs_cpu", cpuLse.maxAbs);
  return check;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

//===----------------------------------------------------------------------===//
// --info
//===----------------------------------------------------------------------===//

/// `maskGiven`: the manifest's mask and counts are a call's (or its own);
/// else a run-time-mask kernel is described without one.
int printInfo(const KernelRunOptions &options, const KernelManifest &manifest,
              bool maskGiven) {
  const AttentionShape &shape = manifest.shape;
  auto count = [](int64_t value) {
    return value == kDynamicExtent ? std::string("?") : std::to_string(value);
  };
  // Exact in 128 bits: 2^31 tokens each way, 65535 heads and a large head
  // dim overflow int64.
  mask::PairCount pairs = mask::countAttendedPairs(manifest.mask);
  mask::PairCount perPair = mask::PairCount(std::max<int64_t>(shape.headsQ, 0)) * shape.headDim;
  mask::PairCount work =
      mask::PairCount(std::max<int64_t>(shape.numQ, 0)) *
      std::max<int64_t>(shape.numK, 0) * perPair;
  auto dim = [](unsigned value) {
    return value ? std::to_string(value) : std::string("?");
  };
  auto param = [](double value) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.9g", value);
    return value == kCallParam ? std::string("?") : std::string(text);
  };
  std::printf("%s: kernel=%s ptx=%s grid=%sx%sx%u block=%ux%ux%u shared=%u "
              "dtype=%s shape=%sx%sx%sx%sx%lld scale=%s softcap=%s "
              "slices=%s pairs=%s flops=%.6g work=%s\n",
              options.manifestPath.c_str(), manifest.kernel.c_str(),
              manifest.ptxFile.c_str(), dim(manifest.grid[0]).c_str(),
              dim(manifest.grid[1]).c_str(), manifest.grid[2],
              manifest.block[0], manifest.block[1], manifest.block[2],
              manifest.sharedBytes,
              std::string(stringifyElementType(manifest.dtype)).c_str(),
              count(shape.numQ).c_str(), count(shape.numK).c_str(),
              count(shape.headsQ).c_str(), count(shape.headsK).c_str(),
              (long long)shape.headDim, param(manifest.params.scale).c_str(),
              param(manifest.params.softcap).c_str(),
              maskGiven ? std::to_string(manifest.mask.size()).c_str()
                        : "run-time",
              mask::formatPairCount(pairs).c_str(),
              4.0 * double(pairs) * double(perPair),
              mask::formatPairCount(work).c_str());
  return kExitPass;
}

//===----------------------------------------------------------------------===//
// Launching a manifest
//===----------------------------------------------------------------------===//

/// docs/spec.md §3 against the GPU reference (and, for small problems, the
/// GPU reference against the CPU one). Whether everything passed; nullopt
/// with `problem` set when the check itself could not run.
std::optional<bool> checkOutputs(const KernelRunOptions &options, Gpu &gpu,
                                 const KernelManifest &manifest,
                                 const Inputs &inputs,
                                 const std::vector<float> &outValues,
                                 const std::vector<float> &lseValues,
                                 Json &json, std::string *problem) {
  const AttentionShape &shape = manifest.shape;
  const ElementType type = manifest.dtype;
  std::optional<GpuReference> reference =
      GpuReference::load(*gpu.context, problem);
  if (!reference)
    return std::nullopt;
  std::optional<GpuReferenceResult> gpuReference =
      runGpuReference(gpu, *reference, manifest.mask, shape,
                      manifest.params, type, inputs, problem);
  if (!gpuReference)
    return std::nullopt;
  Verdict outVerdict, lseVerdict;
  if (type == ElementType::F32) {
    outVerdict =
        judgeExact("out", outValues.data(), gpuReference->exactOut.data(),
                   shape.qElements(), 1e-5);
    lseVerdict =
        judgeExact("lse", lseValues.data(), gpuReference->exactLse.data(),
                   shape.lseElements(), 1e-5);
  } else {
    Tolerance outTolerance, lseTolerance;
    outTolerance.rtol = 0.05;
    lseTolerance.rtol = 0.001;
    outTolerance.maxFailFraction = options.maxFailFraction;
    lseTolerance.maxFailFraction = options.maxFailFraction;
    outVerdict = judgeAgainstNaive(
        "out", outValues.data(), gpuReference->naiveOut.data(),
        gpuReference->exactOut.data(), shape.qElements(), outTolerance);
    lseVerdict = judgeAgainstNaive(
        "lse", lseValues.data(), gpuReference->naiveLse.data(),
        gpuReference->exactLse.data(), shape.lseElements(), lseTolerance);
  }
  std::printf("%s\n%s\n", outVerdict.summary.c_str(),
              lseVerdict.summary.c_str());
  json.object("out", verdictJson(outVerdict));
  json.object("lse", verdictJson(lseVerdict));
  bool pass = outVerdict.pass && lseVerdict.pass;

  int64_t work = shape.numQ * shape.numK * shape.headsQ * shape.headDim;
  if (work <= kCpuCrossCheckLimit) {
    CpuReferenceResult cpuReference = runCpuReference(
        manifest.mask, shape, manifest.params, type, inputs);
    CrossCheck check = crossCheck(*gpuReference, cpuReference, type);
    std::printf("reference-crosscheck: %s\n", check.summary.c_str());
    json.object("reference_crosscheck", check.json);
    pass &= check.pass;
  } else {
    std::printf("reference-crosscheck: skipped (Sq*Sk*Hq*D = %lld > 2^26)\n",
                (long long)work);
  }
  return pass;
}

/// Median and minimum of `options.iters` launches with L2 flushed before
/// each, into `json` and stdout. False with `problem` set on a CUDA error.
bool timeLaunches(const KernelRunOptions &options, Gpu &gpu,
                  const AttentionKernel &kernel,
                  const KernelArguments &arguments, double flops, Json &json,
                  std::string *problem) {
  const cuda::Driver &driver = *gpu.driver;
  const cuda::DeviceInfo &device = gpu.context->info();
  cuda::CUstream stream = gpu.stream->handle();
  // Twice the L2, at least 256 MiB: rewriting it evicts the inputs, so
  // every timed launch reads them from memory as a cold first call would.
  size_t flushBytes =
      std::max<size_t>(size_t(256) << 20, 2 * size_t(device.l2Bytes));
  std::optional<cuda::DeviceBuffer> flush =
      cuda::DeviceBuffer::allocate(driver, flushBytes, problem);
  if (!flush)
    return false;
  std::optional<cuda::Event> start = cuda::Event::create(driver, problem);
  std::optional<cuda::Event> stop = cuda::Event::create(driver, problem);
  if (!start || !stop)
    return false;
  for (int i = 0; i < options.warmup; ++i)
    if (cuda::Status status = kernel.launch(arguments, stream, false); !status)
      {
        *problem = status.message;
        return false;
      }
  std::vector<double> milliseconds;
  for (int i = 0; i < options.iters; ++i) {
    cuda::Status status =
        driver.check(driver.cuMemsetD8Async(flush->pointer(), uint8_t(i),
                                            flushBytes, stream),
                     "cuMemsetD8Async (L2 flush)");
    if (status)
      status = start->record(stream);
    if (status)
      status = kernel.launch(arguments, stream, false);
    if (status)
      status = stop->record(stream);
    if (status)
      status = stop->synchronize();
    if (!status)
      {
        *problem = status.message;
        return false;
      }
    std::optional<float> elapsed = stop->millisecondsSince(*start, problem);
    if (!elapsed)
      return false;
    milliseconds.push_back(*elapsed);
  }
  double medianMs = median(milliseconds);
  double minMs = *std::min_element(milliseconds.begin(), milliseconds.end());
  double tflops = flops / (medianMs * 1e-3) / 1e12;
  std::printf("time: median %.4f ms, min %.4f ms over %d launches (L2 "
              "flushed, %d warm-up), %.1f TFLOP/s at the median (%.1f at "
              "the min)\n",
              medianMs, minMs, options.iters, options.warmup, tflops,
              flops / (minMs * 1e-3) / 1e12);
  Json timing;
  timing.field("median_ms", medianMs);
  timing.field("min_ms", minMs);
  timing.field("iters", int64_t(options.iters));
  timing.field("warmup", int64_t(options.warmup));
  timing.field("flops", flops);
  timing.field("tflops_median", tflops);
  json.object("time", timing);
  return true;
}

} // namespace

namespace {

/// `attention` (a copy of the kernel's manifest) with the call's token
/// counts and mask, and its heads, scale and softcap from `values`, else
/// `defaults`, else the kernel's where it fixes them; then checked against
/// the kernel (checkCall) so that nothing is sized by a call it refuses.
std::optional<std::string> applyCall(KernelManifest &attention,
                                     const RangesCall &call,
                                     const CallValues &defaults,
                                     const std::string &from) {
  const KernelManifest kernel = attention;
  attention.shape.numQ = call.numQ;
  attention.shape.numK = call.numK;
  attention.mask = call.mask;
  const CallValues &given = call.values;
  AttentionShape &shape = attention.shape;
  shape.headsQ = given.headsQ ? given.headsQ : defaults.headsQ;
  shape.headsK = given.headsK ? given.headsK : defaults.headsK;
  if (!shape.headsQ && kernel.shape.headsQ != kDynamicExtent)
    shape = {shape.numQ, shape.numK, kernel.shape.headsQ, kernel.shape.headsK,
             shape.headDim};
  if (!shape.headsQ || !shape.headsK)
    return "kernel " + kernel.kernel + " takes its head counts per call: " +
           from + " gives none ('heads HQ HK')";
  std::optional<double> scale = given.scale ? given.scale : defaults.scale;
  std::optional<double> softcap =
      given.softcap ? given.softcap : defaults.softcap;
  AttentionParams &params = attention.params;
  params.scale = scale ? *scale
                 : kernel.params.scale == kCallParam ? 0
                                                     : kernel.params.scale;
  params.scale = params.effectiveScale(shape);
  params.softcap = softcap ? *softcap
                   : kernel.params.softcap == kCallParam ? 0
                                                         : kernel.params.softcap;
  if (std::optional<std::string> problem =
          checkCall(kernel.shape, kernel.params, shape, params))
    return "kernel " + kernel.kernel + " was " + *problem + " (" + from + ")";
  return std::nullopt;
}

/// The attention a run computes: the manifest's own, or for a kernel with a
/// run-time mask the call of options.rangesPath, or the mask, token and
/// head counts, scale and softcap of options.maskOfPath, whose dtype and
/// head dim must be the kernel's.
std::optional<KernelManifest> attentionOf(const KernelRunOptions &options,
                                          const KernelManifest &manifest,
                                          std::string *problem) {
  const std::string &path = options.manifestPath;
  bool given = !options.maskOfPath.empty() || !options.rangesPath.empty();
  if (!manifest.hasRuntimeMask()) {
    if (given) {
      *problem = path + " was compiled with its mask; --mask-of and "
                        "--ranges are for kernels that take theirs at run "
                        "time";
      return std::nullopt;
    }
    return manifest;
  }
  if (!given) {
    *problem = path + " takes its mask and token counts at run time; give "
                      "them with --mask-of STATIC.manifest or --ranges FILE";
    return std::nullopt;
  }
  RangesCall call;
  std::string from = options.rangesPath;
  if (!options.rangesPath.empty()) {
    std::optional<RangesCall> read =
        readRangesCall(options.rangesPath, problem);
    if (!read)
      return std::nullopt;
    call = std::move(*read);
  } else {
    std::optional<KernelManifest> source =
        readManifest(options.maskOfPath, problem);
    if (!source)
      return std::nullopt;
    from = options.maskOfPath;
    if (source->hasRuntimeMask() || source->dtype != manifest.dtype ||
        source->shape.headDim != manifest.shape.headDim) {
      *problem = from + " is not an attention this kernel computes: it "
                        "needs a static mask and the dtype and head dim of " +
                 path;
      return std::nullopt;
    }
    const AttentionShape &b = source->shape;
    call = {b.numQ, b.numK, source->mask,
            {b.headsQ, b.headsK, source->params.scale, source->params.softcap}};
  }
  KernelManifest attention = manifest;
  if (std::optional<std::string> refused =
          applyCall(attention, call, options.callDefaults, from)) {
    *problem = *refused;
    return std::nullopt;
  }
  return attention;
}

/// A run-time mask's call: planned as a user's call is (with the host time
/// of planning, the median of a few plans, reported) and uploaded.
struct PlannedCall {
  PlannedSchedule plan;
  ScheduleBuffer tables;
  std::optional<DevicePlannedCall> device; // --device-plan

  /// What the kernel runs: the GPU's plan where there is one.
  ScheduleBinding binding(const KernelManifest &attention) const {
    if (device)
      return {&device->view, device->planner.pointer(), attention.shape,
              attention.params};
    return {&plan, tables.pointer(), attention.shape, attention.params};
  }
};

/// --device-plan: the same call planned on the GPU, which must give the
/// host's tables; false (with `problem`) when it does not.
bool planCallOnDevice(const KernelManifest &kernelManifest,
                      const KernelManifest &attention, Gpu &gpu,
                      PlannedCall &call, Json &json, std::string *problem) {
  call.device = planOnDevice(*gpu.context, gpu.stream->handle(),
                             *kernelManifest.schedule, attention.mask,
                             call.plan, problem);
  if (!call.device)
    return false;
  std::printf("device plan: equal to the host plan, %.1f us on the GPU, "
              "%lld launch slots, %zu bytes of tables\n",
              call.device->planMicroseconds,
              (long long)call.device->layout.capSlots,
              call.device->layout.bytes());
  json.field("device_plan_us", call.device->planMicroseconds);
  json.field("device_plan_slots", call.device->layout.capSlots);
  json.field("device_plan_bytes", int64_t(call.device->layout.bytes()));
  return true;
}

std::optional<PlannedCall> planCall(const AttentionKernel &kernel,
                                    const KernelManifest &attention, Gpu &gpu,
                                    Json &json, std::string *problem) {
  const AttentionShape &shape = attention.shape;
  std::vector<double> microseconds;
  std::optional<PlannedSchedule> plan;
  for (int repeat = 0; repeat < 5; ++repeat) {
    auto start = std::chrono::steady_clock::now();
    plan = kernel.plan(attention.mask, shape.numQ, shape.numK, problem);
    microseconds.push_back(std::chrono::duration<double, std::micro>(
                               std::chrono::steady_clock::now() - start)
                               .count());
    if (!plan)
      return std::nullopt;
  }
  PlannedCall call{std::move(*plan), {}};
  if (cuda::Status status = call.tables.upload(*gpu.driver, call.plan,
                                               gpu.stream->handle());
      !status) {
    *problem = status.message;
    return std::nullopt;
  }
  double planUs = median(microseconds);
  std::printf("plan: %.1f us on the host, %lld launch slots, %zu bytes of "
              "tables, at most %lld items a query tile\n",
              planUs, (long long)call.plan.numSlots, call.plan.bytes(),
              (long long)call.plan.maxItemsPerTile);
  json.field("plan_us", planUs);
  json.field("schedule_bytes", int64_t(call.plan.bytes()));
  json.field("num_slots", call.plan.numSlots);
  json.field("max_items_per_tile", call.plan.maxItemsPerTile);
  return call;
}

void describeRun(const KernelRunOptions &options, const AttentionKernel &kernel,
                 const KernelManifest &attention, const cuda::DeviceInfo &device,
                 int64_t pairs, Json &json) {
  const KernelManifest &manifest = kernel.manifest();
  const AttentionShape &shape = attention.shape;
  // A grid dimension the call decides: the plan's slots, the call's heads.
  auto dim = [](unsigned value, const char *decided) {
    return value ? std::to_string(value) : std::string(decided);
  };
  std::printf(
      "%s: %s on %s (sm_%d%d): grid %sx%sx%u block %ux%ux%u shared "
      "%u, %d registers, %d bytes local; %s Sq=%lld Sk=%lld Hq=%lld "
      "Hk=%lld D=%lld scale=%.9g softcap=%g, %zu slices%s, %lld attended "
      "pairs\n",
      options.manifestPath.c_str(), manifest.kernel.c_str(),
      device.name.c_str(), device.computeMajor, device.computeMinor,
      dim(manifest.grid[0], "heads").c_str(),
      dim(manifest.grid[1], "plan").c_str(), manifest.grid[2],
      manifest.block[0], manifest.block[1], manifest.block[2],
      manifest.sharedBytes, kernel.numRegisters(), kernel.localBytes(),
      std::string(stringifyElementType(attention.dtype)).c_str(),
      (long long)shape.numQ, (long long)shape.numK, (long long)shape.headsQ,
      (long long)shape.headsK, (long long)shape.headDim,
      attention.params.effectiveScale(shape), attention.params.softcap,
      attention.mask.size(),
      manifest.hasRuntimeMask() ? " given at run time" : "", (long long)pairs);
  json.field("manifest", options.manifestPath);
  if (!options.maskOfPath.empty())
    json.field("mask_of", options.maskOfPath);
  json.field("kernel", manifest.kernel);
  json.field("device", device.name);
  json.field("dtype", std::string(stringifyElementType(attention.dtype)));
  json.field("num_q", shape.numQ);
  json.field("num_k", shape.numK);
  json.field("heads_q", shape.headsQ);
  json.field("heads_k", shape.headsK);
  json.field("head_dim", shape.headDim);
  json.field("scale", attention.params.effectiveScale(shape));
  json.field("softcap", attention.params.softcap);
  json.field("attended_pairs", pairs);
  json.field("registers", int64_t(kernel.numRegisters()));
  json.field("local_bytes", int64_t(kernel.localBytes()));
}

/// Unwritten elements, whatever else is asked: NaN is never a valid output
/// (empty rows give 0 and -inf).
bool checkWritten(const std::vector<float> &outValues,
                  const std::vector<float> &lseValues, Json &json) {
  int64_t nanOut = std::count_if(outValues.begin(), outValues.end(),
                                 [](float x) { return std::isnan(x); });
  int64_t nanLse = std::count_if(lseValues.begin(), lseValues.end(),
                                 [](float x) { return std::isnan(x); });
  bool written = nanOut == 0 && nanLse == 0;
  std::printf("written: %s %lld of %zu out and %lld of %zu lse elements NaN\n",
              written ? "PASS" : "FAIL", (long long)nanOut, outValues.size(),
              (long long)nanLse, lseValues.size());
  json.field("nan_out", nanOut);
  json.field("nan_lse", nanLse);
  return written;
}

/// out and lse, poisoned: all-ones bytes are NaN in bf16, f16 and f32
/// alike, so an element the kernel never writes cannot pass.
struct Outputs {
  std::optional<cuda::DeviceBuffer> out, lse;
};

std::optional<Outputs> makeOutputs(const cuda::Driver &driver,
                                   const KernelManifest &attention,
                                   std::string *problem) {
  const AttentionShape &shape = attention.shape;
  Outputs outputs;
  // At least one element each: the driver allocates no empty buffers.
  outputs.out = cuda::DeviceBuffer::allocate(
      driver,
      std::max<size_t>(1, size_t(shape.qElements())) *
          elementBytes(attention.dtype),
      problem);
  if (!outputs.out)
    return std::nullopt;
  outputs.lse = cuda::DeviceBuffer::allocate(
      driver, std::max<size_t>(1, size_t(shape.lseElements())) * sizeof(float),
      problem);
  if (!outputs.lse)
    return std::nullopt;
  for (const cuda::DeviceBuffer *buffer : {&*outputs.out, &*outputs.lse})
    if (cuda::Status status = buffer->fill(0xff); !status) {
      *problem = status.message;
      return std::nullopt;
    }
  return outputs;
}

/// Why the GPU's refusal of a call differs from the host's, or nullopt: the
/// planner must refuse it with the host's message (mask::maskFromRanges's,
/// the user's ranges path), write NaN into every out and lse element, and
/// leave the kernel launched on its plan nothing to do (no fault, nothing
/// written over the NaN).
std::optional<std::string> compareRefusal(const AttentionKernel &kernel,
                                          const KernelManifest &attention,
                                          Gpu &gpu, std::string *hostProblem) {
  const AttentionShape &shape = attention.shape;
  mask::MaskRanges ranges = mask::rangesOfMask(attention.mask);
  if (kernel.planRanges(ranges.qRanges.data(), ranges.kRanges.data(),
                        ranges.kinds.data(), int64_t(attention.mask.size()),
                        shape.numQ, shape.numK, hostProblem))
    return "the host planned the call from its ranges but not as a mask";
  std::string problem;
  std::optional<Outputs> outputs =
      makeOutputs(*gpu.driver, attention, &problem);
  if (!outputs)
    return problem;
  for (const cuda::DeviceBuffer *buffer : {&*outputs->out, &*outputs->lse})
    if (cuda::Status status = buffer->fill(0); !status)
      return status.message;
  cuda::CUstream stream = gpu.stream->handle();
  std::optional<DevicePlannedCall> call = enqueueDevicePlan(
      *gpu.context, stream, *kernel.manifest().schedule, attention.mask,
      shape.numQ, shape.numK,
      refusedOutputsOf(attention.dtype, outputs->out->pointer(),
                       outputs->lse->pointer(), shape.qElements(),
                       shape.lseElements()),
      &problem);
  if (!call) {
    std::printf("device plan: refused before planning: %s\n", problem.c_str());
    return std::nullopt;
  }
  std::optional<Inputs> inputs =
      makeInputs(*gpu.driver, shape, attention.dtype, 1, &problem);
  if (!inputs)
    return problem;
  AttentionBuffers buffers{inputs->qDevice->pointer(),
                           inputs->kDevice->pointer(),
                           inputs->vDevice->pointer(), outputs->out->pointer(),
                           outputs->lse->pointer()};
  KernelArguments arguments;
  cuda::Status status = kernel.bind(
      buffers, arguments,
      {&call->view, call->planner.pointer(), shape, attention.params});
  if (status)
    status = kernel.launch(arguments, stream);
  std::optional<std::string> refused = call->planner.lastProblem(&problem);
  if (!status || !problem.empty())
    return "the kernel on the refused plan failed: " +
           (status ? problem : status.message);
  if (!refused)
    return std::string("the GPU planner planned a call the host refused");
  // A bad slice is named alike; the limits (items a tile, query tiles)
  // are worded for several kernels on the GPU, for one on the host.
  bool badSlice = hostProblem->rfind("slice ", 0) == 0 ||
                  refused->rfind("slice ", 0) == 0;
  if (badSlice && *refused != *hostProblem)
    return "the GPU planner refused the call with '" + *refused +
           "', the host with '" + *hostProblem + "'";
  std::vector<float> lse;
  std::vector<uint8_t> outBytes(outputs->out->size());
  if (!download(*outputs->lse, lse, &problem))
    return problem;
  if (cuda::Status got = outputs->out->download(outBytes.data(), outBytes.size());
      !got)
    return got.message;
  std::vector<float> out(size_t(shape.qElements()));
  decodeElements(attention.dtype, outBytes.data(), shape.qElements(), out.data());
  lse.resize(size_t(shape.lseElements()));
  auto notNaN = [](float x) { return !std::isnan(x); };
  int64_t written = std::count_if(out.begin(), out.end(), notNaN) +
                    std::count_if(lse.begin(), lse.end(), notNaN);
  if (written > 0)
    return std::to_string(written) + " out and lse elements are not NaN";
  std::printf("device plan: refused alike (out and lse NaN, the kernel "
              "launched on the plan wrote nothing): %s\n",
              refused->c_str());
  return std::nullopt;
}

/// A run-time call the host refused with `problem`: an error, as for any
/// bad argument, once --device-plan has checked that the GPU refuses it
/// alike (a failure if not).
int refuseCall(const KernelRunOptions &options, const AttentionKernel &kernel,
               const KernelManifest &attention, Gpu &gpu,
               const std::string &problem) {
  std::string message = options.manifestPath + ": " + problem;
  if (!options.devicePlan)
    return error(options, message);
  std::string rangesProblem;
  if (std::optional<std::string> differs =
          compareRefusal(kernel, attention, gpu, &rangesProblem)) {
    std::printf("FAIL: device plan: %s\n", differs->c_str());
    return kExitFail;
  }
  return error(options, message);
}

} // namespace

int fattn::runtime::runKernel(const KernelRunOptions &options) {
  std::string problem;
  std::optional<KernelManifest> manifest =
      readManifest(options.manifestPath, &problem);
  if (!manifest)
    return error(options, problem);
  std::optional<KernelManifest> attention =
      attentionOf(options, *manifest, &problem);
  if (!attention)
    return error(options, problem);
  std::string ptxPath = resolvePtxPath(options.manifestPath, *manifest);
  std::optional<std::string> ptx = readTextFile(ptxPath, &problem);
  if (!ptx)
    return error(options, options.manifestPath + ": PTX: " + problem);

  std::optional<Gpu> gpu = openGpu(options.device, &problem);
  if (!gpu)
    return error(options, problem);
  const cuda::Driver &driver = *gpu->driver;
  KernelLoadError loadError;
  std::optional<AttentionKernel> kernel =
      AttentionKernel::load(*gpu->context, *manifest, *ptx, &loadError);
  if (!kernel)
    return error(options, options.manifestPath + ": " + loadError.message);

  // A run-time call is planned first: planning is where a user's bad call
  // is refused, before anything is sized by it.
  Json json;
  std::optional<PlannedCall> call;
  if (manifest->hasRuntimeMask()) {
    call = planCall(*kernel, *attention, *gpu, json, &problem);
    if (!call)
      return refuseCall(options, *kernel, *attention, *gpu, problem);
  } else if (options.devicePlan) {
    return error(options, options.manifestPath +
                              ": --device-plan needs a kernel with a run-time "
                              "mask");
  }
  const AttentionShape &shape = attention->shape;
  const ElementType type = attention->dtype;
  // Valid masks (every static manifest's, every planned call's) only; a
  // cell of overlapping run-time slices counts once per slice.
  int64_t pairs = static_cast<int64_t>(mask::countAttendedPairs(attention->mask));
  double flops = 4.0 * double(pairs) * double(shape.headsQ) *
                 double(shape.headDim);
  describeRun(options, *kernel, *attention, gpu->context->info(), pairs, json);
  auto finish = [&](int code) {
    json.field("exit_code", int64_t(code));
    if (!options.jsonPath.empty() && !writeJson(options.jsonPath, json)) {
      std::fprintf(stderr, "%s: cannot write %s\n", options.toolName.c_str(),
                   options.jsonPath.c_str());
      return kExitError;
    }
    return code;
  };
  if (options.devicePlan &&
      !planCallOnDevice(*manifest, *attention, *gpu, *call, json, &problem)) {
    std::printf("FAIL: device plan: %s\n", problem.c_str());
    json.field("device_plan_problem", problem);
    return finish(kExitFail);
  }

  std::optional<Inputs> inputs =
      makeInputs(driver, shape, type, options.seed, &problem);
  if (!inputs)
    return error(options, problem);
  std::optional<Outputs> outputs = makeOutputs(driver, *attention, &problem);
  if (!outputs)
    return error(options, problem);
  AttentionBuffers buffers;
  buffers.q = inputs->qDevice->pointer();
  buffers.k = inputs->kDevice->pointer();
  buffers.v = inputs->vDevice->pointer();
  buffers.out = outputs->out->pointer();
  buffers.lse = outputs->lse->pointer();

  ScheduleBinding schedule;
  if (call)
    schedule = call->binding(*attention);
  cuda::CUstream stream = gpu->stream->handle();
  // Bound once: the timed launches below pass the same arguments.
  KernelArguments arguments;
  if (cuda::Status status = kernel->bind(buffers, arguments, schedule);
      !status)
    return error(options, status.message);
  if (cuda::Status status = kernel->launch(arguments, stream); !status)
    return error(options, status.message);
  if (cuda::Status status = gpu->stream->synchronize(); !status) {
    // The kernel under test faulted: a failure of the kernel, not of the
    // tool. The context is unusable from here on.
    std::printf("FAIL: kernel %s faulted: %s\n", manifest->kernel.c_str(),
                status.message.c_str());
    json.field("fault", status.message);
    return finish(kExitFail);
  }

  std::vector<uint8_t> outBytes(outputs->out->size());
  std::vector<float> outValues(shape.qElements()), lseValues;
  if (cuda::Status status =
          outputs->out->download(outBytes.data(), outBytes.size());
      !status)
    return error(options, status.message);
  decodeElements(type, outBytes.data(), shape.qElements(), outValues.data());
  if (!download(*outputs->lse, lseValues, &problem))
    return error(options, problem);
  lseValues.resize(shape.lseElements());

  bool allPass = checkWritten(outValues, lseValues, json);
  if (options.check && shape.numQ == 0)
    std::printf("check: nothing to compare (no query tokens)\n");
  if (options.check && shape.numQ > 0 && shape.numK == 0) {
    // No keys: every row is empty (docs/spec.md §1), which the references,
    // made for positive lengths, need not be asked.
    bool empty = std::all_of(outValues.begin(), outValues.end(),
                             [](float x) { return x == 0; }) &&
                 std::all_of(lseValues.begin(), lseValues.end(), [](float x) {
                   return std::isinf(x) && x < 0;
                 });
    std::printf("check: no key tokens: %s (every out 0, every lse -inf)\n",
                empty ? "PASS" : "FAIL");
    allPass &= empty;
  }
  if (options.check && shape.numQ > 0 && shape.numK > 0) {
    std::optional<bool> checked =
        checkOutputs(options, *gpu, *attention, *inputs, outValues, lseValues,
                     json, &problem);
    if (!checked)
      return error(options, problem);
    allPass &= *checked;
  }
  if (options.time && !timeLaunches(options, *gpu, *kernel, arguments, flops,
                                    json, &problem))
    return error(options, problem);

  std::printf("%s\n", allPass ? "PASS" : "FAIL");
  json.field("pass", allPass);
  return finish(allPass ? kExitPass : kExitFail);
}

//===----------------------------------------------------------------------===//
// --self-test
//===----------------------------------------------------------------------===//

namespace {

struct SelfTestCase {
  const char *name;
  mask::Mask mask;
  AttentionShape shape;
  ElementType type;
  AttentionParams params;
};

std::vector<SelfTestCase> selfTestCases() {
  using mask::Slice;
  using mask::SliceKind;
  std::vector<SelfTestCase> cases;
  auto add = [&](const char *name, mask::Mask mask, AttentionShape shape,
                 ElementType type, AttentionParams params = {}) {
    cases.push_back({name, std::move(mask), shape, type, params});
  };
  // Sq > Sk: the first rows of a bottom-right causal slice are empty.
  add("causal-tall-gqa", mask::causalMask(37, 29), {37, 29, 4, 2, 64},
      ElementType::BF16);
  AttentionParams capped;
  capped.softcap = 5.0;
  add("all-kinds-softcap",
      {Slice{0, 20, 0, 30, SliceKind::InvCausal},
       Slice{20, 40, 0, 25, SliceKind::BiCausal},
       Slice{20, 40, 40, 50, SliceKind::Full},
       Slice{40, 50, 10, 50, SliceKind::Causal}},
      {50, 50, 3, 1, 40}, ElementType::F16, capped);
  add("block-causal-overlapping-q", *mask::blockCausalMask(100, 32),
      {100, 100, 2, 2, 128}, ElementType::F32);
  // Rows 20..39 and 60..63 attend nothing: out 0, lse -inf.
  add("empty-rows",
      {Slice{0, 20, 0, 20, SliceKind::Causal},
       Slice{40, 60, 30, 64, SliceKind::Full}},
      {64, 64, 2, 1, 64}, ElementType::BF16);
  AttentionParams scaled;
  scaled.scale = 0.3;
  add("sliding-window", *mask::slidingWindowMask(50, 70, 8, 3),
      {50, 70, 2, 2, 96}, ElementType::BF16, scaled);
  add("no-slices", {}, {20, 20, 1, 1, 64}, ElementType::BF16);
  // Past the 48 KiB default of dynamic shared memory.
  add("head-dim-256", *mask::sharedQuestionMask(30, {20, 25}),
      {75, 75, 2, 1, 256}, ElementType::F16);
  add("causal-1024", mask::causalMask(1024, 1024), {1024, 1024, 4, 4, 128},
      ElementType::BF16);
  return cases;
}

} // namespace

int fattn::runtime::runReferenceSelfTest(const KernelRunOptions &options) {
  std::string problem;
  std::optional<Gpu> gpu = openGpu(options.device, &problem);
  if (!gpu)
    return error(options, problem);
  std::optional<GpuReference> reference =
      GpuReference::load(*gpu->context, &problem);
  if (!reference)
    return error(options, problem);
  std::printf("self-test on %s: GPU reference kernel against the CPU "
              "reference\n",
              gpu->context->info().name.c_str());
  std::vector<Json> results;
  int passed = 0, total = 0;
  for (const SelfTestCase &test : selfTestCases()) {
    ++total;
    std::optional<Inputs> inputs =
        makeInputs(*gpu->driver, test.shape, test.type, options.seed, &problem);
    if (!inputs)
      return error(options, problem);
    std::optional<GpuReferenceResult> gpuResult =
        runGpuReference(*gpu, *reference, test.mask, test.shape, test.params,
                        test.type, *inputs, &problem);
    if (!gpuResult)
      return error(options, std::string(test.name) + ": " + problem);
    CpuReferenceResult cpuResult =
        runCpuReference(test.mask, test.shape, test.params, test.type, *inputs);
    CrossCheck check = crossCheck(*gpuResult, cpuResult, test.type);
    passed += check.pass;
    std::printf("self-test %s (%s): %s\n", test.name,
                std::string(stringifyElementType(test.type)).c_str(),
                check.summary.c_str());
    check.json.field("name", std::string(test.name));
    results.push_back(check.json);
  }
  bool pass = passed == total;
  std::printf("self-test: %d of %d PASS\n%s\n", passed, total,
              pass ? "PASS" : "FAIL");
  if (!options.jsonPath.empty()) {
    Json json;
    json.array("cases", results);
    json.field("pass", pass);
    if (!writeJson(options.jsonPath, json))
      return error(options, "cannot write " + options.jsonPath);
  }
  return pass ? kExitPass : kExitFail;
}


int fattn::runtime::printKernelInfo(const KernelRunOptions &options) {
  std::string problem;
  std::optional<KernelManifest> manifest =
      readManifest(options.manifestPath, &problem);
  if (!manifest)
    return error(options, problem);
  // A run-time mask's kernel on its own has no problem size to report.
  if (manifest->hasRuntimeMask() && options.maskOfPath.empty() &&
      options.rangesPath.empty())
    return printInfo(options, *manifest, /*maskGiven=*/false);
  std::optional<KernelManifest> attention =
      attentionOf(options, *manifest, &problem);
  if (!attention)
    return error(options, problem);
  // A call is reported only once it is one the runtime would plan.
  if (manifest->hasRuntimeMask() &&
      !planSchedule(*manifest->schedule, attention->mask,
                    attention->shape.numQ, attention->shape.numK, &problem))
    return error(options, options.manifestPath + ": " + problem);
  return printInfo(options, *attention, /*maskGiven=*/true);
}

/// One record of a call file after its "tokens" line: "heads HQ HK",
/// "scale S", "softcap C", or a slice. The problem, or nullopt.
static std::optional<std::string> parseCallRecord(const std::string &line,
                                                  RangesCall &call) {
  long long v[5] = {0, 0, 0, 0, -1};
  double number = 0;
  char tail = 0;
  if (line.find_first_of("abcdefghijklmnopqrstuvwxyz") == std::string::npos) {
    std::optional<mask::SliceKind> kind;
    if (std::sscanf(line.c_str(), "%lld %lld %lld %lld %lld %c", &v[0], &v[1],
                    &v[2], &v[3], &v[4], &tail) == 5)
      kind = mask::sliceKindFromCode(v[4]);
    if (!kind)
      return std::string("expected 'Q_BEGIN Q_END K_BEGIN K_END KIND' with "
                         "KIND 0..3");
    call.mask.push_back({v[0], v[1], v[2], v[3], *kind});
    return std::nullopt;
  }
  if (std::sscanf(line.c_str(), " heads %lld %lld %c", &v[0], &v[1], &tail) ==
      2) {
    // 0 would read as "not given" (CallValues).
    if (v[0] <= 0 || v[1] <= 0)
      return std::string("heads must be positive, got ") +
             std::to_string(v[0]) + " " + std::to_string(v[1]);
    call.values.headsQ = v[0];
    call.values.headsK = v[1];
    return std::nullopt;
  }
  for (auto [name, value] : {std::pair{"scale", &call.values.scale},
                             std::pair{"softcap", &call.values.softcap}})
    if (std::sscanf(line.c_str(), (std::string(" ") + name + " %lf %c").c_str(),
                    &number, &tail) == 1) {
      *value = number;
      return std::nullopt;
    }
  return std::string("expected 'heads HQ HK', 'scale S', 'softcap C' or a "
                     "slice");
}

std::optional<RangesCall>
fattn::runtime::readRangesCall(const std::string &path, std::string *problem) {
  std::optional<std::string> text = readTextFile(path, problem);
  if (!text)
    return std::nullopt;
  RangesCall call;
  int lineNumber = 0;
  bool sawHeader = false;
  size_t pos = 0;
  while (pos < text->size()) {
    size_t end = text->find('\n', pos);
    std::string line = text->substr(
        pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? text->size() : end + 1;
    ++lineNumber;
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#')
      continue;
    std::optional<std::string> bad;
    if (!sawHeader) {
      long long v[2] = {0, 0};
      char tail = 0;
      if (std::sscanf(line.c_str(), " tokens %lld %lld %c", &v[0], &v[1],
                      &tail) != 2)
        bad = "expected 'tokens NUM_Q NUM_K'";
      call.numQ = v[0];
      call.numK = v[1];
      sawHeader = true;
    } else {
      bad = parseCallRecord(line, call);
    }
    if (bad) {
      *problem = path + ": line " + std::to_string(lineNumber) + ": " + *bad;
      return std::nullopt;
    }
  }
  if (!sawHeader) {
    *problem = path + ": empty (expected 'tokens NUM_Q NUM_K')";
    return std::nullopt;
  }
  // A call's ranges and counts are int32 (MagiAttention's tensors): a value
  // past that cannot be passed on, only cut, so it is refused here.
  auto fits = [](long long value) {
    return value >= std::numeric_limits<int32_t>::min() &&
           value <= std::numeric_limits<int32_t>::max();
  };
  if (!fits(call.numQ) || !fits(call.numK)) {
    *problem = path + ": token counts " + std::to_string(call.numQ) + " " +
               std::to_string(call.numK) + " do not fit int32";
    return std::nullopt;
  }
  for (size_t index = 0; index < call.mask.size(); ++index) {
    const mask::Slice &slice = call.mask[index];
    for (int64_t value : {slice.qBegin, slice.qEnd, slice.kBegin, slice.kEnd})
      if (!fits(value)) {
        *problem = path + ": slice " + std::to_string(index) + ": " +
                   std::to_string(value) + " does not fit int32";
        return std::nullopt;
      }
  }
  return call;
}

std::optional<std::string> fattn::runtime::whyNoGpu(int ordinal) {
  std::string problem;
  const cuda::Driver *driver = cuda::Driver::get(&problem);
  if (!driver)
    return problem;
  if (cuda::CUresult result = driver->cuInit(0); result != 0)
    return "no CUDA device (cuInit: " + driver->describe(result) + ")";
  int count = 0;
  if (cuda::Status status =
          driver->check(driver->cuDeviceGetCount(&count), "cuDeviceGetCount");
      !status)
    return status.message;
  if (ordinal < 0 || ordinal >= count)
    return "no CUDA device " + std::to_string(ordinal) + " (the driver sees " +
           std::to_string(count) + ")";
  return std::nullopt;
}
