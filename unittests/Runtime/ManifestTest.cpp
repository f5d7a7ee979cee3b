//===- ManifestTest.cpp - Tests of the kernel manifest format -------------===//

#include "FlashDialect/Runtime/Manifest.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using namespace fattn;
using namespace fattn::runtime;
using mask::Slice;
using mask::SliceKind;

namespace {

/// A manifest using every field, with values that a sloppy writer would
/// lose: a scale with no short decimal form, a non-zero softcap, every kind.
KernelManifest makeManifest() {
  KernelManifest manifest;
  manifest.kernel = "fattn_attention_causal_kernel";
  manifest.ptxFile = "causal.ptx";
  manifest.grid = {16, 8, 1};
  manifest.block = {128, 1, 1};
  manifest.sharedBytes = 98304;
  manifest.dtype = ElementType::F16;
  manifest.shape = {256, 320, 8, 2, 96};
  // The forward tensors and one more, as a kernel with a workspace has.
  manifest.parameters = forwardParams(manifest.dtype, manifest.shape);
  manifest.parameters.push_back(
      {"workspace", ParamRole::Output, ElementType::F32, {16, 8}});
  manifest.params.scale = 1.0 / std::sqrt(96.0);
  manifest.params.softcap = 30.5;
  manifest.mask = {Slice{0, 128, 0, 200, SliceKind::InvCausal},
                   Slice{128, 256, 0, 100, SliceKind::Full},
                   Slice{128, 256, 100, 320, SliceKind::Causal},
                   Slice{0, 64, 250, 320, SliceKind::BiCausal}};
  return manifest;
}

/// A valid manifest as text, one record a line, for the error tests to
/// break one line of.
std::vector<std::string> validLines() {
  return {"fattn-manifest 1",     "kernel k0",     "ptx k0.ptx",
          "grid 2 4 1",           "block 128 1 1", "shared 0",
          "params q k v out lse", "dtype bf16",    "shape 128 128 4 2 64",
          "scale 0.125",          "softcap 0",     "slice 0 128 0 128 1"};
}

std::string join(const std::vector<std::string> &lines) {
  std::string text;
  for (const std::string &line : lines)
    text += line + "\n";
  return text;
}

/// The error of parsing validLines() with line `index` (0-based) replaced by
/// `replacement`, or "" if it parses.
std::string errorWithLine(size_t index, const std::string &replacement) {
  std::vector<std::string> lines = validLines();
  lines[index] = replacement;
  std::string error;
  std::optional<KernelManifest> manifest = parseManifest(join(lines), &error);
  EXPECT_FALSE(manifest) << "parsed although line " << index + 1 << " is '"
                         << replacement << "'";
  return error;
}

void expectEqual(const KernelManifest &a, const KernelManifest &b) {
  EXPECT_EQ(a.kernel, b.kernel);
  EXPECT_EQ(a.ptxFile, b.ptxFile);
  EXPECT_EQ(a.grid, b.grid);
  EXPECT_EQ(a.block, b.block);
  EXPECT_EQ(a.sharedBytes, b.sharedBytes);
  EXPECT_EQ(a.parameters, b.parameters);
  EXPECT_EQ(a.dtype, b.dtype);
  EXPECT_EQ(a.shape.numQ, b.shape.numQ);
  EXPECT_EQ(a.shape.numK, b.shape.numK);
  EXPECT_EQ(a.shape.headsQ, b.shape.headsQ);
  EXPECT_EQ(a.shape.headsK, b.shape.headsK);
  EXPECT_EQ(a.shape.headDim, b.shape.headDim);
  EXPECT_EQ(a.params.scale, b.params.scale); // bit-exact, not approximate
  EXPECT_EQ(a.params.softcap, b.params.softcap);
  EXPECT_EQ(a.mask, b.mask);
  EXPECT_EQ(a.schedule, b.schedule);
}

//===----------------------------------------------------------------------===//
// Round trip
//===----------------------------------------------------------------------===//

TEST(ManifestTest, RoundTripIsExact) {
  KernelManifest original = makeManifest();
  std::string text = formatManifest(original);
  std::string error;
  std::optional<KernelManifest> parsed = parseManifest(text, &error);
  ASSERT_TRUE(parsed) << error << "\n" << text;
  expectEqual(*parsed, original);
  EXPECT_EQ(formatManifest(*parsed), text);
}

TEST(ManifestTest, FormatWritesTheContractOrder) {
  KernelManifest manifest = makeManifest();
  manifest.mask.resize(1);
  std::string text = formatManifest(manifest);
  std::string expectedPrefix = "fattn-manifest 4\n"
                               "kernel fattn_attention_causal_kernel\n"
                               "ptx causal.ptx\n"
                               "grid 16 8 1\n"
                               "block 128 1 1\n"
                               "shared 98304\n"
                               "param q input f16 256 8 96\n"
                               "param k input f16 320 2 96\n"
                               "param v input f16 320 2 96\n"
                               "param out output f16 256 8 96\n"
                               "param lse output f32 256 8\n"
                               "param workspace output f32 16 8\n"
                               "dtype f16\n"
                               "shape 256 320 8 2 96\n"
                               "scale ";
  EXPECT_EQ(text.substr(0, expectedPrefix.size()), expectedPrefix);
  EXPECT_NE(text.find("\nsoftcap 30.5\nslice 0 128 0 200 2\n"),
            std::string::npos)
      << text;
}

TEST(ManifestTest, DefaultScaleIsWrittenAsTheEffectiveOne) {
  KernelManifest manifest = makeManifest();
  manifest.params.scale = 0; // "the default": 1/sqrt(headDim)
  manifest.params.softcap = 0;
  manifest.shape.headDim = 64;
  manifest.parameters = forwardParams(manifest.dtype, manifest.shape);
  std::string text = formatManifest(manifest);
  EXPECT_NE(text.find("\nscale 0.125\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nsoftcap 0\n"), std::string::npos) << text;
  std::string error;
  std::optional<KernelManifest> parsed = parseManifest(text, &error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(parsed->params.scale, 0.125);
  EXPECT_EQ(parsed->params.softcap, 0.0);
}

TEST(ManifestTest, CommentsBlankLinesTabsAndCrlfAreAccepted) {
  std::string text = "# written by hand\r\n"
                     "\r\n"
                     "fattn-manifest 1\r\n"
                     "  # name causal-128\r\n"
                     "kernel\tk0\r\n"
                     "ptx k0.ptx\r\n"
                     "grid 2  4 1\r\n"
                     "block 128 1 1\r\n"
                     "shared 0\r\n"
                     "params q k v out lse\r\n"
                     "dtype bf16\r\n"
                     "shape 128 128 4 2 64\r\n"
                     "scale 0.125\r\n"
                     "softcap 0\r\n"
                     "slice 0 128 0 128 1"; // no final newline
  std::string error;
  std::optional<KernelManifest> manifest = parseManifest(text, &error);
  ASSERT_TRUE(manifest) << error;
  EXPECT_EQ(manifest->kernel, "k0");
  EXPECT_EQ(manifest->grid, (std::array<unsigned, 3>{2, 4, 1}));
  EXPECT_EQ(manifest->dtype, ElementType::BF16);
  ASSERT_EQ(manifest->mask.size(), 1u);
  EXPECT_EQ(manifest->mask[0], (Slice{0, 128, 0, 128, SliceKind::Causal}));
}

TEST(ManifestTest, NoSlicesIsAnEmptyMask) {
  std::vector<std::string> lines = validLines();
  lines.pop_back();
  std::string error;
  std::optional<KernelManifest> manifest = parseManifest(join(lines), &error);
  ASSERT_TRUE(manifest) << error;
  EXPECT_TRUE(manifest->mask.empty());
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

TEST(ManifestErrorTest, EmptyText) {
  std::string error;
  EXPECT_FALSE(parseManifest("", &error));
  EXPECT_EQ(error, "empty manifest: expected 'fattn-manifest 4'");
  EXPECT_FALSE(parseManifest("# only a comment\n\n", &error));
  EXPECT_EQ(error, "empty manifest: expected 'fattn-manifest 4'");
}

TEST(ManifestErrorTest, Header) {
  EXPECT_EQ(errorWithLine(0, "kernel k0"),
            "line 1: expected 'fattn-manifest 4' as the first record, got "
            "'kernel'");
  EXPECT_EQ(errorWithLine(0, "fattn-manifest 5"),
            "line 1: unsupported manifest version 5 (this runtime reads "
            "versions 1 to 4)");
  EXPECT_EQ(errorWithLine(0, "fattn-manifest"),
            "line 1: expected 'fattn-manifest <version>'");
  EXPECT_EQ(errorWithLine(0, "fattn-manifest one"),
            "line 1: expected 'fattn-manifest <version>'");
}

TEST(ManifestErrorTest, UnknownKeyNamesItsLine) {
  EXPECT_EQ(errorWithLine(3, "grids 2 4 1"), "line 4: unknown key 'grids'");
  EXPECT_EQ(errorWithLine(11, "window 0 128"), "line 12: unknown key 'window'");
}

TEST(ManifestErrorTest, DuplicateKey) {
  std::vector<std::string> lines = validLines();
  lines.push_back("grid 1 1 1");
  std::string error;
  EXPECT_FALSE(parseManifest(join(lines), &error));
  EXPECT_EQ(error, "line 13: duplicate key 'grid' (first on line 4)");
}

TEST(ManifestErrorTest, WrongNumberOfValues) {
  EXPECT_EQ(errorWithLine(3, "grid 2 4"),
            "line 4: 'grid' takes 3 values, got 2");
  EXPECT_EQ(errorWithLine(1, "kernel"),
            "line 2: 'kernel' takes 1 value, got 0");
  EXPECT_EQ(errorWithLine(2, "ptx my kernel.ptx"),
            "line 3: 'ptx' takes 1 value, got 2");
  EXPECT_EQ(errorWithLine(6, "params q k v out"),
            "line 7: 'params' takes 5 values, got 4");
  EXPECT_EQ(errorWithLine(11, "slice 0 128 0 128"),
            "line 12: 'slice' takes 5 values, got 4");
}

TEST(ManifestErrorTest, LaunchDimensions) {
  EXPECT_EQ(errorWithLine(3, "grid 2 0 1"),
            "line 4: 'grid' value '0' is not a positive integer");
  EXPECT_EQ(errorWithLine(4, "block -128 1 1"),
            "line 5: 'block' value '-128' is not a positive integer");
  EXPECT_EQ(errorWithLine(4, "block 1024 2 1"),
            "line 5: block of 2048 threads exceeds the CUDA limit of 1024");
  EXPECT_EQ(errorWithLine(5, "shared -1"),
            "line 6: 'shared' value '-1' is not a non-negative integer");
  EXPECT_EQ(errorWithLine(5, "shared 4KiB"),
            "line 6: 'shared' value '4KiB' is not a non-negative integer");
}

TEST(ManifestErrorTest, LaunchLimitsOfCuda) {
  EXPECT_EQ(errorWithLine(3, "grid 2 65536 1"),
            "line 4: grid 2x65536x1 exceeds CUDA's limits of 2^31 - 1 in x and "
            "65535 in y and z");
  EXPECT_EQ(errorWithLine(3, "grid 2147483648 1 1"),
            "line 4: grid 2147483648x1x1 exceeds CUDA's limits of 2^31 - 1 in "
            "x and 65535 in y and z");
  EXPECT_EQ(errorWithLine(5, "shared 232449"),
            "line 6: shared memory of 232449 bytes exceeds 232448 (227 KiB), "
            "the most any GPU gives a CTA");
  // The limits themselves are accepted.
  std::vector<std::string> lines = validLines();
  lines[3] = "grid 2147483647 65535 65535";
  lines[5] = "shared 232448";
  std::string error;
  EXPECT_TRUE(parseManifest(join(lines), &error)) << error;
}

TEST(ManifestErrorTest, NamesArePrintableAscii) {
  EXPECT_EQ(errorWithLine(1, "kernel k\r0"),
            "line 2: 'kernel' value must be printable ASCII, got a byte 13");
  EXPECT_EQ(errorWithLine(2, "ptx k\xc3\xa9.ptx"),
            "line 3: 'ptx' value must be printable ASCII, got a byte 195");
}

TEST(ManifestErrorTest, ParamsMustBeTheAbi) {
  EXPECT_EQ(errorWithLine(6, "params q v k out lse"),
            "line 7: params must be 'q k v out lse' (the only kernel ABI of "
            "version 1), got 'v' at position 1");
}

TEST(ManifestErrorTest, Dtype) {
  EXPECT_EQ(errorWithLine(7, "dtype fp8"),
            "line 8: unknown dtype 'fp8' (expected bf16, f16 or f32)");
}

TEST(ManifestErrorTest, Shape) {
  EXPECT_EQ(errorWithLine(8, "shape 128 128 4 2 x"),
            "line 9: shape headDim 'x' is not an integer");
  EXPECT_EQ(errorWithLine(8, "shape 128 128 4 2 0"),
            "shape: head dim must be positive, got 0");
  EXPECT_EQ(errorWithLine(8, "shape 128 -1 4 2 64"),
            "shape: key length must be positive, got -1");
  EXPECT_EQ(errorWithLine(8, "shape 128 128 6 4 64"),
            "shape: query heads 6 is not a multiple of key/value heads 4");
  // Limits: int32 tokens, 65535 heads, 2^40 elements a tensor.
  EXPECT_EQ(errorWithLine(8, "shape 2147483648 128 4 2 64"),
            "shape: query length 2147483648 exceeds 2147483647 (2^31 - 1), the "
            "most tokens the kernels index");
  EXPECT_EQ(errorWithLine(8, "shape 128 128 65536 2 64"),
            "shape: query heads 65536 exceeds the limit of 65535");
  EXPECT_EQ(errorWithLine(8, "shape 2147483647 128 1024 2 1024"),
            "shape: query tensors of 2199023254528 x 1024 elements exceed 2^40 "
            "elements, more than any device holds");
}

TEST(ManifestErrorTest, ScaleAndSoftcap) {
  for (const char *bad : {"0", "-0.125", "nan", "inf", "1/8", "3e38"})
    EXPECT_EQ(errorWithLine(9, std::string("scale ") + bad),
              std::string("line 10: scale '") + bad +
                  "' is not a positive finite number up to 2^64 (write the effective "
                  "scale, e.g. 0.125 for head dim 64)");
  EXPECT_EQ(errorWithLine(10, "softcap -1"),
            "line 11: softcap '-1' is not a finite number in [0, 2^64] (0 means "
            "none)");
  EXPECT_EQ(errorWithLine(10, "softcap 1e20"),
            "line 11: softcap '1e20' is not a finite number in [0, 2^64] (0 "
            "means none)");
  EXPECT_EQ(errorWithLine(10, "softcap none"),
            "line 11: softcap 'none' is not a finite number in [0, 2^64] (0 means "
            "none)");
}

TEST(ManifestErrorTest, Slices) {
  EXPECT_EQ(errorWithLine(11, "slice 0 128 0 128 4"),
            "line 12: unknown slice kind code 4 (expected 0 full, 1 causal, 2 "
            "inv_causal, 3 bi_causal)");
  EXPECT_EQ(errorWithLine(11, "slice 0 12.5 0 128 0"),
            "line 12: slice value '12.5' is not an integer");
  EXPECT_EQ(errorWithLine(11, "slice 0 200 0 128 0"),
            "mask: slice 0: q range [0, 200) exceeds query length 128");
  EXPECT_EQ(errorWithLine(11, "slice 10 5 0 128 0"),
            "mask: slice 0: q range [10, 5) is reversed");

  std::vector<std::string> lines = validLines();
  lines.push_back("slice 64 128 0 32 0"); // inside the causal triangle
  std::string error;
  EXPECT_FALSE(parseManifest(join(lines), &error));
  EXPECT_EQ(error, "mask: slices 0 and 1 both attend (q 64, k 0)");
}

TEST(ManifestErrorTest, EveryRequiredKeyIsRequired) {
  const std::vector<std::string> keys = {"kernel", "ptx",    "grid",  "block",
                                         "shared", "params", "dtype", "shape",
                                         "scale",  "softcap"};
  for (size_t i = 0; i < keys.size(); ++i) {
    std::vector<std::string> lines = validLines();
    lines.erase(lines.begin() + 1 + i);
    std::string error;
    EXPECT_FALSE(parseManifest(join(lines), &error)) << keys[i];
    EXPECT_EQ(error, "missing required key '" + keys[i] + "'" +
                         (keys[i] == "params" ? " (version 1)" : ""));
  }
}

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

/// validLines() in version 2: the forward tensors as param records.
std::vector<std::string> validLinesVersion2() {
  std::vector<std::string> lines = validLines();
  lines[0] = "fattn-manifest 2";
  lines.erase(lines.begin() + 6);
  lines.insert(lines.begin() + 6, {"param q input bf16 128 4 64",
                                   "param k input bf16 128 2 64",
                                   "param v input bf16 128 2 64",
                                   "param out output bf16 128 4 64",
                                   "param lse output f32 128 4"});
  return lines;
}

/// The error of parsing `lines` with line `index` (0-based; past the end:
/// appended) replaced by `replacement`.
std::string errorWithReplaced(std::vector<std::string> lines, size_t index,
                              const std::string &replacement) {
  if (index < lines.size())
    lines[index] = replacement;
  else
    lines.push_back(replacement);
  std::string error;
  EXPECT_FALSE(parseManifest(join(lines), &error)) << replacement;
  return error;
}

std::string version2Error(size_t index, const std::string &replacement) {
  return errorWithReplaced(validLinesVersion2(), index, replacement);
}

TEST(ManifestParamTest, Version1ParamsAreTheForwardTensors) {
  std::string error;
  std::optional<KernelManifest> manifest =
      parseManifest(join(validLines()), &error);
  ASSERT_TRUE(manifest) << error;
  std::vector<KernelParam> expected = {
      {"q", ParamRole::Input, ElementType::BF16, {128, 4, 64}},
      {"k", ParamRole::Input, ElementType::BF16, {128, 2, 64}},
      {"v", ParamRole::Input, ElementType::BF16, {128, 2, 64}},
      {"out", ParamRole::Output, ElementType::BF16, {128, 4, 64}},
      {"lse", ParamRole::Output, ElementType::F32, {128, 4}}};
  EXPECT_EQ(manifest->parameters, expected);
  EXPECT_EQ(manifest->parameters[4].bytes(), size_t(128 * 4 * 4));
  EXPECT_EQ(manifest->parameters[0].bytes(), size_t(128 * 4 * 64 * 2));
  // And version 2 says the same in records.
  std::optional<KernelManifest> second =
      parseManifest(join(validLinesVersion2()), &error);
  ASSERT_TRUE(second) << error;
  EXPECT_EQ(second->parameters, expected);
}

TEST(ManifestParamTest, AnyParameterListIsKeptInOrder) {
  // A kernel that is not a forward one: its own tensors, no q or lse.
  std::vector<std::string> lines = validLinesVersion2();
  lines.erase(lines.begin() + 6, lines.begin() + 11);
  lines.insert(lines.begin() + 6, {"param dout input bf16 128 4 64",
                                   "param dq output f32 128 4 64",
                                   "param k input bf16 128 2 64"});
  std::string error;
  std::optional<KernelManifest> manifest = parseManifest(join(lines), &error);
  ASSERT_TRUE(manifest) << error;
  ASSERT_EQ(manifest->parameters.size(), 3u);
  EXPECT_EQ(manifest->parameters[0].name, "dout");
  EXPECT_EQ(manifest->parameters[1].role, ParamRole::Output);
  EXPECT_EQ(manifest->parameters[1].dtype, ElementType::F32);
  EXPECT_EQ(manifest->parameters[2].extents, (std::vector<int64_t>{128, 2, 64}));
}

TEST(ManifestParamTest, MalformedParamsAreRejectedWithTheirLine) {
  EXPECT_EQ(version2Error(6, "param q input"),
            "line 7: 'param' takes a name, a role, a dtype and its extents, "
            "got 2 values");
  EXPECT_EQ(version2Error(6, "param q input bf16"),
            "line 7: param 'q' takes one or more extents");
  EXPECT_EQ(version2Error(6, "param q inout bf16 128 4 64"),
            "line 7: param role 'inout' must be input, output, schedule or "
            "scalar");
  EXPECT_EQ(version2Error(6, "param q input f64 128 4 64"),
            "line 7: param dtype 'f64' (expected bf16, f16 or f32)");
  EXPECT_EQ(version2Error(6, "param q-tile input bf16 128 4 64"),
            "line 7: param name 'q-tile' must be letters, digits and '_'");
  EXPECT_EQ(version2Error(6, "param q input bf16 128 0 64"),
            "line 7: param 'q' extent '0' is not a positive integer or a "
            "scalar's name, or the tensor exceeds 2^40 elements");
  EXPECT_EQ(version2Error(6, "param q input bf16 1048576 1048576 2"),
            "line 7: param 'q' extent '2' is not a positive integer or a "
            "scalar's name, or the tensor exceeds 2^40 elements");
  EXPECT_EQ(version2Error(6, "param q input bf16 1 1 1 1 1 1 1 1 1"),
            "line 7: param 'q' has more than 8 extents");
  EXPECT_EQ(version2Error(7, "param q input bf16 128 4 64"),
            "line 8: duplicate param 'q'");
}

TEST(ManifestParamTest, TheAttentionTensorsMustMatchTheShape) {
  EXPECT_EQ(version2Error(6, "param q input bf16 128 4 32"),
            "param 'q' must be 'q input bf16 128 4 64' to match dtype and "
            "shape");
  EXPECT_EQ(version2Error(10, "param lse output bf16 128 4"),
            "param 'lse' must be 'lse output f32 128 4' to match dtype and "
            "shape");
  EXPECT_EQ(version2Error(9, "param out input bf16 128 4 64"),
            "param 'out' must be 'out output bf16 128 4 64' to match dtype "
            "and shape");
}

TEST(ManifestParamTest, RecordsMustMatchTheVersion) {
  EXPECT_EQ(version2Error(99, "params q k v out lse"),
            "'params' is version 1's; version 2 lists each parameter in a "
            "'param' record");
  std::vector<std::string> lines = validLinesVersion2();
  lines.erase(lines.begin() + 6, lines.begin() + 11);
  std::string error;
  EXPECT_FALSE(parseManifest(join(lines), &error));
  EXPECT_EQ(error, "missing 'param' records: a kernel takes at least one "
                   "parameter");
  lines = validLines();
  lines.push_back("param q input bf16 128 4 64");
  EXPECT_FALSE(parseManifest(join(lines), &error));
  EXPECT_EQ(error, "'param' records need manifest version 2");
}

TEST(ManifestErrorTest, NullErrorPointerIsAllowed) {
  EXPECT_FALSE(parseManifest("garbage", nullptr));
}

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

std::string temporaryPath(const std::string &name) {
  const char *directory = std::getenv("TMPDIR");
  return std::string(directory ? directory : "/tmp") + "/" + name;
}

TEST(ManifestFileTest, ReadManifestPrefixesErrorsWithThePath) {
  std::string path = temporaryPath("fattn-manifest-test-bad.manifest");
  {
    std::ofstream file(path);
    file << "fattn-manifest 1\nkernel k0\ngrid 1\n";
  }
  std::string error;
  EXPECT_FALSE(readManifest(path, &error));
  EXPECT_EQ(error, path + ": line 3: 'grid' takes 3 values, got 1");
  std::remove(path.c_str());
}

TEST(ManifestFileTest, ReadManifestOfAMissingFile) {
  std::string error;
  EXPECT_FALSE(readManifest("/nonexistent/k.manifest", &error));
  EXPECT_EQ(error,
            "cannot read '/nonexistent/k.manifest': No such file or directory");
}

TEST(ManifestFileTest, ReadManifestRoundTrip) {
  std::string path = temporaryPath("fattn-manifest-test-good.manifest");
  KernelManifest original = makeManifest();
  {
    std::ofstream file(path);
    file << formatManifest(original);
  }
  std::string error;
  std::optional<KernelManifest> manifest = readManifest(path, &error);
  ASSERT_TRUE(manifest) << error;
  expectEqual(*manifest, original);
  std::remove(path.c_str());
}

TEST(ManifestFileTest, PtxPathIsRelativeToTheManifest) {
  KernelManifest manifest;
  manifest.ptxFile = "k.ptx";
  EXPECT_EQ(resolvePtxPath("staged/kernels/k.manifest", manifest),
            "staged/kernels/k.ptx");
  EXPECT_EQ(resolvePtxPath("/abs/k.manifest", manifest), "/abs/k.ptx");
  EXPECT_EQ(resolvePtxPath("k.manifest", manifest), "k.ptx");
  manifest.ptxFile = "/elsewhere/k.ptx";
  EXPECT_EQ(resolvePtxPath("staged/k.manifest", manifest), "/elsewhere/k.ptx");
}

//===----------------------------------------------------------------------===//
// Run-time masks (version 3)
//===----------------------------------------------------------------------===//

/// What fattn-map-tiles-to-gpu writes for a ranges mask: dynamic token
/// counts, the plan's tables and the scalars.
std::vector<std::string> runtimeLines() {
  return {"fattn-manifest 4",
          "kernel k0",
          "ptx k0.ptx",
          "grid 4 ? 1",
          "block 128 1 1",
          "shared 0",
          "param q input bf16 num_q 4 64",
          "param k input bf16 num_k 2 64",
          "param v input bf16 num_k 2 64",
          "param out output bf16 num_q 4 64",
          "param lse output f32 num_q 4",
          "param slots schedule i32 ? 8",
          "param items schedule i32 ? 4",
          "param item_slices schedule i32 ?",
          "param slices schedule i32 ? 5",
          "param num_q scalar i32",
          "param num_k scalar i32",
          "param num_slots scalar i32",
          "dtype bf16",
          "shape ? ? 4 2 64",
          "scale 0.125",
          "softcap 0",
          "schedule 128 64 whole aligned 4"};
}

std::string runtimeError(size_t index, const std::string &replacement) {
  return errorWithReplaced(runtimeLines(), index, replacement);
}

TEST(ManifestRuntimeTest, ParsesAndRoundTrips) {
  std::string error;
  std::optional<KernelManifest> manifest =
      parseManifest(join(runtimeLines()), &error);
  ASSERT_TRUE(manifest) << error;
  EXPECT_TRUE(manifest->hasRuntimeMask());
  EXPECT_EQ(manifest->grid, (std::array<unsigned, 3>{4, 0, 1}));
  EXPECT_EQ(manifest->shape.numQ, kDynamicExtent);
  EXPECT_EQ(manifest->shape.numK, kDynamicExtent);
  RuntimeSchedule expected{128, 64, mask::KeyEdge::Whole,
                           mask::QueryTiles::SliceAligned, 4};
  EXPECT_EQ(manifest->schedule, expected);
  const KernelParam &q = manifest->parameters[0];
  EXPECT_EQ(q.extents, (std::vector<int64_t>{kDynamicExtent, 4, 64}));
  EXPECT_EQ(q.extentScalars, std::vector<std::string>{"num_q"});
  const KernelParam &slots = manifest->parameters[5];
  EXPECT_EQ(slots.role, ParamRole::Schedule);
  EXPECT_EQ(slots.extentScalars, std::vector<std::string>{""});
  EXPECT_EQ(slots.elementSize(), 4u);
  EXPECT_TRUE(manifest->parameters[11].isScalar());
  // The writer gives back the same text, record for record.
  EXPECT_EQ(formatManifest(*manifest), join(runtimeLines()));
  std::optional<KernelManifest> again =
      parseManifest(formatManifest(*manifest), &error);
  ASSERT_TRUE(again) << error;
  expectEqual(*again, *manifest);
}

TEST(ManifestRuntimeTest, InconsistentRecordsAreRejected) {
  EXPECT_EQ(runtimeError(0, "fattn-manifest 2"),
            "'schedule' needs manifest version 3");
  EXPECT_EQ(runtimeError(3, "grid 4 8 1"),
            "grid y must be '?' under a run-time mask: the plan decides it");
  EXPECT_EQ(runtimeError(99, "slice 0 1 0 1 0"),
            "a kernel with a run-time mask ('schedule') takes no 'slice' "
            "records");
  EXPECT_EQ(runtimeError(22, "schedule 128 64 whole aligned 0"),
            "line 23: schedule items per tile '0' is not a positive integer "
            "up to 1048576");
  EXPECT_EQ(runtimeError(22, "schedule 128 64 edge aligned 1"),
            "line 23: schedule key edge 'edge' must be clipped or whole");
  EXPECT_EQ(runtimeError(22, "schedule 0 64 whole aligned 1"),
            "line 23: schedule block sizes '0' '64' are not positive "
            "integers up to 65536");
  EXPECT_EQ(runtimeError(17, "param workspace scalar i32"),
            "param 'workspace' is not one the runtime fills in from a "
            "run-time mask's plan");
  // A plan parameter under another role would be passed as the other.
  EXPECT_EQ(runtimeError(15, "param num_q input bf16 16"),
            "param 'num_q' must have role scalar (the plan fills it in)");
  EXPECT_EQ(runtimeError(11, "param slots input bf16 4 8"),
            "param 'slots' must have role schedule (the plan fills it in)");
  EXPECT_EQ(runtimeError(17, "param num_k scalar i32"),
            "line 18: duplicate param 'num_k'");
  EXPECT_EQ(runtimeError(15, "param num_q scalar f32"),
            "line 16: param 'num_q' of role 'scalar' has dtype i32, got 'f32'");
  EXPECT_EQ(runtimeError(15, "param num_q scalar i32 4"),
            "line 16: param 'num_q' is a scalar and takes no extents");
  EXPECT_EQ(runtimeError(6, "param q input bf16 ? 4 64"),
            "line 7: param 'q' extent '?' is for schedule tables only; name "
            "the scalar that gives it");
  EXPECT_EQ(runtimeError(6, "param q input bf16 num_rows 4 64"),
            "param 'q' extent 'num_rows' names no scalar param");
  EXPECT_EQ(runtimeError(6, "param q input bf16 num_k 4 64"),
            "param 'q' must be 'q input bf16 num_q 4 64' to match dtype and "
            "shape");
  std::vector<std::string> lines = runtimeLines();
  lines.erase(lines.begin() + 17); // num_slots
  std::string error;
  EXPECT_FALSE(parseManifest(join(lines), &error));
  EXPECT_EQ(error, "a kernel with a run-time mask takes a param 'num_slots'; "
                   "the manifest has none");
}

/// What the compiler writes for a soft-capped run-time kernel: head
/// counts, scale and softcap given by each call (version 4).
std::vector<std::string> perCallLines() {
  std::vector<std::string> lines = runtimeLines();
  lines[3] = "grid ? ? 1";
  lines[6] = "param q input bf16 num_q heads_q 64";
  lines[7] = "param k input bf16 num_k heads_k 64";
  lines[8] = "param v input bf16 num_k heads_k 64";
  lines[9] = "param out output bf16 num_q heads_q 64";
  lines[10] = "param lse output f32 num_q heads_q";
  lines.insert(lines.begin() + 18,
               {"param heads_q scalar i32", "param heads_k scalar i32",
                "param scale scalar f32", "param softcap scalar f32"});
  lines[23] = "shape ? ? ? ? 64";
  lines[24] = "scale ?";
  lines[25] = "softcap ?";
  return lines;
}

std::string perCallError(size_t index, const std::string &replacement) {
  return errorWithReplaced(perCallLines(), index, replacement);
}

TEST(ManifestRuntimeTest, PerCallHeadsScaleAndSoftcapRoundTrip) {
  std::string error;
  std::optional<KernelManifest> manifest =
      parseManifest(join(perCallLines()), &error);
  ASSERT_TRUE(manifest) << error;
  EXPECT_EQ(manifest->grid, (std::array<unsigned, 3>{0, 0, 1}));
  EXPECT_EQ(manifest->shape.headsQ, kDynamicExtent);
  EXPECT_EQ(manifest->shape.headsK, kDynamicExtent);
  EXPECT_EQ(manifest->shape.headDim, 64);
  EXPECT_EQ(manifest->params.scale, kCallParam);
  EXPECT_EQ(manifest->params.softcap, kCallParam);
  const KernelParam &k = manifest->parameters[1];
  EXPECT_EQ(k.extents,
            (std::vector<int64_t>{kDynamicExtent, kDynamicExtent, 64}));
  EXPECT_EQ(k.extentScalars, (std::vector<std::string>{"num_k", "heads_k"}));
  EXPECT_FALSE(manifest->parameters[12].isFloatScalar()); // heads_q
  EXPECT_TRUE(manifest->parameters[14].isFloatScalar());  // scale
  EXPECT_EQ(formatManifest(*manifest), join(perCallLines()));
}

TEST(ManifestRuntimeTest, PerCallRecordsMustAgree) {
  // '?' without the parameter that gives it, and the reverse.
  EXPECT_EQ(perCallError(24, "scale 0.125"),
            "scale is fixed, so the kernel takes no param 'scale'");
  EXPECT_EQ(perCallError(21, "param softcap_value scalar i32"),
            "param 'softcap_value' is not one the runtime fills in from a "
            "run-time mask's plan");
  std::vector<std::string> lines = perCallLines();
  lines.erase(lines.begin() + 21); // softcap
  std::string error;
  EXPECT_FALSE(parseManifest(join(lines), &error));
  EXPECT_EQ(error, "softcap is '?', so the kernel takes it per call: it "
                   "needs a param 'softcap'");
  EXPECT_EQ(perCallError(3, "grid 4 ? 1"),
            "grid x must be '?' when the call gives the heads: it is their "
            "count");
  EXPECT_EQ(perCallError(20, "param scale scalar i32"),
            "line 21: param 'scale' of role 'scalar' has dtype f32, got "
            "'i32'");
  EXPECT_EQ(perCallError(18, "param heads_q scalar f32"),
            "line 19: param 'heads_q' of role 'scalar' has dtype i32, got "
            "'f32'");
  EXPECT_EQ(perCallError(0, "fattn-manifest 3"),
            "line 4: grid x '?' needs manifest version 4");
  // Only a run-time kernel takes anything per call.
  std::vector<std::string> fixedMask = perCallLines();
  fixedMask.pop_back(); // the schedule record
  EXPECT_FALSE(parseManifest(join(fixedMask), &error));
  EXPECT_EQ(error, "grid y '?' needs a 'schedule' record");
}

TEST(ProblemTest, CallsMustFitWhatTheKernelFixes) {
  AttentionShape fixed{kDynamicExtent, kDynamicExtent, 8, 2, 128};
  AttentionShape perCall{kDynamicExtent, kDynamicExtent, kDynamicExtent,
                         kDynamicExtent, 128};
  AttentionParams none{0.125, 0}, capped{kCallParam, kCallParam};
  AttentionShape call{100, 0, 8, 2, 128};
  EXPECT_EQ(checkCall(fixed, none, call, {0.125, 0}), std::nullopt);
  EXPECT_EQ(checkCall(perCall, capped, {100, 50, 32, 4, 128}, {0.3, 30}),
            std::nullopt);
  EXPECT_EQ(*checkCall(fixed, none, {100, 50, 16, 2, 128}, {0.125, 0}),
            "compiled for 8 query heads; the call has 16");
  EXPECT_EQ(*checkCall(perCall, capped, {100, 50, 8, 2, 64}, {0, 30}),
            "compiled for 128 as head dim; the call has 64");
  EXPECT_EQ(*checkCall(fixed, none, call, {0.5, 0}),
            "compiled for scale 0.125; the call has 0.5");
  // 0 is the default scale, 1/sqrt(128).
  EXPECT_EQ(*checkCall(fixed, none, call, {0, 0}),
            "compiled for scale 0.125; the call has 0.0883883");
  EXPECT_EQ(*checkCall(fixed, none, call, {0.125, 30}),
            "compiled without a softcap; the call has 30");
  EXPECT_EQ(*checkCall(perCall, capped, call, {0.1, 0}),
            "compiled with a softcap; the call has none (use a kernel "
            "without one)");
  EXPECT_EQ(*checkCall(perCall, capped, {100, 50, 6, 4, 128}, {0.1, 1}),
            "given an invalid call: query heads 6 is not a multiple of "
            "key/value heads 4");
  EXPECT_EQ(*checkCall(perCall, capped, {100, 50, 0, 4, 128}, {0.1, 1}),
            "given an invalid call: query heads must be positive, got 0");
  EXPECT_EQ(*checkCall(perCall, capped, call, {1e-46, 1}),
            "given an invalid call: scale 1e-46 and softcap 1 must be normal "
            "f32 numbers, the kernel's argument type");
  EXPECT_EQ(*checkCall(fixed, none, {-3, 50, 8, 2, 128}, {0.125, 0}),
            "given an invalid call: query length must be positive, got -3");
  EXPECT_EQ(*checkCall(perCall, capped, call, {-1, 1}),
            "given an invalid call: scale -1 must be 0 (the default) or in "
            "(0, 2^64]: finite, positive and small enough that fp32 scores "
            "stay finite");
}

TEST(ManifestRuntimeTest, StaticManifestsTakeNoRuntimeRecords) {
  EXPECT_EQ(errorWithLine(3, "grid 2 ? 1"),
            "grid y '?' needs a 'schedule' record");
  EXPECT_EQ(errorWithLine(3, "grid ? 4 1"),
            "line 4: grid x '?' needs manifest version 4");
  EXPECT_EQ(errorWithLine(8, "shape ? 128 4 2 64"),
            "'?' counts, scale or softcap, and parameters of role schedule "
            "or scalar or with named extents, need a 'schedule' record (a "
            "run-time mask)");
  // A literal -1 is a bad length, not a run-time one.
  EXPECT_EQ(errorWithLine(8, "shape 128 -1 4 2 64"),
            "shape: key length must be positive, got -1");
}

} // namespace
