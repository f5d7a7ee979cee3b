//===- FattnLaunchTest.cpp - fattn-launch's behaviour without a GPU -------===//
//
// Runs the built tool (FATTN_LAUNCH_PATH) and checks its exit status and
// messages on the paths that need no GPU; the no-driver cases are real
// assertions on driverless machines and skip elsewhere.
//
//===----------------------------------------------------------------------===//

#include "DriverPresence.h"

#include "FlashDialect/Runtime/DevicePlan.h"

#include "gtest/gtest.h"

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

struct Result {
  int exitCode = -1;
  std::string output; // stdout and stderr together
};

/// Runs a shell command line; its stdout and stderr together.
Result runCommand(const std::string &command) {
  Result result;
  std::FILE *pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe)
    return result;
  char buffer[4096];
  size_t count;
  while ((count = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0)
    result.output.append(buffer, count);
  int status = pclose(pipe);
  if (WIFEXITED(status))
    result.exitCode = WEXITSTATUS(status);
  return result;
}

Result runLaunch(const std::string &arguments) {
  return runCommand(std::string("'") + FATTN_LAUNCH_PATH + "' " + arguments);
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

class FattnLaunchTest : public ::testing::Test {
protected:
  void SetUp() override {
    char pattern[] = "/tmp/fattn-launch-test-XXXXXX";
    directory = mkdtemp(pattern);
    writeManifest("k", "dtype bf16");
    std::ofstream(directory + "/k.ptx") << "// never JIT-compiled here\n";
  }
  void TearDown() override {
    for (const char *name : {"k.manifest", "bad.manifest", "k.ptx"})
      std::remove((directory + "/" + name).c_str());
    std::remove(directory.c_str());
  }
  /// k.manifest-like file NAME.manifest whose dtype line is `dtypeLine`.
  void writeManifest(const std::string &name, const std::string &dtypeLine) {
    std::ofstream(directory + "/" + name + ".manifest")
        << "fattn-manifest 1\n# name causal-128\nkernel k0\nptx k.ptx\n"
           "grid 8 4 1\nblock 128 1 1\nshared 0\nparams q k v out lse\n"
        << dtypeLine
        << "\nshape 128 128 4 4 64\nscale 0.125\nsoftcap 0\n"
           "slice 0 128 0 128 1\n";
  }
  std::string path(const std::string &name) { return directory + "/" + name; }
  std::string directory;
};

TEST_F(FattnLaunchTest, UsageErrorsExitTwo) {
  Result none = runLaunch("");
  EXPECT_EQ(none.exitCode, 2);
  EXPECT_TRUE(contains(none.output, "fattn-launch: no manifest given"))
      << none.output;
  EXPECT_TRUE(contains(none.output, "usage: fattn-launch")) << none.output;

  Result unknown = runLaunch(path("k.manifest") + " --bogus");
  EXPECT_EQ(unknown.exitCode, 2);
  EXPECT_TRUE(contains(unknown.output, "fattn-launch: unknown option --bogus"))
      << unknown.output;

  Result iters = runLaunch(path("k.manifest") + " --time --iters 0");
  EXPECT_EQ(iters.exitCode, 2);
  EXPECT_TRUE(contains(iters.output, "--iters must be >= 1")) << iters.output;

  Result notANumber = runLaunch(path("k.manifest") + " --seed x");
  EXPECT_EQ(notANumber.exitCode, 2);
  EXPECT_TRUE(
      contains(notANumber.output, "--seed value 'x' is not a valid number"))
      << notANumber.output;

  Result help = runLaunch("--help");
  EXPECT_EQ(help.exitCode, 0);
  EXPECT_TRUE(contains(help.output, "usage: fattn-launch")) << help.output;
}

TEST_F(FattnLaunchTest, ManifestErrorsExitTwoWithTheLine) {
  Result missing = runLaunch("/nonexistent/k.manifest --check");
  EXPECT_EQ(missing.exitCode, 2);
  EXPECT_EQ(missing.output, "fattn-launch: cannot read "
                            "'/nonexistent/k.manifest': No such file or "
                            "directory\n");

  writeManifest("bad", "dtype fp8");
  Result bad = runLaunch(path("bad.manifest") + " --check");
  EXPECT_EQ(bad.exitCode, 2);
  EXPECT_EQ(bad.output, "fattn-launch: " + path("bad.manifest") +
                            ": line 9: unknown dtype 'fp8' (expected bf16, "
                            "f16 or f32)\n");
}

TEST_F(FattnLaunchTest, InfoNeedsNoGpu) {
  Result info = runLaunch(path("k.manifest") + " --info");
  EXPECT_EQ(info.exitCode, 0) << info.output;
  EXPECT_TRUE(contains(info.output, "kernel=k0 ")) << info.output;
  EXPECT_TRUE(contains(info.output, "dtype=bf16 shape=128x128x4x4x64"))
      << info.output;
  EXPECT_TRUE(contains(info.output, " pairs=8256 ")) << info.output;
  EXPECT_TRUE(contains(info.output, " work=4194304")) << info.output;
}

TEST_F(FattnLaunchTest, InfoCountsPastInt64Exactly) {
  // 2^31 - 1 tokens each way, causal, 64 heads of 8: the work count is about
  // 2^71, past int64; the pair count is n(n+1)/2.
  std::ofstream(path("huge.manifest"))
      << "fattn-manifest 1\nkernel k0\nptx k.ptx\ngrid 1 1 1\n"
         "block 128 1 1\nshared 0\nparams q k v out lse\ndtype bf16\n"
         "shape 2147483647 2147483647 64 64 8\nscale 0.125\n"
         "softcap 0\nslice 0 2147483647 0 2147483647 1\n";
  Result info = runLaunch(path("huge.manifest") + " --info");
  EXPECT_EQ(info.exitCode, 0) << info.output;
  EXPECT_TRUE(contains(info.output, " pairs=2305843008139952128 "))
      << info.output;
  EXPECT_TRUE(contains(info.output, " work=2361183239235799351808"))
      << info.output;
}

TEST_F(FattnLaunchTest, InfoOnAHundredThousandSlices) {
  // One-row slices in a manifest: read, validated and counted in O(N log N)
  // (ctest's timeout catches a return of the quadratic overlap check).
  std::ofstream out(path("rows.manifest"));
  out << "fattn-manifest 1\nkernel k0\nptx k.ptx\ngrid 1 1 1\n"
         "block 128 1 1\nshared 0\nparams q k v out lse\ndtype bf16\n"
         "shape 100000 100000 1 1 64\nscale 0.125\nsoftcap 0\n";
  for (int row = 0; row < 100000; ++row)
    out << "slice " << row << " " << row + 1 << " 0 " << row + 1 << " 0\n";
  out.close();
  Result info = runLaunch(path("rows.manifest") + " --info");
  EXPECT_EQ(info.exitCode, 0) << info.output;
  EXPECT_TRUE(contains(info.output, " slices=100000 pairs=5000050000 "))
      << info.output;
}

TEST_F(FattnLaunchTest, NoDriverIsACleanError) {
  if (systemHasCudaDriver())
    GTEST_SKIP() << "libcuda.so.1 is installed here";
  Result run = runLaunch(path("k.manifest") + " --check --time");
  EXPECT_EQ(run.exitCode, 2) << run.output;
  EXPECT_EQ(run.output.rfind("fattn-launch: no CUDA driver (libcuda.so.1 not "
                             "found: ",
                             0),
            0u)
      << run.output;

  Result selfTest = runLaunch("--self-test");
  EXPECT_EQ(selfTest.exitCode, 2) << selfTest.output;
  EXPECT_EQ(selfTest.output.rfind("fattn-launch: no CUDA driver", 0), 0u)
      << selfTest.output;
}

#ifdef FATTN_RUN_PATH
// Without a GPU, fattn-run --target=gpu keeps the kernel it compiled when
// given --emit-dir, says why it did not run it, and exits 0; without
// --emit-dir nothing would come of the call, which is an error.
TEST_F(FattnLaunchTest, FattnRunWithoutGpuCompilesOnly) {
  if (systemHasCudaDriver())
    GTEST_SKIP() << "libcuda.so.1 is installed here";
  std::string program = path("causal.mlir");
  std::ofstream(program)
      << "func.func @f(%q: tensor<128x2x64xbf16>, %k: tensor<128x2x64xbf16>, "
         "%v: tensor<128x2x64xbf16>) -> (tensor<128x2x64xbf16>, "
         "tensor<128x2xf32>) {\n"
         "  %o0 = tensor.empty() : tensor<128x2x64xbf16>\n"
         "  %l0 = tensor.empty() : tensor<128x2xf32>\n"
         "  %o, %l = fattn.attention ins(%q, %k, %v : tensor<128x2x64xbf16>, "
         "tensor<128x2x64xbf16>, tensor<128x2x64xbf16>) outs(%o0, %l0 : "
         "tensor<128x2x64xbf16>, tensor<128x2xf32>) mask <causal [0:128, "
         "0:128]> -> tensor<128x2x64xbf16>, tensor<128x2xf32>\n"
         "  return %o, %l : tensor<128x2x64xbf16>, tensor<128x2xf32>\n}\n";
  auto fattnRun = [&](const std::string &arguments) {
    return runCommand(std::string("'") + FATTN_RUN_PATH + "' " + arguments);
  };

  std::string kernels = path("kernels");
  Result kept = fattnRun(program + " --target=gpu --emit-dir " + kernels);
  EXPECT_EQ(kept.exitCode, 0) << kept.output;
  EXPECT_TRUE(contains(kept.output, "gpu: not run here: no CUDA driver"))
      << kept.output;
  EXPECT_TRUE(std::ifstream(kernels + "/causal.manifest").good());
  EXPECT_TRUE(std::ifstream(kernels + "/causal.ptx").good());

  Result lost = fattnRun(program + " --target=gpu");
  EXPECT_EQ(lost.exitCode, 2) << lost.output;
  EXPECT_TRUE(contains(lost.output,
                       "fattn-run: cannot run the kernel here (no CUDA "
                       "driver"))
      << lost.output;

  Result manifestRun = fattnRun(kernels + "/causal.manifest");
  EXPECT_EQ(manifestRun.exitCode, 2) << manifestRun.output;
  EXPECT_TRUE(contains(manifestRun.output, "fattn-run: no CUDA driver"))
      << manifestRun.output;

  for (const char *file : {"/causal.manifest", "/causal.ptx"})
    std::remove((kernels + file).c_str());
  std::remove(kernels.c_str());
  std::remove(program.c_str());
}
#endif

} // namespace

//===----------------------------------------------------------------------===//
// Through the driver, with the CPU stand-in for libcuda (MockCuda.cpp)
//===----------------------------------------------------------------------===//

namespace {

/// One PTX file declaring every kernel the mock knows, and one with a
/// syntax error.
const char *const kMockPtx =
    ".version 8.0\n.target sm_90a\n.address_size 64\n"
    ".visible .entry mock_good(\n\t.param .u64 p0,\n\t.param .u64 p1,\n"
    "\t.param .u64 p2,\n\t.param .u64 p3,\n\t.param .u64 p4\n)\n{ ret; }\n"
    ".visible .entry mock_bad(.param .u64 p0, .param .u64 p1, .param .u64 "
    "p2, .param .u64 p3, .param .u64 p4)\n{ ret; }\n"
    ".visible .entry mock_unwritten(.param .u64 p0, .param .u64 p1, .param "
    ".u64 p2, .param .u64 p3, .param .u64 p4)\n{ ret; }\n"
    ".visible .entry mock_fault(.param .u64 p0, .param .u64 p1, .param .u64 "
    "p2, .param .u64 p3, .param .u64 p4)\n{ ret; }\n"
    ".visible .entry mock_four_params(.param .u64 p0, .param .u64 p1, "
    ".param .u64 p2, .param .u64 p3)\n{ ret; }\n"
    ".visible .entry mock_runtime(.param .u64 p0, .param .u64 p1, .param "
    ".u64 p2, .param .u64 p3, .param .u64 p4, .param .u64 p5, .param .u64 "
    "p6, .param .u64 p7, .param .u64 p8, .param .u32 p9, .param .u32 p10, "
    ".param .u32 p11)\n{ ret; }\n"
    ".visible .entry mock_runtime_per_call(.param .u64 p0, .param .u64 p1, "
    ".param .u64 p2, .param .u64 p3, .param .u64 p4, .param .u64 p5, .param "
    ".u64 p6, .param .u64 p7, .param .u64 p8, .param .u32 p9, .param .u32 "
    "p10, .param .u32 p11, .param .u32 p12, .param .u32 p13, .param .f32 "
    "p14, .param .f32 p15)\n{ ret; }\n";

class MockDriverTest : public ::testing::Test {
protected:
  void SetUp() override {
    char pattern[] = "/tmp/fattn-mock-test-XXXXXX";
    directory = mkdtemp(pattern);
    std::ofstream(directory + "/mock.ptx") << kMockPtx;
    std::ofstream(directory + "/invalid.ptx")
        << ".version 8.0\nmock_invalid_ptx\n";
  }
  void TearDown() override {
    for (const std::string &file : files)
      std::remove(file.c_str());
    for (const char *name : {"mock.ptx", "invalid.ptx"})
      std::remove((directory + "/" + name).c_str());
    std::remove(directory.c_str());
  }

  /// NAME.manifest for `kernel` in mock.ptx (or `ptx`): 70 queries, 90 keys,
  /// GQA 4:2, head dim 32, a causal and a full slice plus empty rows.
  std::string manifest(const std::string &name, const std::string &kernel,
                       const std::string &dtype = "bf16",
                       unsigned shared = 1024,
                       const std::string &ptx = "mock.ptx") {
    std::string path = directory + "/" + name + ".manifest";
    std::ofstream(path) << "fattn-manifest 1\nkernel " << kernel << "\nptx "
                        << ptx << "\ngrid 5 4 1\nblock 128 1 1\nshared "
                        << shared << "\nparams q k v out lse\ndtype " << dtype
                        << "\nshape 70 90 4 2 32\nscale 0.17\nsoftcap 0\n"
                           "slice 0 40 0 60 1\nslice 40 60 20 90 0\n";
    files.push_back(path);
    return path;
  }

  /// NAME.ranges holding `text`: a call for fattn-launch --ranges.
  std::string writeRanges(const std::string &name, const std::string &text) {
    std::string file = directory + "/" + name + ".ranges";
    std::ofstream(file) << text;
    files.push_back(file);
    return file;
  }

  /// NAME.manifest for mock_runtime: manifest()'s heads, head dim and
  /// scale, its mask and token counts left to each launch, planned with
  /// tiles of `blockQ` x 16 and at most `maxItems` items a query tile.
  std::string runtimeManifest(const std::string &name, int blockQ = 16,
                              int maxItems = 4) {
    std::string path = directory + "/" + name + ".manifest";
    std::ofstream(path)
        << "fattn-manifest 3\nkernel mock_runtime\nptx mock.ptx\ngrid 4 ? "
           "1\nblock 128 1 1\nshared 1024\n"
           "param q input bf16 num_q 4 32\nparam k input bf16 num_k 2 32\n"
           "param v input bf16 num_k 2 32\nparam out output bf16 num_q 4 32\n"
           "param lse output f32 num_q 4\nparam slots schedule i32 ? 8\n"
           "param items schedule i32 ? 4\nparam item_slices schedule i32 ?\n"
           "param slices schedule i32 ? 5\nparam num_q scalar i32\n"
           "param num_k scalar i32\nparam num_slots scalar i32\n"
           "dtype bf16\nshape ? ? 4 2 32\nscale 0.17\nsoftcap 0\n"
           "schedule "
        << blockQ << " 16 clipped uniform " << maxItems << "\n";
    files.push_back(path);
    return path;
  }

  /// fattn-launch (or `program`) with the mock driver, FATTN_MOCK_MANIFEST
  /// set to `manifestPath` and `environment` added.
  Result run(const std::string &arguments, const std::string &manifestPath,
             const std::string &environment = "",
             const std::string &program = FATTN_LAUNCH_PATH) {
    return runCommand("env LD_LIBRARY_PATH='" FATTN_MOCK_CUDA_DIR
                      "' FATTN_MOCK_MANIFEST='" +
                      manifestPath + "' " + environment + " '" + program +
                      "' " + arguments);
  }

  std::string directory;
  std::vector<std::string> files;
};

TEST_F(MockDriverTest, SelfTestRunsEveryCaseThroughTheDriver) {
  if (!FATTN_TEST_HAVE_NVCC)
    GTEST_SKIP() << "built without nvcc: no GPU reference to check against";
  Result result = run("--self-test", "");
  EXPECT_EQ(result.exitCode, 0) << result.output;
  EXPECT_TRUE(contains(result.output, "self-test on Mock GPU"))
      << result.output;
  EXPECT_TRUE(contains(result.output, "self-test: 8 of 8 PASS"))
      << result.output;
}

TEST_F(MockDriverTest, GoodKernelPassesCheckAndIsTimed) {
  if (!FATTN_TEST_HAVE_NVCC)
    GTEST_SKIP() << "built without nvcc: no GPU reference to check against";
  std::string path = manifest("good", "mock_good");
  std::string json = directory + "/good.json";
  files.push_back(json);
  Result result =
      run(path + " --check --time --iters 3 --warmup 1 --json " + json, path);
  EXPECT_EQ(result.exitCode, 0) << result.output;
  for (const char *line :
       {"mock_good on Mock GPU (sm_90)", "written: PASS", "out: PASS",
        "lse: PASS", "reference-crosscheck: PASS", "time: median",
        "over 3 launches", "\nPASS\n"})
    EXPECT_TRUE(contains(result.output, line)) << line << "\n" << result.output;
  std::ifstream file(json);
  std::string text((std::istreambuf_iterator<char>(file)),
                   std::istreambuf_iterator<char>());
  EXPECT_TRUE(contains(text, "\"pass\": true")) << text;
  EXPECT_TRUE(contains(text, "\"tflops_median\": ")) << text;
  EXPECT_TRUE(contains(text, "\"attended_pairs\": 3020")) << text;
}

TEST_F(MockDriverTest, CheckHasTheLibraryCapWhenAskedFor) {
  if (!FATTN_TEST_HAVE_NVCC)
    GTEST_SKIP() << "built without nvcc: no GPU reference to check against";
  // Check.h's default cap of 3% rejects the naive bf16 attention itself
  // (3.5% of its out elements miss rtol 0.05 here), which is why
  // fattn-launch defaults to 10%.
  std::string path = manifest("good", "mock_good");
  Result result = run(path + " --check --max-fail-fraction 0.03", path);
  EXPECT_EQ(result.exitCode, 1) << result.output;
  EXPECT_TRUE(contains(result.output, "(naive 3.53%, limit 3.00% EXCEEDED)"))
      << result.output;
  Result bad = run(path + " --check --max-fail-fraction 2", path);
  EXPECT_EQ(bad.exitCode, 2) << bad.output;
  EXPECT_TRUE(contains(bad.output, "--max-fail-fraction must be in [0, 1]"))
      << bad.output;
}

TEST_F(MockDriverTest, F32KernelIsJudgedExactly) {
  if (!FATTN_TEST_HAVE_NVCC)
    GTEST_SKIP() << "built without nvcc: no GPU reference to check against";
  std::string path = manifest("f32", "mock_good", "f32");
  Result result = run(path + " --check", path);
  EXPECT_EQ(result.exitCode, 0) << result.output;
  EXPECT_TRUE(contains(result.output, "outside atol=1e-06 + rtol=1e-05*|ref|"))
      << result.output;
}

#ifdef FATTN_RUN_PATH
// fattn-run runs a compiled kernel as fattn-launch --check does: always
// checked, timed when asked.
TEST_F(MockDriverTest, FattnRunRunsAManifestLikeFattnLaunch) {
  if (!FATTN_TEST_HAVE_NVCC)
    GTEST_SKIP() << "built without nvcc: no GPU reference to check against";
  std::string good = manifest("good", "mock_good");
  Result result = run(good + " --time --iters=3", good, "", FATTN_RUN_PATH);
  EXPECT_EQ(result.exitCode, 0) << result.output;
  for (const char *line :
       {"mock_good on Mock GPU (sm_90)", "written: PASS", "out: PASS",
        "lse: PASS", "reference-crosscheck: PASS", "over 3 launches",
        "\nPASS\n"})
    EXPECT_TRUE(contains(result.output, line)) << line << "\n" << result.output;

  std::string bad = manifest("bad", "mock_bad");
  Result failing = run(bad, bad, "", FATTN_RUN_PATH);
  EXPECT_EQ(failing.exitCode, 1) << failing.output;
  EXPECT_TRUE(contains(failing.output, "out: FAIL")) << failing.output;
  EXPECT_FALSE(contains(failing.output, "time: median")) << failing.output;
}
#endif

TEST_F(MockDriverTest, WrongOutputFails) {
  if (!FATTN_TEST_HAVE_NVCC)
    GTEST_SKIP() << "built without nvcc: no GPU reference to check against";
  std::string path = manifest("bad", "mock_bad");
  Result result = run(path + " --check", path);
  EXPECT_EQ(result.exitCode, 1) << result.output;
  EXPECT_TRUE(contains(result.output, "out: FAIL")) << result.output;
  EXPECT_TRUE(contains(result.output, "lse: PASS")) << result.output;
  EXPECT_TRUE(contains(result.output, "\nFAIL\n")) << result.output;
}

TEST_F(MockDriverTest, RuntimeMaskKernelRunsAStaticKernelsMask) {
  if (!FATTN_TEST_HAVE_NVCC)
    GTEST_SKIP() << "built without nvcc: no GPU reference to check against";
  std::string source = manifest("source", "mock_good");
  std::string path = runtimeManifest("runtime");
  std::string json = directory + "/runtime.json";
  files.push_back(json);
  Result result = run(path + " --mask-of " + source +
                          " --check --time --iters 2 --warmup 1 --json " + json,
                      path);
  EXPECT_EQ(result.exitCode, 0) << result.output;
  // 70 rows in tiles of 16: 5 launch slots, which the mock checks against
  // grid y and the rows each slot holds.
  for (const char *line :
       {"grid 4xplanx1", "Sq=70 Sk=90", "2 slices given at run time",
        "plan: ", "5 launch slots", "written: PASS", "out: PASS",
        "lse: PASS", "time: median", "\nPASS\n"})
    EXPECT_TRUE(contains(result.output, line)) << line << "\n" << result.output;
  std::ifstream file(json);
  std::string text((std::istreambuf_iterator<char>(file)),
                   std::istreambuf_iterator<char>());
  EXPECT_TRUE(contains(text, "\"num_slots\": 5")) << text;
  EXPECT_TRUE(contains(text, "\"attended_pairs\": 3020")) << text;
}

TEST_F(MockDriverTest, RuntimeMaskKernelNeedsAMaskThatFitsIt) {
  std::string source = manifest("source", "mock_good");
  std::string path = runtimeManifest("runtime");
  Result noMask = run(path + " --check", path);
  EXPECT_EQ(noMask.exitCode, 2) << noMask.output;
  EXPECT_TRUE(contains(noMask.output, "takes its mask and token counts at "
                                      "run time; give them with --mask-of"))
      << noMask.output;
  Result staticKernel = run(source + " --mask-of " + source, source);
  EXPECT_EQ(staticKernel.exitCode, 2) << staticKernel.output;
  EXPECT_TRUE(contains(staticKernel.output, "was compiled with its mask"))
      << staticKernel.output;
  // Other heads than the kernel's.
  std::string other = directory + "/other.manifest";
  files.push_back(other);
  {
    std::ifstream in(source);
    std::string text((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
    text.replace(text.find("shape 70 90 4 2 32"), 18, "shape 70 90 2 2 32");
    std::ofstream(other) << text;
  }
  Result mismatch = run(path + " --mask-of " + other, path);
  EXPECT_EQ(mismatch.exitCode, 2) << mismatch.output;
  EXPECT_TRUE(contains(mismatch.output, "kernel mock_runtime was compiled "
                                        "for 4 query heads; the call has 2"))
      << mismatch.output;
  // Two slices over the rows of one 64-row tile, for a kernel that
  // searches one item: refused before any launch, naming the tile.
  std::string narrow = runtimeManifest("narrow", 64, 1);
  Result refused = run(narrow + " --mask-of " + source, narrow);
  EXPECT_EQ(refused.exitCode, 2) << refused.output;
  EXPECT_TRUE(contains(refused.output, "has 2 work items")) << refused.output;
}

TEST_F(MockDriverTest, RuntimeMaskKernelRunsACallsRanges) {
  if (!FATTN_TEST_HAVE_NVCC)
    GTEST_SKIP() << "built without nvcc: no GPU reference to check against";
  std::string path = runtimeManifest("runtime");
  // Two copies of one slice: a run-time mask may overlap; the mock kernel
  // and the references weigh each shared cell twice.
  std::string overlap =
      writeRanges("overlap", "tokens 50 40\n0 50 0 40 1\n0 50 0 40 1\n");
  Result result = run(path + " --ranges " + overlap + " --check", path);
  EXPECT_EQ(result.exitCode, 0) << result.output;
  for (const char *line : {"Sq=50 Sk=40", "2 slices given at run time",
                           "out: PASS", "lse: PASS", "\nPASS\n"})
    EXPECT_TRUE(contains(result.output, line)) << line << "\n" << result.output;
  // Refused as a user's call is, before anything is sized by it.
  std::string reversed =
      writeRanges("reversed", "tokens 50 40\n0 50 30 20 0\n");
  Result refused = run(path + " --ranges " + reversed + " --check", path);
  EXPECT_EQ(refused.exitCode, 2) << refused.output;
  EXPECT_TRUE(contains(refused.output, "slice 0: k range [30, 20) is "
                                       "reversed"))
      << refused.output;
  std::string garbled = writeRanges("garbled", "tokens 50\n");
  Result bad = run(path + " --ranges " + garbled, path);
  EXPECT_EQ(bad.exitCode, 2) << bad.output;
  EXPECT_TRUE(contains(bad.output, "line 1: expected 'tokens NUM_Q NUM_K'"))
      << bad.output;
  // A kernel compiled for fixed token counts takes calls of those only.
  std::string fixedPath = directory + "/fixed.manifest";
  files.push_back(fixedPath);
  {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
    for (auto [from, to] : {std::pair<std::string, std::string>{"num_q 4", "50 4"},
                            {"num_k 2", "40 2"}, {"shape ? ?", "shape 50 40"}})
      for (size_t at; (at = text.find(from)) != std::string::npos;)
        text.replace(at, from.size(), to);
    std::ofstream(fixedPath) << text;
  }
  Result fixedOk = run(fixedPath + " --ranges " + overlap + " --check", fixedPath);
  EXPECT_EQ(fixedOk.exitCode, 0) << fixedOk.output;
  std::string longer = writeRanges("longer", "tokens 60 40\n0 60 0 40 1\n");
  Result fixedRefused = run(fixedPath + " --ranges " + longer, fixedPath);
  EXPECT_EQ(fixedRefused.exitCode, 2) << fixedRefused.output;
  EXPECT_TRUE(contains(fixedRefused.output,
                       "was compiled for 50 query tokens; the call has 60"))
      << fixedRefused.output;
  // No key tokens: every row empty, checked without the references.
  std::string noKeys = writeRanges("no-keys", "tokens 20 0\n");
  Result empty = run(path + " --ranges " + noKeys + " --check", path);
  EXPECT_EQ(empty.exitCode, 0) << empty.output;
  EXPECT_TRUE(contains(empty.output, "check: no key tokens: PASS"))
      << empty.output;
}

TEST_F(MockDriverTest, DevicePlanEqualsTheHostPlanAndRefusesAlike) {
  if (!FATTN_TEST_HAVE_NVCC)
    GTEST_SKIP() << "built without nvcc: no GPU planner to compare";
  std::string path = runtimeManifest("runtime");
  // Slices in several query tiles, one of them a sliver, and empty rows.
  std::string call = writeRanges("device", "tokens 70 90\n0 40 0 60 1\n"
                                           "40 44 20 90 0\n44 60 0 90 2\n");
  Result planned =
      run(path + " --ranges " + call + " --device-plan --check", path);
  EXPECT_EQ(planned.exitCode, 0) << planned.output;
  for (const char *line : {"device plan: equal to the host plan",
                           "out: PASS", "lse: PASS", "\nPASS\n"})
    EXPECT_TRUE(contains(planned.output, line)) << line << "\n"
                                                << planned.output;
  std::string reversed = writeRanges("device-reversed", "tokens 50 40\n"
                                                        "0 50 30 20 0\n");
  Result refused =
      run(path + " --ranges " + reversed + " --device-plan", path);
  EXPECT_EQ(refused.exitCode, 2) << refused.output;
  EXPECT_TRUE(contains(refused.output,
                       "device plan: refused alike (out and lse NaN, the "
                       "kernel launched on the plan wrote nothing): slice 0: "
                       "k range [30, 20) is reversed"))
      << refused.output;
  Result staticKernel =
      run(manifest("good", "mock_good") + " --device-plan", path);
  EXPECT_EQ(staticKernel.exitCode, 2) << staticKernel.output;
  EXPECT_TRUE(contains(staticKernel.output,
                       "--device-plan needs a kernel with a run-time mask"))
      << staticKernel.output;
}

TEST_F(MockDriverTest, PerCallHeadsScaleAndSoftcapComeFromTheCall) {
  if (!FATTN_TEST_HAVE_NVCC)
    GTEST_SKIP() << "built without nvcc: no GPU reference to check against";
  // As the compiler writes a soft-capped run-time kernel.
  std::string path = directory + "/per-call.manifest";
  files.push_back(path);
  std::ofstream(path)
      << "fattn-manifest 4\nkernel mock_runtime_per_call\nptx mock.ptx\n"
         "grid ? ? 1\nblock 128 1 1\nshared 1024\n"
         "param q input bf16 num_q heads_q 32\n"
         "param k input bf16 num_k heads_k 32\n"
         "param v input bf16 num_k heads_k 32\n"
         "param out output bf16 num_q heads_q 32\n"
         "param lse output f32 num_q heads_q\nparam slots schedule i32 ? 8\n"
         "param items schedule i32 ? 4\nparam item_slices schedule i32 ?\n"
         "param slices schedule i32 ? 5\nparam num_q scalar i32\n"
         "param num_k scalar i32\nparam num_slots scalar i32\n"
         "param heads_q scalar i32\nparam heads_k scalar i32\n"
         "param scale scalar f32\nparam softcap scalar f32\n"
         "dtype bf16\nshape ? ? ? ? 32\nscale ?\nsoftcap ?\n"
         "schedule 16 16 clipped uniform 4\n";
  // The mock kernel computes with the heads, scale and softcap it is
  // passed; the check's reference with the call's: they agree only if the
  // runtime passes the call's values.
  std::string call = writeRanges("gqa", "tokens 50 40\nheads 6 2\nscale 0.1\n"
                                        "softcap 20\n0 50 0 40 1\n");
  Result result = run(path + " --ranges " + call + " --check", path);
  EXPECT_EQ(result.exitCode, 0) << result.output;
  for (const char *line : {"grid headsxplanx1",
                           "Sq=50 Sk=40 Hq=6 Hk=2 D=32 scale=0.1 softcap=20",
                           "\nPASS\n"})
    EXPECT_TRUE(contains(result.output, line)) << line << "\n" << result.output;
  std::string noHeads = writeRanges("no-heads", "tokens 50 40\nsoftcap 2\n"
                                                "0 50 0 40 1\n");
  Result refused = run(path + " --ranges " + noHeads, path);
  EXPECT_EQ(refused.exitCode, 2) << refused.output;
  EXPECT_TRUE(contains(refused.output, "takes its head counts per call"))
      << refused.output;
  std::string noCap = writeRanges("no-cap", "tokens 50 40\nheads 2 2\n"
                                            "0 50 0 40 1\n");
  Result uncapped = run(path + " --ranges " + noCap, path);
  EXPECT_EQ(uncapped.exitCode, 2) << uncapped.output;
  EXPECT_TRUE(contains(uncapped.output, "compiled with a softcap; the call "
                                        "has none"))
      << uncapped.output;
  std::string badHeads = writeRanges("bad-heads", "tokens 50 40\nheads 3 2\n"
                                                  "softcap 2\n0 50 0 40 1\n");
  Result indivisible = run(path + " --ranges " + badHeads, path);
  EXPECT_EQ(indivisible.exitCode, 2) << indivisible.output;
  EXPECT_TRUE(contains(indivisible.output,
                       "query heads 3 is not a multiple of key/value heads 2"))
      << indivisible.output;
}

TEST_F(MockDriverTest, CheckWithoutNvccSaysWhy) {
  if (FATTN_TEST_HAVE_NVCC)
    GTEST_SKIP() << "built with nvcc";
  std::string path = manifest("good", "mock_good");
  Result result = run(path + " --check", path);
  EXPECT_EQ(result.exitCode, 2) << result.output;
  EXPECT_TRUE(contains(result.output,
                       "fattn-launch: GPU reference unavailable: the runtime "
                       "was built without nvcc"))
      << result.output;
}

TEST_F(MockDriverTest, UnwrittenOutputFailsEvenWithoutCheck) {
  std::string path = manifest("unwritten", "mock_unwritten");
  Result result = run(path, path);
  EXPECT_EQ(result.exitCode, 1) << result.output;
  // The last row: 4 heads x 32 of out, 4 of lse.
  EXPECT_TRUE(contains(result.output,
                       "written: FAIL 128 of 8960 out and 4 of 280 lse "
                       "elements NaN"))
      << result.output;
}

TEST_F(MockDriverTest, FaultingKernelFails) {
  std::string path = manifest("fault", "mock_fault");
  Result result = run(path + " --check", path);
  EXPECT_EQ(result.exitCode, 1) << result.output;
  EXPECT_TRUE(contains(result.output,
                       "FAIL: kernel mock_fault faulted: cuStreamSynchronize: "
                       "CUDA_ERROR_ILLEGAL_ADDRESS (an illegal memory access "
                       "was encountered)"))
      << result.output;
}

TEST_F(MockDriverTest, LoadErrorsAreClearAndExitTwo) {
  std::string invalid =
      manifest("invalid", "mock_good", "bf16", 0, "invalid.ptx");
  Result result = run(invalid, invalid);
  EXPECT_EQ(result.exitCode, 2) << result.output;
  EXPECT_EQ(result.output, "fattn-launch: " + invalid +
                               ": PTX failed to load: CUDA_ERROR_INVALID_PTX "
                               "(a PTX JIT compilation failed): ptxas fatal   "
                               ": mock syntax error\n");

  std::string missing = manifest("missing", "nope");
  result = run(missing, missing);
  EXPECT_EQ(result.exitCode, 2) << result.output;
  EXPECT_EQ(result.output,
            "fattn-launch: " + missing + ": kernel nope not found in PTX\n");

  std::string four = manifest("four", "mock_four_params");
  result = run(four, four);
  EXPECT_EQ(result.exitCode, 2) << result.output;
  EXPECT_EQ(result.output,
            "fattn-launch: " + four +
                ": kernel mock_four_params takes 4 parameters; the "
                "manifest lists 5\n");

  // More than any GPU has is refused when the manifest is read, before the
  // driver is asked.
  std::string shared = manifest("shared", "mock_good", "bf16", 300000);
  result = run(shared, shared);
  EXPECT_EQ(result.exitCode, 2) << result.output;
  EXPECT_EQ(result.output,
            "fattn-launch: " + shared +
                ": line 6: shared memory of 300000 bytes exceeds 232448 (227 "
                "KiB), the most any GPU gives a CTA\n");
}

TEST_F(MockDriverTest, InputsPastHostMemoryAreRefusedNotAllocated) {
  // 2^31 - 1 tokens of 64 heads x 8: 2^40 elements a tensor, tens of TiB of
  // inputs and checks; an attempt to allocate them would abort.
  std::string path = manifest("huge", "mock_good");
  std::string text;
  {
    std::ifstream in(path);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  text.replace(text.find("shape 70 90 4 2 32"), 18,
               "shape 2147483647 2147483647 64 64 8");
  std::ofstream(path) << text;
  Result result = run(path + " --check", path);
  EXPECT_EQ(result.exitCode, 2) << result.output;
  EXPECT_TRUE(contains(result.output, "GiB of host memory for its inputs and "
                                      "checks; this machine has"))
      << result.output;
}

TEST_F(MockDriverTest, NoDeviceIsACleanError) {
  std::string path = manifest("good", "mock_good");
  Result result = run(path + " --check", path, "FATTN_MOCK_NO_DEVICE=1");
  EXPECT_EQ(result.exitCode, 2) << result.output;
  EXPECT_EQ(result.output,
            "fattn-launch: no CUDA device (cuInit: CUDA_ERROR_NO_DEVICE (no "
            "CUDA-capable device is detected))\n");
}

TEST_F(MockDriverTest, CApiLoadsLaunchesAndChecksArguments) {
  std::string path = manifest("good", "mock_good");
  Result result = run(path + " 0", path, "", FATTN_CAPI_CLIENT_PATH);
  EXPECT_EQ(result.exitCode, 0) << result.output;
  for (const char *line :
       {"load: FATTN_STATUS_SUCCESS",
        "info: kernel=mock_good grid=5x4x1 "
        "dtype=2 shape=70x90x4x2x32 pairs=3020",
        "slice: 0 40 0 60 1", "slice: 40 60 20 90 0", "ok: launch",
        "ok: outputs written", "ok: null q rejected", "ok: short k rejected",
        "ok: misaligned out rejected", "ok: q off 16 bytes rejected",
        "ok: static kernel takes no ranges", "\nPASS\n"})
    EXPECT_TRUE(contains(result.output, line)) << line << "\n" << result.output;
}

TEST_F(MockDriverTest, CApiPlansAndLaunchesARuntimeCall) {
  std::string path = runtimeManifest("runtime");
  Result result = run(path + " 0", path, "", FATTN_CAPI_CLIENT_PATH);
  EXPECT_EQ(result.exitCode, 0) << result.output;
  // 70 rows in tiles of 16: 5 slots.
  for (const char *line :
       {"plan: FATTN_STATUS_SUCCESS slots=5 items=", "ok: launch ranges",
        "ok: outputs written", "ok: reversed range rejected",
        "ok: null ranges rejected", "ok: launch without a mask rejected",
        "ok: raw parameters rejected",
        "\nPASS\n"})
    EXPECT_TRUE(contains(result.output, line)) << line << "\n" << result.output;
  if (!fattn::runtime::DevicePlanner::isAvailable()) {
    EXPECT_TRUE(contains(result.output, "device: unsupported"))
        << result.output;
    return;
  }
  for (const char *line :
       {"ok: device launch\n", "ok: device plan planned",
        "ok: device outputs written", "ok: device refusal named",
        "ok: device refusal leaves NaN", "ok: short lse refused",
        "ok: the refused launch enqueued no plan",
        "ok: device null mask rejected", "ok: device negative count rejected",
        "ok: a buffer that must grow is refused under a capture",
        "ok: a call that fits is captured",
        "ok: the status is not waited for under a capture",
        "ok: the captured plan's status after the capture",
        "ok: the larger call after the capture"})
    EXPECT_TRUE(contains(result.output, line)) << line << "\n" << result.output;
}

TEST_F(MockDriverTest, CApiStatusesForDeviceAndPtxProblems) {
  std::string path = manifest("good", "mock_good");
  Result noDevice =
      run(path + " 4", path, "FATTN_MOCK_NO_DEVICE=1", FATTN_CAPI_CLIENT_PATH);
  EXPECT_EQ(noDevice.exitCode, 0) << noDevice.output;
  EXPECT_TRUE(contains(noDevice.output,
                       "load: FATTN_STATUS_NO_DEVICE: no CUDA device (cuInit"))
      << noDevice.output;

  std::string invalid =
      manifest("invalid", "mock_good", "bf16", 0, "invalid.ptx");
  Result badPtx = run(invalid + " 5", invalid, "", FATTN_CAPI_CLIENT_PATH);
  EXPECT_EQ(badPtx.exitCode, 0) << badPtx.output;
  EXPECT_TRUE(contains(badPtx.output, "load: FATTN_STATUS_PTX_LOAD_FAILED: " +
                                          invalid + ": PTX failed to load"))
      << badPtx.output;

  std::string four = manifest("four", "mock_four_params");
  Result mismatch = run(four + " 2", four, "", FATTN_CAPI_CLIENT_PATH);
  EXPECT_EQ(mismatch.exitCode, 0) << mismatch.output;
  EXPECT_TRUE(contains(mismatch.output, "load: FATTN_STATUS_BAD_MANIFEST"))
      << mismatch.output;
}

} // namespace
