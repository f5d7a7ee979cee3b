//===- fattn-synth.cpp - Attention programs for named mask families -------===//
//
// fattn-synth --mask=varlen-causal --seq=16384 --heads-q=16 --head-dim=128
//             --dtype=bf16 -o prog.mlir
//
// Writes a tensor-level program whose mask comes from the mask library's
// builders, so that tests and benchmarks name masks instead of spelling out
// thousands of slices.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/CpuRunner.h"
#include "FlashDialect/Mask/Mask.h"
#include "FlashDialect/Runtime/Reference.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <random>

namespace mask = ::fattn::mask;
namespace runtime = ::fattn::runtime;

static llvm::cl::opt<std::string> family(
    "mask", llvm::cl::Required,
    llvm::cl::desc("full | causal | varlen-full | varlen-causal | "
                   "sliding-window | block-causal | shared-question | "
                   "random-slices | runtime (the mask as ranges operands, "
                   "for every call)"));
static llvm::cl::opt<int64_t> seq("seq", llvm::cl::desc("Query (and key) tokens"),
                                  llvm::cl::init(1024));
static llvm::cl::opt<int64_t> keys("keys",
                                   llvm::cl::desc("Key tokens (default: --seq)"),
                                   llvm::cl::init(-1));
static llvm::cl::opt<int64_t> headsQ("heads-q", llvm::cl::init(16));
static llvm::cl::opt<int64_t> headsK("heads-k",
                                     llvm::cl::desc("default: --heads-q"),
                                     llvm::cl::init(-1));
static llvm::cl::opt<int64_t> headDim("head-dim", llvm::cl::init(128));
static llvm::cl::opt<std::string> dtype("dtype", llvm::cl::init("bf16"));
static llvm::cl::opt<int64_t>
    window("window", llvm::cl::desc("sliding-window: keys before each query, "
                                    "itself included"),
           llvm::cl::init(1024));
static llvm::cl::opt<int64_t> block("block",
                                    llvm::cl::desc("block-causal block size"),
                                    llvm::cl::init(2048));
static llvm::cl::opt<int64_t> minDoc("min-doc", llvm::cl::init(256));
static llvm::cl::opt<int64_t> maxDoc("max-doc", llvm::cl::init(4096));
static llvm::cl::opt<uint64_t> seed("seed", llvm::cl::init(1));
static llvm::cl::opt<int64_t>
    slices("slices",
           llvm::cl::desc("random-slices: how many (four a band of rows)"),
           llvm::cl::init(10000));
static llvm::cl::opt<double> softcap("softcap", llvm::cl::init(0));
static llvm::cl::opt<double>
    scale("scale", llvm::cl::desc("Softmax scale (0: 1/sqrt(head dim))"),
          llvm::cl::init(0));
static llvm::cl::opt<std::string> output("o", llvm::cl::init("-"));
static llvm::cl::opt<int64_t> maxItemsPerTile(
    "max-items-per-tile",
    llvm::cl::desc("runtime: the most slices a query tile may attend; "
                   "written as the program's fattn-run flags"),
    llvm::cl::init(4));

/// Document boundaries with lengths uniform in [minDoc, maxDoc], the last
/// one cut at `total`.
static std::vector<int64_t> documentBoundaries(int64_t total) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> length(minDoc, maxDoc);
  std::vector<int64_t> boundaries = {0};
  while (boundaries.back() < total)
    boundaries.push_back(std::min(total, boundaries.back() + length(rng)));
  return boundaries;
}

/// The most slices a synthesized mask may have: beyond it the program text
/// alone would run to hundreds of megabytes.
constexpr int64_t kMaxSlices = int64_t(1) << 20;

static runtime::AttentionShape shapeFromFlags(int64_t numK) {
  runtime::AttentionShape shape;
  shape.numQ = seq;
  shape.numK = numK;
  shape.headsQ = headsQ;
  shape.headsK = headsK < 0 ? headsQ : headsK;
  shape.headDim = headDim;
  return shape;
}

/// Flag problems, before anything is built.
static std::optional<std::string> checkFlags(int64_t numK) {
  if (seq <= 0 || numK <= 0 || headsQ <= 0 || headDim <= 0 || minDoc <= 0 ||
      maxDoc < minDoc)
    return "sizes must be positive (and min-doc <= max-doc)";
  runtime::AttentionShape shape = shapeFromFlags(numK);
  if (std::optional<std::string> problem = runtime::checkShape(shape))
    return problem;
  runtime::AttentionParams params;
  params.scale = scale;
  params.softcap = softcap;
  if (std::optional<std::string> problem = runtime::checkParams(params))
    return "--" + *problem;
  bool documents = family == "varlen-full" || family == "varlen-causal" ||
                   family == "shared-question";
  if ((documents || family == "block-causal" || family == "random-slices") &&
      numK != seq)
    return family + " masks need --keys equal to --seq";
  if (family == "sliding-window" && window < 1)
    return "--window must be at least 1 (the query itself), got " +
           std::to_string(window);
  int64_t pieces = documents ? seq / minDoc
                   : family == "block-causal" && block > 0 ? seq / block
                   : family == "random-slices"             ? slices
                                                           : 0;
  if (pieces > kMaxSlices)
    return "the mask would have about " + std::to_string(pieces) +
           " slices, more than the " + std::to_string(kMaxSlices) +
           " fattn-synth writes (raise --min-doc or --block)";
  return std::nullopt;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::cl::ParseCommandLineOptions(argc, argv, "fattn-synth\n");
  int64_t numK = keys < 0 ? seq : keys;
  std::optional<runtime::ElementType> elementType =
      runtime::parseElementType(dtype);
  if (!elementType) {
    llvm::errs() << "fattn-synth: unknown dtype '" << dtype << "'\n";
    return 2;
  }
  if (std::optional<std::string> problem = checkFlags(numK)) {
    llvm::errs() << "fattn-synth: " << *problem << "\n";
    return 2;
  }

  std::string error;
  std::optional<mask::Mask> built;
  if (family == "runtime") {
    built = mask::Mask();
  } else if (family == "full") {
    built = mask::fullMask(seq, numK);
  } else if (family == "causal") {
    built = mask::causalMask(seq, numK);
  } else if (family == "varlen-full" || family == "varlen-causal") {
    std::vector<int64_t> boundaries = documentBoundaries(seq);
    built = mask::varlenMask(boundaries, boundaries,
                             family == "varlen-causal", &error);
  } else if (family == "sliding-window") {
    built = mask::slidingWindowMask(seq, numK, window - 1, 0, &error);
  } else if (family == "block-causal") {
    built = mask::blockCausalMask(seq, block, &error);
  } else if (family == "random-slices") {
    built = mask::randomBandsMask(seq, slices, seed, &error);
  } else if (family == "shared-question") {
    std::vector<int64_t> boundaries = documentBoundaries(seq);
    std::vector<int64_t> answers;
    for (size_t i = 2; i < boundaries.size(); ++i)
      answers.push_back(boundaries[i] - boundaries[i - 1]);
    built = mask::sharedQuestionMask(boundaries[1], answers, &error);
  } else {
    llvm::errs() << "fattn-synth: unknown mask family '" << family << "'\n";
    return 2;
  }
  if (!built) {
    llvm::errs() << "fattn-synth: " << error << "\n";
    return 2;
  }

  runtime::AttentionShape shape = shapeFromFlags(numK);
  runtime::AttentionParams params;
  params.scale = scale;
  params.softcap = softcap;
  std::string program =
      family == "runtime"
          ? mlir::fattn::formatRuntimeMaskProgram(shape, params, "attention",
                                                  *elementType)
          : mlir::fattn::formatAttentionProgram(*built, shape, params,
                                                "attention", *elementType);

  std::error_code ec;
  llvm::raw_fd_ostream os(output, ec);
  if (ec) {
    llvm::errs() << "fattn-synth: cannot write " << output << ": "
                 << ec.message() << "\n";
    return 2;
  }
  // The first line is what stage-device.sh passes to fattn-run.
  if (family == "runtime")
    os << "// fattn-run-flags: --max-items-per-tile=" << maxItemsPerTile
       << "\n";
  os << "// fattn-synth --mask=" << family << " --seq=" << seq
     << " --keys=" << numK << " --heads-q=" << shape.headsQ
     << " --heads-k=" << shape.headsK << " --head-dim=" << headDim
     << " --dtype=" << dtype << "\n"
     << program;
  os.close();
  if (os.has_error()) {
    llvm::errs() << "fattn-synth: cannot write " << output << ": "
                 << os.error().message() << "\n";
    os.clear_error();
    return 2;
  }
  return 0;
}
