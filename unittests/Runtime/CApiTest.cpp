//===- CApiTest.cpp - Tests of libfattn_runtime.so's C API ----------------===//
//
// Everything a C or Python caller can reach without a GPU: argument checks,
// manifest errors, the no-driver status, and the mask helpers.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Runtime/fattn_runtime.h"

#include "FlashDialect/Mask/Mask.h"

#include "DriverPresence.h"

#include "gtest/gtest.h"


#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace mask = fattn::mask;

namespace {

std::string lastError() { return fattn_last_error(); }

/// A manifest and a (never compiled) PTX file in a fresh temporary folder.
class KernelFiles {
public:
  explicit KernelFiles(const std::string &manifestText, bool withPtx = true) {
    char pattern[] = "/tmp/fattn-capi-test-XXXXXX";
    directory = mkdtemp(pattern);
    manifestPath = directory + "/k.manifest";
    std::ofstream(manifestPath) << manifestText;
    if (withPtx)
      std::ofstream(directory + "/k.ptx") << "// not reached without a GPU\n";
  }
  ~KernelFiles() {
    std::remove(manifestPath.c_str());
    std::remove((directory + "/k.ptx").c_str());
    std::remove(directory.c_str());
  }
  std::string directory, manifestPath;
};

const char *const kValidManifest = "fattn-manifest 1\n"
                                   "kernel k0\n"
                                   "ptx k.ptx\n"
                                   "grid 8 4 1\n"
                                   "block 128 1 1\n"
                                   "shared 0\n"
                                   "params q k v out lse\n"
                                   "dtype bf16\n"
                                   "shape 128 128 4 4 64\n"
                                   "scale 0.125\n"
                                   "softcap 0\n"
                                   "slice 0 128 0 128 1\n";

std::vector<int64_t> flatten(const mask::Mask &mask) {
  std::vector<int64_t> values;
  for (const mask::Slice &slice : mask)
    values.insert(values.end(), {slice.qBegin, slice.qEnd, slice.kBegin,
                                 slice.kEnd, int64_t(slice.kind)});
  return values;
}

TEST(CApiTest, NullPointersAreReported) {
  fattn_kernel *kernel = reinterpret_cast<fattn_kernel *>(0x1);
  EXPECT_EQ(fattn_kernel_load(nullptr, &kernel), FATTN_STATUS_NULL_POINTER);
  EXPECT_EQ(kernel, nullptr); // cleared even on failure
  EXPECT_EQ(lastError(), "fattn_kernel_load: manifest_path is NULL");
  EXPECT_EQ(fattn_kernel_load("k.manifest", nullptr),
            FATTN_STATUS_NULL_POINTER);
  EXPECT_EQ(lastError(), "fattn_kernel_load: out is NULL");
  EXPECT_EQ(fattn_kernel_launch(nullptr, nullptr, nullptr, nullptr, nullptr,
                                nullptr, nullptr),
            FATTN_STATUS_NULL_POINTER);
  fattn_kernel_info_t info;
  EXPECT_EQ(fattn_kernel_info(nullptr, &info), FATTN_STATUS_NULL_POINTER);
  int64_t count = 0;
  EXPECT_EQ(fattn_kernel_slices(nullptr, nullptr, 0, &count),
            FATTN_STATUS_NULL_POINTER);
  fattn_kernel_destroy(nullptr); // accepted, does nothing
}

TEST(CApiTest, UnreadableManifest) {
  fattn_kernel *kernel = nullptr;
  EXPECT_EQ(fattn_kernel_load("/nonexistent/k.manifest", &kernel),
            FATTN_STATUS_BAD_MANIFEST);
  EXPECT_EQ(kernel, nullptr);
  EXPECT_EQ(lastError(),
            "cannot read '/nonexistent/k.manifest': No such file or directory");
}

TEST(CApiTest, MalformedManifestNamesFileAndLine) {
  std::string text = kValidManifest;
  text.replace(text.find("dtype bf16"), 10, "dtype fp8");
  KernelFiles files(text);
  fattn_kernel *kernel = nullptr;
  EXPECT_EQ(fattn_kernel_load(files.manifestPath.c_str(), &kernel),
            FATTN_STATUS_BAD_MANIFEST);
  EXPECT_EQ(lastError(), files.manifestPath +
                             ": line 8: unknown dtype 'fp8' (expected bf16, "
                             "f16 or f32)");
}

TEST(CApiTest, MissingPtxIsABadManifest) {
  KernelFiles files(kValidManifest, /*withPtx=*/false);
  fattn_kernel *kernel = nullptr;
  EXPECT_EQ(fattn_kernel_load(files.manifestPath.c_str(), &kernel),
            FATTN_STATUS_BAD_MANIFEST);
  EXPECT_EQ(lastError(), files.manifestPath + ": PTX: cannot read '" +
                             files.directory +
                             "/k.ptx': No such file or directory");
}

TEST(CApiTest, ValidKernelWithoutDriverIsNoDriver) {
  if (systemHasCudaDriver())
    GTEST_SKIP() << "libcuda.so.1 is installed here";
  KernelFiles files(kValidManifest);
  fattn_kernel *kernel = nullptr;
  EXPECT_EQ(fattn_kernel_load(files.manifestPath.c_str(), &kernel),
            FATTN_STATUS_NO_DRIVER);
  EXPECT_EQ(kernel, nullptr);
  EXPECT_EQ(lastError().rfind("no CUDA driver (libcuda.so.1 not found: ", 0),
            0u)
      << lastError();
}

TEST(CApiTest, SuccessClearsTheLastError) {
  fattn_kernel *kernel = nullptr;
  fattn_kernel_load(nullptr, &kernel);
  EXPECT_NE(lastError(), "");
  int64_t pairs = -1;
  std::vector<int64_t> slices = flatten(mask::causalMask(4, 4));
  EXPECT_EQ(fattn_mask_count_pairs(slices.data(), 1, 4, 4, &pairs),
            FATTN_STATUS_SUCCESS);
  EXPECT_EQ(lastError(), "");
}

TEST(CApiTest, CountPairsUsesTheMaskLibrary) {
  int64_t pairs = -1;
  std::vector<int64_t> causal = flatten(mask::causalMask(128, 128));
  ASSERT_EQ(fattn_mask_count_pairs(causal.data(), 1, 128, 128, &pairs),
            FATTN_STATUS_SUCCESS);
  EXPECT_EQ(pairs, 128 * 129 / 2);

  mask::Mask blocks = *mask::blockCausalMask(1000, 256);
  std::vector<int64_t> values = flatten(blocks);
  ASSERT_EQ(fattn_mask_count_pairs(values.data(), int64_t(blocks.size()), 1000,
                                   1000, &pairs),
            FATTN_STATUS_SUCCESS);
  EXPECT_EQ(pairs, mask::countAttendedPairs(blocks));

  ASSERT_EQ(fattn_mask_count_pairs(nullptr, 0, 10, 10, &pairs),
            FATTN_STATUS_SUCCESS);
  EXPECT_EQ(pairs, 0);
}

TEST(CApiTest, CountPairsRejectsInvalidMasks) {
  int64_t pairs = -1;
  std::vector<int64_t> overlapping = {0, 8, 0, 8, 1, 4, 8, 0, 2, 0};
  EXPECT_EQ(fattn_mask_count_pairs(overlapping.data(), 2, 8, 8, &pairs),
            FATTN_STATUS_BAD_ARGUMENT);
  EXPECT_EQ(lastError(), "slices 0 and 1 both attend (q 4, k 0)");
  std::vector<int64_t> badKind = {0, 8, 0, 8, 7};
  EXPECT_EQ(fattn_mask_count_pairs(badKind.data(), 1, 8, 8, &pairs),
            FATTN_STATUS_BAD_ARGUMENT);
  EXPECT_EQ(lastError(), "slice 0: unknown kind code 7");
  std::vector<int64_t> outOfBounds = {0, 8, 0, 9, 0};
  EXPECT_EQ(fattn_mask_count_pairs(outOfBounds.data(), 1, 8, 8, &pairs),
            FATTN_STATUS_BAD_ARGUMENT);
  EXPECT_EQ(lastError(), "slice 0: k range [0, 9) exceeds key length 8");
  EXPECT_EQ(pairs, -1); // untouched on failure
}

TEST(CApiTest, SamePairsComparesAttendedSetsNotSlices) {
  auto same = [](const mask::Mask &a, const mask::Mask &b, int64_t numQ,
                 int64_t numK) {
    std::vector<int64_t> x = flatten(a), y = flatten(b);
    int result = -1;
    EXPECT_EQ(fattn_mask_same_pairs(x.data(), int64_t(a.size()), y.data(),
                                    int64_t(b.size()), numQ, numK, &result),
              FATTN_STATUS_SUCCESS)
        << lastError();
    return result;
  };
  using mask::Slice;
  using mask::SliceKind;
  // Block-causal written with overlapping q ranges vs one full + causal-free
  // rectangle per block row, and vs its normal form.
  mask::Mask blocks = *mask::blockCausalMask(96, 32);
  mask::Mask rows = {Slice{0, 32, 0, 32, SliceKind::Full},
                     Slice{32, 64, 0, 64, SliceKind::Full},
                     Slice{64, 96, 0, 96, SliceKind::Full}};
  EXPECT_EQ(same(blocks, rows, 96, 96), 1);
  EXPECT_EQ(same(blocks, mask::normalize(blocks), 96, 96), 1);
  // A causal square split in two along the rows.
  EXPECT_EQ(same(mask::causalMask(64, 64),
                 {Slice{0, 32, 0, 32, SliceKind::Causal},
                  Slice{32, 64, 0, 32, SliceKind::Full},
                  Slice{32, 64, 32, 64, SliceKind::Causal}},
                 64, 64),
            1);
  EXPECT_EQ(same(mask::fullMask(64, 64), mask::causalMask(64, 64), 64, 64), 0);
  // Same number of pairs, different cells.
  EXPECT_EQ(same({Slice{0, 1, 0, 1, SliceKind::Full}},
                 {Slice{0, 1, 1, 2, SliceKind::Full}}, 2, 2),
            0);
  EXPECT_EQ(same({}, {}, 4, 4), 1);
}

TEST(CApiTest, StatusNames) {
  EXPECT_STREQ(fattn_status_name(FATTN_STATUS_SUCCESS), "FATTN_STATUS_SUCCESS");
  EXPECT_STREQ(fattn_status_name(FATTN_STATUS_NO_DRIVER),
               "FATTN_STATUS_NO_DRIVER");
  EXPECT_STREQ(fattn_status_name(FATTN_STATUS_PTX_LOAD_FAILED),
               "FATTN_STATUS_PTX_LOAD_FAILED");
  EXPECT_STREQ(fattn_status_name(static_cast<fattn_status>(99)),
               "FATTN_STATUS_UNKNOWN");
}

} // namespace
