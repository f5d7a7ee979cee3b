//===- fattn-run.cpp - Compile, run and check a fattn program -------------===//
//
// fattn-run FILE.mlir: lowers the program for the CPU, runs it on random
// inputs, compares out and lse with the fp64 reference computed from the same
// mask and prints the error. Exit status: 0 pass, 1 mismatch, 2 error.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/CpuRunner.h"
#include "FlashDialect/Mask/Mask.h"
#include "FlashDialect/Runtime/Check.h"
#include "FlashDialect/Runtime/Reference.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

using namespace mlir;
namespace mask = ::fattn::mask;
namespace runtime = ::fattn::runtime;

static llvm::cl::opt<std::string> inputFile(llvm::cl::Positional,
                                            llvm::cl::desc("<program.mlir>"),
                                            llvm::cl::Required);
static llvm::cl::opt<int64_t> blockQ("block-q", llvm::cl::desc("Query tile rows"),
                                     llvm::cl::init(64));
static llvm::cl::opt<int64_t> blockK("block-k", llvm::cl::desc("Key tile rows"),
                                     llvm::cl::init(64));
static llvm::cl::opt<uint64_t> seed("seed", llvm::cl::desc("Input seed"),
                                    llvm::cl::init(1));
static llvm::cl::opt<double> rtol("rtol",
                                  llvm::cl::desc("Relative tolerance (f32)"),
                                  llvm::cl::init(1e-5));

namespace {
using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::cl::ParseCommandLineOptions(argc, argv,
                                    "fattn-run: compile, run and check\n");

  DialectRegistry registry;
  mlir::fattn::registerFattnCompilerDialects(registry);
  MLIRContext context(registry);
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

  FailureOr<mlir::fattn::AttentionProgram> program =
      mlir::fattn::analyzeAttentionProgram(*module);
  if (failed(program))
    return 2;
  const runtime::AttentionShape &shape = program->shape;
  mask::Mask normal = mask::normalize(program->mask);
  mask::TileMap tiles =
      mask::classifyTiles(normal, shape.numQ, shape.numK, {blockQ, blockK});
  int64_t pairs = mask::countAttendedPairs(program->mask);
  int64_t cells = shape.numQ * shape.numK;
  int64_t skipped = tiles.numQTiles * tiles.numKTiles - tiles.numFullTiles() -
                    tiles.numPartialTiles();

  llvm::outs() << inputFile << ": @" << program->functionName << " Sq="
               << shape.numQ << " Sk=" << shape.numK << " Hq=" << shape.headsQ
               << " Hk=" << shape.headsK << " D=" << shape.headDim << " "
               << runtime::stringifyElementType(program->elementType) << "\n";
  llvm::outs() << "  mask: " << program->mask.size() << " slices ("
               << normal.size() << " after normalization), attended pairs "
               << pairs << " of " << cells << " ("
               << llvm::format("%.2f", cells ? 100.0 * pairs / cells : 0.0)
               << "%)\n";
  llvm::outs() << "  tiles " << blockQ << "x" << blockK << ": "
               << tiles.numFullTiles() << " full, " << tiles.numPartialTiles()
               << " partial, " << skipped << " skipped\n";

  mlir::fattn::FattnToLLVMPipelineOptions options;
  options.blockQ = blockQ;
  options.blockK = blockK;
  auto compileStart = Clock::now();
  auto executable = mlir::fattn::CpuExecutable::compile(*module, *program, options);
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
  (*executable)->run(q.data(), k.data(), v.data(), out.data(), lse.data());
  double runSeconds = secondsSince(runStart);

  std::vector<double> refOut(out.size()), refLse(lse.size());
  runtime::referenceAttention(program->mask, shape, program->params, q.data(),
                              k.data(), v.data(), refOut.data(),
                              refLse.data());
  runtime::Verdict outVerdict = runtime::judgeExact(
      "out", out.data(), refOut.data(), (int64_t)out.size(), rtol);
  runtime::Verdict lseVerdict = runtime::judgeExact(
      "lse", lse.data(), refLse.data(), (int64_t)lse.size(), rtol);
  llvm::outs() << "  cpu: compile " << llvm::format("%.3f", compileSeconds)
               << " s, run " << llvm::format("%.3f", runSeconds) << " s\n";
  llvm::outs() << "  " << outVerdict.summary << "\n  " << lseVerdict.summary
               << "\n";
  bool pass = outVerdict.pass && lseVerdict.pass;
  llvm::outs() << (pass ? "PASS" : "FAIL") << "\n";
  return pass ? 0 : 1;
}
