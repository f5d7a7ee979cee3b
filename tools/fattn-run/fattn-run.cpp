//===- fattn-run.cpp - Compile, run and check a fattn program -------------===//
//
// fattn-run FILE.mlir: lowers the program for the CPU, runs it on random
// inputs, compares out and lse with the fp64 reference computed from the same
// mask and prints the error. Exit status: 0 pass, 1 mismatch, 2 error.
//
// fattn-run FILE.mlir --target=gpu [--emit-dir DIR] [--time]: compiles the
// program to a tensor-core PTX kernel, writes DIR/NAME.ptx and
// DIR/NAME.manifest (a temporary folder without --emit-dir), and where a GPU
// is present loads, runs and checks it against the GPU fp64 reference by
// docs/spec.md §3 (and times it with --time) exactly as fattn-launch does.
// Where there is none, the written kernel is the result: it says why it did not
// run and exits 0 (2 without --emit-dir, as nothing was produced).
//
// fattn-run NAME.manifest [--time]: loads, runs and checks a kernel compiled
// earlier.
//
// A program of fattn.attention_grad (GradientRunner.h's convention) runs on
// the CPU: dQ, dK and dV from random dout, q, k and v and the fp64 forward's
// out and lse, against the fp64 reference gradients (docs/spec.md §3: fp32
// within --rtol, and within --rtol of the tensor's largest magnitude near
// zero).
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/CpuRunner.h"
#include "FlashDialect/FattnOps.h"
#include "FlashDialect/GradientRunner.h"
#include "FlashDialect/GpuCompiler.h"
#include "FlashDialect/GpuKernel.h"
#include "FlashDialect/Mask/Mask.h"
#include "FlashDialect/Runtime/Check.h"
#include "FlashDialect/Runtime/KernelRun.h"
#include "FlashDialect/Runtime/Manifest.h"
#include "FlashDialect/Runtime/Reference.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>

using namespace mlir;
namespace mask = ::fattn::mask;
namespace runtime = ::fattn::runtime;

static llvm::cl::opt<std::string>
    inputFile(llvm::cl::Positional,
              llvm::cl::desc("<program.mlir | kernel.manifest>"),
              llvm::cl::Required);
enum class Target { Cpu, Gpu };
static llvm::cl::opt<Target> target(
    "target", llvm::cl::desc("Where the program runs"),
    llvm::cl::values(clEnumValN(Target::Cpu, "cpu", "JIT, run and check here"),
                     clEnumValN(Target::Gpu, "gpu",
                                "compile to PTX and a manifest (--emit-dir)")),
    llvm::cl::init(Target::Cpu));
static llvm::cl::opt<std::string>
    emitDir("emit-dir", llvm::cl::desc("Folder for NAME.ptx and NAME.manifest"),
            llvm::cl::init(""));
static llvm::cl::opt<std::string> chip("chip", llvm::cl::desc("GPU target"),
                                       llvm::cl::init("sm_90a"));
static llvm::cl::opt<int64_t> warps("warps", llvm::cl::desc("Warps per CTA"),
                                    llvm::cl::init(4));
static llvm::cl::opt<int64_t>
    stages("stages",
           llvm::cl::desc("GPU: K/V copy stages (K runs stages - 1 tiles "
                          "ahead, V stages - 2)"),
           llvm::cl::init(2));
static llvm::cl::opt<int64_t>
    blockQ("block-q",
           llvm::cl::desc("Query tile rows (default 64 on the CPU, 128 on the GPU)"),
           llvm::cl::init(64));
static llvm::cl::opt<int64_t> blockK("block-k", llvm::cl::desc("Key tile rows"),
                                     llvm::cl::init(64));
static llvm::cl::opt<std::string> rangesFile(
    "ranges",
    llvm::cl::desc("A ranges-mask program's call: 'tokens NUM_Q NUM_K', then "
                   "'Q_BEGIN Q_END K_BEGIN K_END KIND' a line"),
    llvm::cl::init(""));
static llvm::cl::opt<int64_t> maxItemsPerTile(
    "max-items-per-tile",
    llvm::cl::desc("GPU, ranges masks: the most slices one query tile's rows "
                   "may attend at run time"),
    llvm::cl::init(1));
static llvm::cl::opt<bool> carryKeyRows(
    "carry-key-rows",
    llvm::cl::desc("GPU, ranges masks: carry the K/V tiles' first rows "
                   "through the key loop (fattn-to-ptx's carry-key-rows)"),
    llvm::cl::init(true));
static llvm::cl::opt<uint64_t> seed("seed", llvm::cl::desc("Input seed"),
                                    llvm::cl::init(1));
static llvm::cl::opt<bool>
    timeKernel("time", llvm::cl::desc("GPU: also time the kernel (median of "
                                      "--iters launches, L2 flushed)"),
               llvm::cl::init(false));
static llvm::cl::opt<int> iters("iters", llvm::cl::desc("GPU: timed launches"),
                                llvm::cl::init(20));
static llvm::cl::opt<int> device("device", llvm::cl::desc("GPU: CUDA device"),
                                 llvm::cl::init(0));
static llvm::cl::opt<double> rtol("rtol",
                                  llvm::cl::desc("Relative tolerance (f32)"),
                                  llvm::cl::init(1e-5));

namespace {
using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}
} // namespace

/// Loads, runs, checks and (with --time) times a compiled kernel, with the
/// runtime's report on stdout. `program`, where there is one, gives a
/// --ranges call the heads, scale and softcap its file leaves out.
static int runOnGpu(const std::string &manifestPath,
                    const mlir::fattn::AttentionProgram *program = nullptr) {
  llvm::outs().flush();
  runtime::KernelRunOptions options;
  if (program)
    options.callDefaults = {program->shape.headsQ, program->shape.headsK,
                            program->params.scale, program->params.softcap};
  options.manifestPath = manifestPath;
  options.check = true;
  options.time = timeKernel;
  options.iters = iters;
  options.seed = seed;
  options.device = device;
  options.toolName = "fattn-run";
  options.rangesPath = rangesFile;
  return runtime::runKernel(options);
}

/// A folder that is removed when it goes out of scope.
struct TemporaryDirectory {
  SmallString<128> path;
  ~TemporaryDirectory() {
    if (!path.empty())
      llvm::sys::fs::remove_directories(path);
  }
};

/// Compiles for the GPU, writes NAME.ptx and NAME.manifest into --emit-dir
/// (else a temporary folder), and runs the kernel where a GPU is present.
static int emitGpuKernel(ModuleOp module,
                         const mlir::fattn::AttentionProgram &program) {
  std::optional<std::string> noGpu = runtime::whyNoGpu(device);
  if (noGpu && emitDir.empty()) {
    llvm::errs() << "fattn-run: cannot run the kernel here (" << *noGpu
                 << "); give --emit-dir DIR to compile it for another machine\n";
    return 2;
  }
  TemporaryDirectory scratch;
  std::string directory = emitDir;
  if (directory.empty()) {
    if (std::error_code ec = llvm::sys::fs::createUniqueDirectory(
            "fattn-run", scratch.path)) {
      llvm::errs() << "fattn-run: cannot create a temporary folder: "
                   << ec.message() << "\n";
      return 2;
    }
    directory = scratch.path.str().str();
  }
  // The name goes into a manifest, one word a field: nothing but printable
  // characters that need no quoting.
  std::string name = llvm::sys::path::stem(inputFile).str();
  for (char &c : name)
    if (!llvm::isAlnum(c) && c != '.' && c != '-' && c != '_')
      c = '_';
  mlir::fattn::FattnToPTXPipelineOptions options;
  options.chip = chip;
  options.blockQ = blockQ;
  options.blockK = blockK;
  options.warps = warps;
  options.stages = stages;
  options.maxItemsPerTile = maxItemsPerTile;
  options.carryKeyRows = carryKeyRows;
  auto compileStart = Clock::now();
  FailureOr<mlir::fattn::GpuKernelArtifacts> artifacts =
      mlir::fattn::compileForGpu(module, program, options, name + ".ptx");
  if (failed(artifacts))
    return 2;
  double compileSeconds = secondsSince(compileStart);
  if (std::error_code ec = llvm::sys::fs::create_directories(directory)) {
    llvm::errs() << "fattn-run: cannot create " << directory << ": "
                 << ec.message() << "\n";
    return 2;
  }
  auto write = [&](StringRef fileName, StringRef contents) {
    SmallString<256> path(directory);
    llvm::sys::path::append(path, fileName);
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    if (ec) {
      llvm::errs() << "fattn-run: cannot write " << path << ": "
                   << ec.message() << "\n";
      return false;
    }
    os << contents;
    os.close();
    if (os.has_error()) {
      llvm::errs() << "fattn-run: cannot write " << path << ": "
                   << os.error().message() << "\n";
      os.clear_error();
      return false;
    }
    return true;
  };
  if (!write(name + ".ptx", artifacts->ptx) ||
      !write(name + ".manifest",
             runtime::formatManifest(artifacts->manifest)))
    return 2;
  const runtime::KernelManifest &manifest = artifacts->manifest;
  auto dim = [](unsigned value) {
    return value ? std::to_string(value) : std::string("?");
  };
  llvm::outs() << "  gpu: " << manifest.kernel << " for " << chip << ", grid "
               << dim(manifest.grid[0]) << "x" << dim(manifest.grid[1]) << ", "
               << manifest.block[0] << " threads, " << manifest.sharedBytes
               << " B shared, compiled in "
               << llvm::format("%.3f", compileSeconds) << " s\n";
  SmallString<256> manifestPath(directory);
  llvm::sys::path::append(manifestPath, name + ".manifest");
  if (!emitDir.empty())
    llvm::outs() << "  wrote " << emitDir << "/" << name
                 << ".{ptx,manifest}\n";
  if (noGpu) {
    llvm::outs() << "  gpu: not run here: " << *noGpu << "\n";
    return 0;
  }
  if (program.hasRuntimeMask && rangesFile.empty()) {
    llvm::outs() << "  gpu: not run: its mask comes with each call (give one "
                    "with --ranges FILE, or fattn-launch --mask-of)\n";
    return 0;
  }
  return runOnGpu(manifestPath.str().str(), &program);
}

/// Flags out of range, before any work: the passes check tile sizes again
/// against the problem and the target.
static std::optional<std::string> checkFlags() {
  if (!(std::isfinite(rtol) && rtol > 0))
    return "--rtol must be positive and finite, got " + std::to_string(rtol);
  constexpr int64_t kMaxTile = ::fattn::limits::kMaxTileSize;
  if (blockQ < 1 || blockQ > kMaxTile || blockK < 1 || blockK > kMaxTile)
    return "--block-q and --block-k must be in [1, " +
           std::to_string(kMaxTile) + "], got " + std::to_string(blockQ) +
           " and " + std::to_string(blockK);
  // The pass's own check, before anything is compiled.
  if (std::optional<std::string> problem =
          mlir::fattn::checkWarpsAndStages(warps, stages))
    return "--" + *problem;
  if (iters < 1 || device < 0)
    return "--iters must be >= 1 and --device >= 0";
  if (maxItemsPerTile < 1 || maxItemsPerTile > ::fattn::limits::kMaxItemsPerTile)
    return "--max-items-per-tile must be in [1, " +
           std::to_string(::fattn::limits::kMaxItemsPerTile) + "]";
  return std::nullopt;
}

/// The CPU run checks against an fp64 reference that costs a multiply-add
/// per attended pair, head and head-dim element; past these it would run for
/// minutes or exhaust memory, so it is refused up front. A gradient run
/// holds twice the tensors and its reference costs about three forwards.
static std::optional<std::string>
checkCpuProblem(const mlir::fattn::ProgramAttention &program,
                bool gradient = false) {
  const int64_t maxElements = (int64_t(1) << 28) / (gradient ? 2 : 1);
  const int64_t maxWork = (int64_t(1) << 34) / (gradient ? 3 : 1);
  const char *instead = gradient ? "" : " (compile it with --target=gpu)";
  const runtime::AttentionShape &shape = program.shape;
  if (shape.qElements() > maxElements || shape.kvElements() > maxElements)
    return std::string("the CPU check holds at most ") +
           (gradient ? "2^27" : "2^28") +
           " elements per tensor; this program has " +
           std::to_string(std::max(shape.qElements(), shape.kvElements())) +
           instead;
  mask::PairCount work = mask::countAttendedPairs(program.mask) *
                         shape.headsQ * shape.headDim;
  if (work > mask::PairCount(maxWork))
    return "the CPU check's fp64 reference would take " +
           mask::formatPairCount(work) + " multiply-adds, more than the " +
           (gradient ? "2^34 / 3" : "2^34") + " it allows" + instead;
  return std::nullopt;
}

/// The problem, its mask and the tiles the chosen target would visit.
static void printSummary(const mlir::fattn::ProgramAttention &program) {
  const runtime::AttentionShape &shape = program.shape;
  if (program.hasRuntimeMask) {
    auto count = [](int64_t tokens) {
      return tokens == runtime::kDynamicExtent ? std::string("?")
                                               : std::to_string(tokens);
    };
    llvm::outs() << inputFile << ": @" << program.functionName
                 << " Sq=" << count(shape.numQ) << " Sk=" << count(shape.numK)
                 << " Hq=" << shape.headsQ << " Hk=" << shape.headsK
                 << " D=" << shape.headDim << " "
                 << runtime::stringifyElementType(program.elementType)
                 << "\n  mask: given at run time (ranges operands)\n";
    return;
  }
  mask::Mask normal = mask::normalize(program.mask);
  bool gpu = target == Target::Gpu;
  std::optional<mask::TileMap> tiles = mask::classifyTiles(
      normal, shape.numQ, shape.numK, {blockQ, blockK},
      gpu && mlir::fattn::kGpuWholeKeyTiles ? mask::KeyEdge::Whole
                                            : mask::KeyEdge::Clipped,
      gpu && mlir::fattn::kGpuAlignQueryTiles ? mask::QueryTiles::SliceAligned
                                              : mask::QueryTiles::Uniform);
  mask::PairCount pairs = mask::countAttendedPairs(program.mask);
  mask::PairCount cells = mask::PairCount(shape.numQ) * shape.numK;

  llvm::outs() << inputFile << ": @" << program.functionName << " Sq="
               << shape.numQ << " Sk=" << shape.numK << " Hq=" << shape.headsQ
               << " Hk=" << shape.headsK << " D=" << shape.headDim << " "
               << runtime::stringifyElementType(program.elementType) << "\n";
  llvm::outs() << "  mask: " << program.mask.size() << " slices ("
               << normal.size() << " after normalization), attended pairs "
               << mask::formatPairCount(pairs) << " of "
               << mask::formatPairCount(cells) << " ("
               << llvm::format("%.2f", cells ? 100.0 * double(pairs) /
                                                   double(cells)
                                             : 0.0)
               << "%)\n";
  llvm::outs() << "  tiles " << blockQ << "x" << blockK << ": ";
  if (!tiles) {
    llvm::outs() << "more than " << mask::kMaxTileMapEntries << "\n";
    return;
  }
  int64_t skipped = tiles->numQTiles * tiles->numKTiles -
                    tiles->numFullTiles() - tiles->numPartialTiles();
  llvm::outs() << tiles->numFullTiles() << " full, "
               << tiles->numPartialTiles() << " partial, " << skipped
               << " skipped\n";
}

/// The attention a run computes: the program's, or for a mask given as
/// ranges operands the call of --ranges (its token counts and slices).
/// `cpu`: the run is on the CPU, which computes with the program's heads,
/// scale and softcap (a call file may repeat them, not change them); the
/// GPU kernel takes them per call, so there the file's values are the
/// call's, and a program may be compiled without a call.
template <typename Program>
static std::optional<Program> callOfRun(const Program &program, bool cpu,
                                        std::string *problem) {
  if (!program.hasRuntimeMask) {
    if (!rangesFile.empty()) {
      *problem = "--ranges is for programs whose mask is ranges operands";
      return std::nullopt;
    }
    return program;
  }
  if (rangesFile.empty()) {
    if (!cpu)
      return program; // compiled only, or run with the ranges later
    *problem = "the program's mask is ranges operands: give the call to run "
               "with --ranges FILE";
    return std::nullopt;
  }
  std::optional<runtime::RangesCall> call =
      runtime::readRangesCall(rangesFile, problem);
  if (!call)
    return std::nullopt;
  Program attention = program;
  attention.shape.numQ = call->numQ;
  attention.shape.numK = call->numK;
  attention.mask = std::move(call->mask);
  if (cpu) {
    // Refused before anything is compiled or computed (the GPU's runtime
    // checks the call itself, before its launch).
    mask::MaskRanges ranges = mask::rangesOfMask(attention.mask);
    std::string invalid;
    if (!mask::maskFromRanges(ranges.qRanges.data(), ranges.kRanges.data(),
                              ranges.kinds.data(), ranges.count(),
                              call->numQ, call->numK, &invalid)) {
      *problem = rangesFile + ": " + invalid;
      return std::nullopt;
    }
    const runtime::CallValues &given = call->values;
    runtime::AttentionShape shape = attention.shape;
    runtime::AttentionParams params = attention.params;
    if (given.headsQ || given.headsK)
      shape.headsQ = given.headsQ, shape.headsK = given.headsK;
    params.scale = given.scale.value_or(params.scale);
    params.softcap = given.softcap.value_or(params.softcap);
    if (std::optional<std::string> refused = runtime::checkCall(
            attention.shape, attention.params, shape, params)) {
      *problem = rangesFile + ": the program was " + *refused;
      return std::nullopt;
    }
  }
  return attention;
}

/// Compiles for the CPU, runs on random inputs and judges the result by
/// docs/spec.md §3 for fp32.
static int runOnCpu(ModuleOp module, const mlir::fattn::AttentionProgram &program,
                    const mlir::fattn::AttentionProgram &attention) {
  const runtime::AttentionShape &shape = attention.shape;
  mlir::fattn::FattnToLLVMPipelineOptions options;
  options.blockQ = blockQ;
  options.blockK = blockK;
  auto compileStart = Clock::now();
  auto executable = mlir::fattn::CpuExecutable::compile(module, program, options);
  if (failed(executable))
    return 2;
  double compileSeconds = secondsSince(compileStart);

  std::vector<float> q = runtime::randomTensor(shape.qElements(), seed,
                                               runtime::ElementType::F32);
  std::vector<float> k = runtime::randomTensor(shape.kvElements(), seed + 1,
                                               runtime::ElementType::F32);
  std::vector<float> v = runtime::randomTensor(shape.kvElements(), seed + 2,
                                               runtime::ElementType::F32);
  // Poisoned so that an element the kernel never writes cannot pass.
  std::vector<float> out(shape.qElements(), std::nanf(""));
  std::vector<float> lse(shape.lseElements(), std::nanf(""));
  auto runStart = Clock::now();
  if (program.hasRuntimeMask) {
    mask::MaskRanges ranges = mask::rangesOfMask(attention.mask);
    if (std::optional<std::string> refused = (*executable)->runRanges(
            q.data(), k.data(), v.data(), out.data(), lse.data(),
            ranges.qRanges.data(), ranges.kRanges.data(), ranges.kinds.data(),
            ranges.count(), shape.numQ, shape.numK)) {
      llvm::errs() << "fattn-run: " << rangesFile << ": " << *refused << "\n";
      return 2;
    }
  } else {
    if (std::optional<std::string> refused = (*executable)->run(
            q.data(), k.data(), v.data(), out.data(), lse.data())) {
      llvm::errs() << "fattn-run: " << *refused << "\n";
      return 2;
    }
  }
  double runSeconds = secondsSince(runStart);

  std::vector<double> refOut(out.size()), refLse(lse.size());
  runtime::referenceAttention(attention.mask, shape, attention.params,
                              q.data(), k.data(), v.data(), refOut.data(),
                              refLse.data());
  // docs/spec.md §3 for fp32: within rtol of the fp64 reference, or, where a
  // large scale leaves even a naive fp32 attention outside that, within the
  // rule against the naive fp32 attention.
  std::vector<float> naiveOut(out.size()), naiveLse(lse.size());
  runtime::naiveAttention(attention.mask, shape, attention.params,
                          runtime::ElementType::F32, q.data(), k.data(),
                          v.data(), naiveOut.data(), naiveLse.data());
  auto judge = [&](const char *name, const std::vector<float> &ours,
                   const std::vector<float> &naive,
                   const std::vector<double> &reference) {
    runtime::Verdict exact = runtime::judgeExact(
        name, ours.data(), reference.data(), (int64_t)ours.size(), rtol);
    if (exact.pass)
      return exact;
    runtime::Tolerance tolerance;
    tolerance.atol = 1e-6;
    tolerance.rtol = rtol;
    runtime::Verdict naiveRule = runtime::judgeAgainstNaive(
        name, ours.data(), naive.data(), reference.data(),
        (int64_t)ours.size(), tolerance);
    naiveRule.summary = exact.summary + "; against naive fp32: " +
                        naiveRule.summary;
    return naiveRule;
  };
  runtime::Verdict outVerdict = judge("out", out, naiveOut, refOut);
  runtime::Verdict lseVerdict = judge("lse", lse, naiveLse, refLse);
  llvm::outs() << "  cpu: compile " << llvm::format("%.3f", compileSeconds)
               << " s, run " << llvm::format("%.3f", runSeconds) << " s\n";
  llvm::outs() << "  " << outVerdict.summary << "\n  " << lseVerdict.summary
               << "\n";
  bool pass = outVerdict.pass && lseVerdict.pass;
  llvm::outs() << (pass ? "PASS" : "FAIL") << "\n";
  return pass ? 0 : 1;
}

/// Compiles a gradient program for the CPU, runs it on random inputs and
/// judges dQ, dK and dV against the fp64 reference gradients.
static int runGradientOnCpu(ModuleOp module,
                            const mlir::fattn::GradientProgram &program,
                            const mlir::fattn::GradientProgram &call) {
  const runtime::AttentionShape &shape = call.shape;
  mlir::fattn::FattnToLLVMPipelineOptions options;
  options.blockQ = blockQ;
  options.blockK = blockK;
  auto compileStart = Clock::now();
  auto executable =
      mlir::fattn::GradientExecutable::compile(module, program, options);
  if (failed(executable))
    return 2;
  double compileSeconds = secondsSince(compileStart);
  auto random = [](int64_t count, uint64_t tensorSeed) {
    return runtime::randomTensor(count, tensorSeed, runtime::ElementType::F32);
  };
  std::vector<float> q = random(shape.qElements(), seed),
                     k = random(shape.kvElements(), seed + 1),
                     v = random(shape.kvElements(), seed + 2),
                     dout = random(shape.qElements(), seed + 3);
  std::vector<double> out64(shape.qElements()), lse64(shape.lseElements());
  runtime::referenceAttention(call.mask, shape, call.params, q.data(),
                              k.data(), v.data(), out64.data(), lse64.data());
  std::vector<float> out(out64.begin(), out64.end()),
      lse(lse64.begin(), lse64.end());
  // Poisoned so that an element the program never writes cannot pass.
  std::vector<float> dq(shape.qElements(), std::nanf("")),
      dk(shape.kvElements(), std::nanf("")),
      dv(shape.kvElements(), std::nanf(""));
  mlir::fattn::GradientBuffers buffers{dout.data(), q.data(),   k.data(),
                                       v.data(),    out.data(), lse.data(),
                                       dq.data(),   dk.data(),  dv.data()};
  auto runStart = Clock::now();
  if (program.hasRuntimeMask) {
    mask::MaskRanges ranges = mask::rangesOfMask(call.mask);
    if (std::optional<std::string> refused = (*executable)->runRanges(
            buffers, ranges.qRanges.data(), ranges.kRanges.data(),
            ranges.kinds.data(), ranges.count(), shape.numQ, shape.numK)) {
      llvm::errs() << "fattn-run: " << rangesFile << ": " << *refused << "\n";
      return 2;
    }
  } else {
    if (std::optional<std::string> refused = (*executable)->run(buffers)) {
      llvm::errs() << "fattn-run: " << *refused << "\n";
      return 2;
    }
  }
  double runSeconds = secondsSince(runStart);

  std::vector<double> refDq(dq.size()), refDk(dk.size()), refDv(dv.size());
  runtime::referenceAttentionGrad(call.mask, shape, call.params, q.data(),
                                  k.data(), v.data(), dout.data(),
                                  refDq.data(), refDk.data(), refDv.data());
  llvm::outs() << "  cpu: compile " << llvm::format("%.3f", compileSeconds)
               << " s, run " << llvm::format("%.3f", runSeconds) << " s\n";
  bool pass = true;
  for (auto [name, ours, reference] :
       {std::tuple{"dq", &dq, &refDq}, std::tuple{"dk", &dk, &refDk},
        std::tuple{"dv", &dv, &refDv}}) {
    // Gradients cancel: near zero an element is judged against the
    // tensor's scale.
    double largest = 0;
    for (double value : *reference)
      largest = std::max(largest, std::abs(value));
    runtime::Verdict verdict =
        runtime::judgeExact(name, ours->data(), reference->data(),
                            (int64_t)ours->size(), rtol,
                            std::max(rtol * largest, 1e-30));
    llvm::outs() << "  " << verdict.summary << "\n";
    pass = pass && verdict.pass;
  }
  llvm::outs() << (pass ? "PASS" : "FAIL") << "\n";
  return pass ? 0 : 1;
}

/// fattn-run on a gradient program: the summary, then the CPU run.
static int runGradientProgram(ModuleOp module) {
  FailureOr<mlir::fattn::GradientProgram> program =
      mlir::fattn::analyzeGradientProgram(module);
  if (failed(program))
    return 2;
  if (target == Target::Gpu) {
    llvm::errs() << "fattn-run: fattn.attention_grad has no GPU kernels yet; "
                    "run it on the CPU (--target=cpu)\n";
    return 2;
  }
  std::string problem;
  std::optional<mlir::fattn::GradientProgram> call =
      callOfRun(*program, /*cpu=*/true, &problem);
  if (!call) {
    llvm::errs() << "fattn-run: " << problem << "\n";
    return 2;
  }
  if (std::optional<std::string> tooLarge =
          checkCpuProblem(*call, /*gradient=*/true)) {
    llvm::errs() << "fattn-run: " << *tooLarge << "\n";
    return 2;
  }
  printSummary(*program);
  llvm::outs() << "  gradients: dq, dk, dv"
               << (call->deterministic ? " (deterministic)" : "") << "\n";
  return runGradientOnCpu(module, *program, *call);
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::cl::ParseCommandLineOptions(argc, argv,
                                    "fattn-run: compile, run and check\n");
  if (std::optional<std::string> problem = checkFlags()) {
    llvm::errs() << "fattn-run: " << *problem << "\n";
    return 2;
  }

  if (StringRef(inputFile).ends_with(".manifest"))
    return runOnGpu(inputFile);

  DialectRegistry registry;
  mlir::fattn::registerFattnCompilerDialects(registry);
  MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  std::string error;
  auto file = openInputFile(inputFile, &error);
  if (!file) {
    llvm::errs() << "fattn-run: " << error << "\n";
    return 2;
  }
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 2;

  bool hasGradient = false, hasForward = false;
  module->walk([&](mlir::fattn::AttentionGradOp) { hasGradient = true; });
  module->walk([&](mlir::fattn::AttentionOp) { hasForward = true; });
  if (hasGradient && hasForward) {
    llvm::errs() << "fattn-run: " << inputFile
                 << ": holds both fattn.attention and "
                    "fattn.attention_grad; a program runs one of them\n";
    return 2;
  }
  if (hasGradient)
    return runGradientProgram(*module);
  FailureOr<mlir::fattn::AttentionProgram> program =
      mlir::fattn::analyzeAttentionProgram(*module);
  if (failed(program))
    return 2;
  if (target == Target::Gpu && blockQ.getNumOccurrences() == 0)
    blockQ = 128;
  std::string problem;
  std::optional<mlir::fattn::AttentionProgram> attention =
      callOfRun(*program, target == Target::Cpu, &problem);
  if (!attention) {
    llvm::errs() << "fattn-run: " << problem << "\n";
    return 2;
  }
  if (target == Target::Cpu)
    if (std::optional<std::string> tooLarge = checkCpuProblem(*attention)) {
      llvm::errs() << "fattn-run: " << *tooLarge << "\n";
      return 2;
    }
  printSummary(*program);
  if (target == Target::Gpu)
    return emitGpuKernel(*module, *program);
  return runOnCpu(*module, *program, *attention);
}
