//===- CudaDriverTest.cpp - The driver loader without a driver ------------===//
//
// CI machines have no GPU and no libcuda: there the no-driver path is a real
// assertion. Where a driver is installed those tests skip (the GPU machine
// runs fattn-launch --self-test instead).
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Runtime/CudaDriver.h"
#include "FlashDialect/Runtime/GpuReference.h"

#include "EmbeddedPtx.h"

#include "DriverPresence.h"

#include "gtest/gtest.h"


#include <string>

using namespace fattn::runtime;

namespace {

bool startsWith(const std::string &text, const std::string &prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

TEST(CudaDriverTest, MissingLibraryIsReportedAsNoDriver) {
  std::string error;
  std::unique_ptr<cuda::Driver> driver =
      cuda::Driver::load("libfattn-no-such-driver.so.1", &error);
  EXPECT_EQ(driver, nullptr);
  EXPECT_TRUE(startsWith(
      error, "no CUDA driver (libfattn-no-such-driver.so.1 not found: "))
      << error;
  // dlerror's reason is kept, so that a broken installation can be told
  // from a missing one.
  EXPECT_NE(error.find("cannot open shared object file"), std::string::npos)
      << error;
  EXPECT_EQ(error.back(), ')');
}

TEST(CudaDriverTest, LibraryWithoutTheEntryPointsIsRejected) {
  // Any library that loads but is not a CUDA driver.
  std::string error;
  std::unique_ptr<cuda::Driver> driver =
      cuda::Driver::load("libm.so.6", &error);
  EXPECT_EQ(driver, nullptr);
  EXPECT_TRUE(startsWith(error, "CUDA driver libm.so.6 lacks entry points the "
                                "runtime needs (cuInit, "))
      << error;
}

TEST(CudaDriverTest, ProcessDriverReportsNoDriverCleanly) {
  if (systemHasCudaDriver())
    GTEST_SKIP() << "libcuda.so.1 is installed here";
  std::string error;
  EXPECT_EQ(cuda::Driver::get(&error), nullptr);
  EXPECT_TRUE(startsWith(error, "no CUDA driver (libcuda.so.1 not found: "))
      << error;
  // The answer is remembered, not recomputed into something else.
  std::string again;
  EXPECT_EQ(cuda::Driver::get(&again), nullptr);
  EXPECT_EQ(again, error);
  EXPECT_EQ(cuda::Driver::get(nullptr), nullptr);
}

TEST(CudaDriverTest, StatusCarriesItsMessage) {
  cuda::Status ok = cuda::Status::success();
  EXPECT_TRUE(ok);
  EXPECT_TRUE(ok.message.empty());
  cuda::Status failed = cuda::Status::failure("cuInit: CUDA_ERROR_NO_DEVICE");
  EXPECT_FALSE(failed);
  EXPECT_EQ(failed.message, "cuInit: CUDA_ERROR_NO_DEVICE");
}

TEST(GpuReferenceBuildTest, EmbeddedPtxMatchesTheBuild) {
  if (!FATTN_TEST_HAVE_NVCC) {
    EXPECT_FALSE(GpuReference::isAvailable());
    ASSERT_NE(reference_kernel::kPtxUnavailableReason, nullptr);
    EXPECT_NE(std::string(reference_kernel::kPtxUnavailableReason)
                  .find("without nvcc"),
              std::string::npos);
    return;
  }
  ASSERT_TRUE(GpuReference::isAvailable());
  std::string ptx = reference_kernel::kPtx;
  EXPECT_NE(ptx.find(".entry fattn_reference_attention("), std::string::npos);
  // compute_80 PTX, so that the driver JIT-compiles it for any newer GPU.
  EXPECT_NE(ptx.find(".target sm_80"), std::string::npos);
  EXPECT_STREQ(reference_kernel::kPtxUnavailableReason, "");
}

} // namespace
