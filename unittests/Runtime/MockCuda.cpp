//===- MockCuda.cpp - A CPU stand-in for libcuda.so.1, for tests ----------===//
//
// Built as libcuda.so.1 in a folder of its own; tests put that folder on
// LD_LIBRARY_PATH to run fattn-launch and the C API through every driver
// call on machines without a GPU. "Device" memory is host memory, and a
// launch runs on the host at once:
//
// - fattn_reference_attention (the embedded GPU reference) is computed with
//   the CPU references of Reference.h from the argument struct the host
//   filled in, after checking the launch geometry the host chose. A wrong
//   field of either shows up as a mismatch in the tests.
// - mock_good, mock_bad, mock_unwritten, mock_fault stand for compiled
//   kernels: they read the manifest named by FATTN_MOCK_MANIFEST and write
//   the naive low-precision attention (good), a perturbed one (bad), leave
//   the last query row unwritten, or fault at the next synchronization.
// - fattn_plan_ranges (the embedded GPU planner) runs its own source as
//   C++ on emulated threads (CudaEmulation.h), after checking the launch
//   geometry: one block of plan_kernel::kThreads.
// - mock_runtime stands for a kernel compiled for a run-time mask: it takes
//   the token counts and the slot count from its scalars (and the heads,
//   scale and softcap where the manifest has them per call), checks that
//   grid y is the slot count (grid x the heads) and that the slots hold
//   every query row once (or, for a slot table the GPU planner left empty,
//   none: it then writes nothing), and writes the naive attention of the
//   slices its items name.
//
// PTX is only scanned: ".entry NAME(" declares a function and its ".param"
// lines its parameters; "mock_invalid_ptx" anywhere makes the JIT fail.
// FATTN_MOCK_NO_DEVICE=1 makes cuInit report no device, and
// fattnMockSetCapturing(1) makes every stream report a CUDA graph capture
// (cuStreamIsCapturing) until fattnMockSetCapturing(0).
//
// This checks the runtime's use of the driver API, not the driver.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Mask/Schedule.h"
#include "FlashDialect/Runtime/Elements.h"
#include "FlashDialect/Runtime/Manifest.h"
#include "FlashDialect/Runtime/Reference.h"

#include "ReferenceKernelArgs.h"

// The planning kernel, run as C++ (as PlanKernelEmulationTest runs it).
#include "CudaEmulation.h"

#include "PlanKernel.cu"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

using namespace fattn;
using namespace fattn::runtime;
namespace rk = fattn::runtime::reference_kernel;

namespace {

using CUresult = int;
using CUdeviceptr = unsigned long long;

constexpr CUresult kSuccess = 0;
constexpr CUresult kInvalidValue = 1;
constexpr CUresult kNoDevice = 100;
constexpr CUresult kInvalidPtx = 218;
constexpr CUresult kNotFound = 500;
constexpr CUresult kIllegalAddress = 700;

struct Function {
  std::string name;
  std::vector<size_t> paramSizes;
  int maxDynamicShared = 48 * 1024; // as cuFuncSetAttribute set it
};

struct Module {
  std::vector<Function> functions;
};

struct State {
  std::mutex mutex;
  std::map<CUdeviceptr, size_t> allocations;
  int contextToken = 0;
  void *current = nullptr;
  CUresult sticky = kSuccess; // a faulted kernel poisons the context
  bool capturing = false;
};

State &state() {
  static State instance;
  return instance;
}

/// ".param .u64 name" is 8 bytes, ".param .align 8 .b8 name[96]" 96.
size_t paramSize(const std::string &declaration) {
  size_t bracket = declaration.find('[');
  if (bracket != std::string::npos)
    return std::strtoull(declaration.c_str() + bracket + 1, nullptr, 10);
  for (const char *type : {".u64", ".b64", ".s64", ".f64"})
    if (declaration.find(type) != std::string::npos)
      return 8;
  return 4;
}

Module *parsePtx(const std::string &ptx) {
  auto *module = new Module();
  size_t pos = 0;
  while ((pos = ptx.find(".entry ", pos)) != std::string::npos) {
    size_t nameBegin = pos + 7;
    size_t open = ptx.find('(', nameBegin);
    size_t close = ptx.find(')', open);
    if (open == std::string::npos || close == std::string::npos)
      break;
    Function function;
    function.name = ptx.substr(nameBegin, open - nameBegin);
    while (!function.name.empty() && function.name.back() == ' ')
      function.name.pop_back();
    std::string params = ptx.substr(open + 1, close - open - 1);
    size_t at = 0;
    while ((at = params.find(".param", at)) != std::string::npos) {
      size_t end = params.find(',', at);
      function.paramSizes.push_back(paramSize(params.substr(at, end - at)));
      at += 6;
    }
    module->functions.push_back(function);
    pos = close;
  }
  return module;
}

template <typename T> T *pointer(CUdeviceptr address) {
  return reinterpret_cast<T *>(static_cast<uintptr_t>(address));
}

/// Inputs of a launch as floats, decoded from the element type.
std::vector<float> decode(CUdeviceptr address, ElementType type,
                          int64_t count) {
  std::vector<float> values(count);
  decodeElements(type, pointer<void>(address), count, values.data());
  return values;
}

CUresult launchReference(unsigned gridX, unsigned gridY, unsigned blockX,
                         unsigned sharedBytes, void **params) {
  const rk::Args &args = *static_cast<const rk::Args *>(params[0]);
  AttentionShape shape{args.numQ, args.numK, args.headsQ, args.headsK,
                       args.headDim};
  // The geometry the kernel relies on: one block per 16 rows and head, 256
  // threads, the shared memory of ReferenceKernelArgs.h.
  if (gridX != (args.numQ + rk::kTileRows - 1) / rk::kTileRows ||
      gridY != unsigned(args.headsQ) || blockX != unsigned(rk::kThreads) ||
      sharedBytes != rk::sharedBytes(args.headDim))
    return kInvalidValue;
  mask::Mask mask;
  const int64_t *slices = pointer<const int64_t>(args.slices);
  for (int64_t i = 0; i < args.numSlices; ++i)
    mask.push_back({slices[5 * i], slices[5 * i + 1], slices[5 * i + 2],
                    slices[5 * i + 3],
                    static_cast<mask::SliceKind>(slices[5 * i + 4])});
  auto type = static_cast<ElementType>(args.dtype);
  std::vector<float> q = decode(args.q, type, shape.qElements());
  std::vector<float> k = decode(args.k, type, shape.kvElements());
  std::vector<float> v = decode(args.v, type, shape.kvElements());
  AttentionParams params2;
  params2.scale = args.scale;
  params2.softcap = args.softcap;
  if (args.naive)
    naiveAttention(mask, shape, params2, type, q.data(), k.data(), v.data(),
                   pointer<float>(args.out), pointer<float>(args.lse));
  else
    referenceAttention(mask, shape, params2, q.data(), k.data(), v.data(),
                       pointer<double>(args.out), pointer<double>(args.lse));
  return kSuccess;
}

CUresult launchPlanner(const Function &f, unsigned gridX, unsigned gridY,
                       unsigned blockX, unsigned sharedBytes, void **params) {
  namespace pk = fattn::runtime::plan_kernel;
  if (gridX != 1 || gridY != 1 || blockX != unsigned(pk::kThreads) ||
      int(sharedBytes) > f.maxDynamicShared)
    return kInvalidValue;
  pk::Args args;
  std::memcpy(&args, params[0], sizeof(args));
  // Scratch in shared memory needs all of it there, as on the device.
  int64_t scratchWords = pk::sharedScratchWords(
      pk::scratchLayout(args.numSlices, args.numQ, args.capSlots,
                        args.capItems),
      args.capSlots);
  if (args.scratchInShared &&
      (scratchWords == 0 || int64_t(sharedBytes) < 4 * scratchWords))
    return kInvalidValue;
  // Exactly as large as asked, and garbage: nothing may read it unwritten.
  std::vector<double> shared((sharedBytes + 7) / sizeof(double));
  if (!shared.empty()) // (memset of a null pointer is undefined)
    std::memset(shared.data(), 0x5a, shared.size() * sizeof(double));
  emulation::runBlock(0, 0, int(blockX), shared.data(),
                      [&] { pk::fattn_plan_ranges(args); });
  return kSuccess;
}

/// mock_runtime: what a run-time-mask kernel receives, read the way the
/// kernel reads it (by the manifest's parameter names).
CUresult launchRuntime(const KernelManifest &manifest, unsigned gridX,
                       unsigned gridY, void **params) {
  auto index = [&](const char *name) {
    for (size_t i = 0; i < manifest.parameters.size(); ++i)
      if (manifest.parameters[i].name == name)
        return i;
    return manifest.parameters.size();
  };
  auto buffer = [&](const char *name) {
    return *static_cast<CUdeviceptr *>(params[index(name)]);
  };
  auto scalar = [&](const char *name) {
    return int64_t(*static_cast<int32_t *>(params[index(name)]));
  };
  auto floatScalar = [&](const char *name) {
    return double(*static_cast<float *>(params[index(name)]));
  };
  AttentionShape shape = manifest.shape;
  AttentionParams attention = manifest.params;
  shape.numQ = scalar("num_q");
  shape.numK = scalar("num_k");
  if (shape.headsQ == kDynamicExtent) {
    shape.headsQ = scalar(call_param::kHeadsQ);
    shape.headsK = scalar(call_param::kHeadsK);
  }
  if (attention.scale == kCallParam)
    attention.scale = floatScalar(call_param::kScale);
  if (attention.softcap == kCallParam)
    attention.softcap = floatScalar(call_param::kSoftcap);
  int64_t slots = scalar("num_slots");
  if (int64_t(gridY) != slots || int64_t(gridX) != shape.headsQ)
    return kInvalidValue;
  using T = mask::KernelScheduleTables;
  const int32_t *slotTable = pointer<const int32_t>(buffer("slots"));
  const int32_t *itemSlices = pointer<const int32_t>(buffer("item_slices"));
  const int32_t *sliceTable = pointer<const int32_t>(buffer("slices"));
  std::vector<int> rowSlots(size_t(shape.numQ), 0);
  std::vector<int32_t> used;
  for (int64_t slot = 0; slot < slots; ++slot) {
    const int32_t *record = slotTable + slot * T::kSlotFields;
    for (int32_t row = record[T::FirstRow]; row < record[T::RowEnd]; ++row)
      if (row < 0 || row >= shape.numQ || rowSlots[size_t(row)]++)
        return kInvalidValue;
    for (int32_t item = record[T::ItemsBegin]; item < record[T::ItemsEnd];
         ++item)
      used.push_back(itemSlices[item]);
  }
  int64_t covered = std::count(rowSlots.begin(), rowSlots.end(), 1);
  if (covered == 0 && used.empty())
    return kSuccess; // a class the GPU planner did not choose
  if (covered != shape.numQ)
    return kInvalidValue;
  std::sort(used.begin(), used.end());
  used.erase(std::unique(used.begin(), used.end()), used.end());
  mask::Mask attended;
  for (int32_t slice : used) {
    const int32_t *s = sliceTable + size_t(slice) * mask::kSliceFields;
    attended.push_back(
        {s[0], s[1], s[2], s[3], static_cast<mask::SliceKind>(s[4])});
  }
  ElementType type = manifest.dtype;
  std::vector<float> q = decode(buffer("q"), type, shape.qElements());
  std::vector<float> k = decode(buffer("k"), type, shape.kvElements());
  std::vector<float> v = decode(buffer("v"), type, shape.kvElements());
  std::vector<float> out(shape.qElements()), lse(shape.lseElements());
  naiveAttention(attended, shape, attention, type, q.data(), k.data(),
                 v.data(), out.data(), lse.data());
  std::vector<uint8_t> bytes = encodeElements(type, out.data(), out.size());
  std::memcpy(pointer<void>(buffer("out")), bytes.data(), bytes.size());
  std::memcpy(pointer<void>(buffer("lse")), lse.data(),
              sizeof(float) * lse.size());
  return kSuccess;
}

CUresult launchCompiled(const Function &function, unsigned gridX,
                        unsigned gridY, void **params) {
  const char *path = std::getenv("FATTN_MOCK_MANIFEST");
  if (!path)
    return kInvalidValue;
  std::optional<KernelManifest> manifest = readManifest(path, nullptr);
  if (!manifest)
    return kInvalidValue;
  if (function.name == "mock_fault") {
    state().sticky = kIllegalAddress;
    return kSuccess; // faults surface later, as on a GPU
  }
  if (function.name.rfind("mock_runtime", 0) == 0)
    return launchRuntime(*manifest, gridX, gridY, params);
  const AttentionShape &shape = manifest->shape;
  CUdeviceptr buffers[5];
  for (int i = 0; i < 5; ++i)
    buffers[i] = *static_cast<CUdeviceptr *>(params[i]);
  ElementType type = manifest->dtype;
  std::vector<float> q = decode(buffers[0], type, shape.qElements());
  std::vector<float> k = decode(buffers[1], type, shape.kvElements());
  std::vector<float> v = decode(buffers[2], type, shape.kvElements());
  std::vector<float> out(shape.qElements()), lse(shape.lseElements());
  naiveAttention(manifest->mask, shape, manifest->params, type, q.data(),
                 k.data(), v.data(), out.data(), lse.data());
  if (function.name == "mock_bad")
    for (float &value : out)
      value += 0.25f;
  int64_t rows = shape.numQ;
  if (function.name == "mock_unwritten")
    --rows; // the last query row keeps whatever was there
  std::vector<uint8_t> bytes = encodeElements(type, out.data(), out.size());
  size_t rowBytes = bytes.size() / shape.numQ;
  std::memcpy(pointer<void>(buffers[3]), bytes.data(), rowBytes * rows);
  std::memcpy(pointer<void>(buffers[4]), lse.data(),
              sizeof(float) * shape.headsQ * rows);
  return kSuccess;
}

} // namespace

extern "C" {

CUresult cuInit(unsigned) {
  const char *noDevice = std::getenv("FATTN_MOCK_NO_DEVICE");
  return noDevice && noDevice[0] == '1' ? kNoDevice : kSuccess;
}
CUresult cuDriverGetVersion(int *version) {
  *version = 13000;
  return kSuccess;
}
CUresult cuDeviceGet(int *device, int ordinal) {
  *device = ordinal;
  return ordinal == 0 ? kSuccess : kInvalidValue;
}
CUresult cuDeviceGetCount(int *count) {
  *count = 1;
  return kSuccess;
}
CUresult cuDeviceGetAttribute(int *value, int attribute, int) {
  switch (attribute) {
  case 16: // multiprocessors
    *value = 132;
    return kSuccess;
  case 38: // L2 bytes
    *value = 1 << 20;
    return kSuccess;
  case 75:
    *value = 9;
    return kSuccess;
  case 76:
    *value = 0;
    return kSuccess;
  case 97: // opt-in shared memory per block
    *value = 232448;
    return kSuccess;
  }
  return kInvalidValue;
}
CUresult cuDeviceGetName(char *name, int length, int) {
  std::snprintf(name, length, "Mock GPU");
  return kSuccess;
}
CUresult cuDevicePrimaryCtxRetain(void **context, int) {
  *context = &state().contextToken;
  return kSuccess;
}
CUresult cuDevicePrimaryCtxRelease_v2(int) { return kSuccess; }
CUresult cuCtxGetCurrent(void **context) {
  *context = state().current;
  return kSuccess;
}
CUresult cuCtxSetCurrent(void *context) {
  state().current = context;
  return kSuccess;
}
CUresult cuCtxPushCurrent_v2(void *context) {
  state().current = context;
  return kSuccess;
}
CUresult cuCtxPopCurrent_v2(void **context) {
  if (context)
    *context = state().current;
  state().current = nullptr;
  return kSuccess;
}
CUresult cuCtxGetDevice(int *device) {
  *device = 0;
  return kSuccess;
}
CUresult cuCtxSynchronize() { return state().sticky; }

// The JIT's error log is the option pair (5, 6); see CudaDriver.h.
CUresult cuModuleLoadDataEx(void **module, const void *image,
                            unsigned numOptions, int *options, void **values) {
  std::string ptx = static_cast<const char *>(image);
  if (ptx.find("mock_invalid_ptx") != std::string::npos) {
    for (unsigned i = 0; i < numOptions; ++i)
      if (options[i] == 5)
        std::snprintf(static_cast<char *>(values[i]), 256,
                      "ptxas fatal   : mock syntax error\n");
    return kInvalidPtx;
  }
  *module = parsePtx(ptx);
  return kSuccess;
}
CUresult cuModuleUnload(void *module) {
  delete static_cast<Module *>(module);
  return kSuccess;
}
CUresult cuModuleGetFunction(void **function, void *module, const char *name) {
  for (Function &candidate : static_cast<Module *>(module)->functions)
    if (candidate.name == name) {
      *function = &candidate;
      return kSuccess;
    }
  return kNotFound;
}
CUresult cuFuncSetAttribute(void *function, int attribute, int value) {
  if (attribute != 8 || value > 232448)
    return kInvalidValue;
  static_cast<Function *>(function)->maxDynamicShared = value;
  return kSuccess;
}
CUresult cuFuncGetAttribute(int *value, int attribute, void *) {
  switch (attribute) {
  case 0:
    *value = 1024;
    return kSuccess;
  case 1:
  case 3:
    *value = 0;
    return kSuccess;
  case 4:
    *value = 64;
    return kSuccess;
  }
  return kInvalidValue;
}
CUresult cuFuncGetParamInfo(void *function, size_t index, size_t *offset,
                            size_t *size) {
  const Function &f = *static_cast<Function *>(function);
  if (index >= f.paramSizes.size())
    return kInvalidValue;
  *offset = 0;
  for (size_t i = 0; i < index; ++i)
    *offset += f.paramSizes[i];
  *size = f.paramSizes[index];
  return kSuccess;
}
CUresult cuMemAlloc_v2(CUdeviceptr *address, size_t bytes) {
  if (bytes == 0)
    return kInvalidValue;
  void *memory = std::malloc(bytes);
  if (!memory)
    return 2; // CUDA_ERROR_OUT_OF_MEMORY
  *address = reinterpret_cast<uintptr_t>(memory);
  std::lock_guard<std::mutex> lock(state().mutex);
  state().allocations[*address] = bytes;
  return kSuccess;
}
CUresult cuMemFree_v2(CUdeviceptr address) {
  std::lock_guard<std::mutex> lock(state().mutex);
  if (!state().allocations.erase(address))
    return kInvalidValue;
  std::free(pointer<void>(address));
  return kSuccess;
}
CUresult cuMemGetAddressRange_v2(CUdeviceptr *base, size_t *size,
                                 CUdeviceptr address) {
  std::lock_guard<std::mutex> lock(state().mutex);
  auto it = state().allocations.upper_bound(address);
  if (it == state().allocations.begin())
    return kNotFound;
  --it;
  if (address >= it->first + it->second)
    return kNotFound;
  *base = it->first;
  *size = it->second;
  return kSuccess;
}
CUresult cuMemcpyHtoD_v2(CUdeviceptr destination, const void *source,
                         size_t bytes) {
  std::memcpy(pointer<void>(destination), source, bytes);
  return state().sticky;
}
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr destination, const void *source,
                              size_t bytes, void *) {
  return cuMemcpyHtoD_v2(destination, source, bytes);
}
CUresult cuMemcpyDtoH_v2(void *destination, CUdeviceptr source, size_t bytes) {
  std::memcpy(destination, pointer<void>(source), bytes);
  return state().sticky;
}
CUresult cuMemsetD8_v2(CUdeviceptr destination, unsigned char value,
                       size_t count) {
  std::memset(pointer<void>(destination), value, count);
  return state().sticky;
}
CUresult cuMemsetD8Async(CUdeviceptr destination, unsigned char value,
                         size_t count, void *) {
  return cuMemsetD8_v2(destination, value, count);
}
CUresult cuLaunchKernel(void *function, unsigned gridX, unsigned gridY,
                        unsigned, unsigned blockX, unsigned, unsigned,
                        unsigned sharedBytes, void *, void **params, void **) {
  if (state().sticky)
    return state().sticky;
  const Function &f = *static_cast<Function *>(function);
  if (f.name == rk::kEntryName)
    return launchReference(gridX, gridY, blockX, sharedBytes, params);
  if (f.name == "fattn_plan_ranges")
    return launchPlanner(f, gridX, gridY, blockX, sharedBytes, params);
  return launchCompiled(f, gridX, gridY, params);
}
CUresult cuStreamCreate(void **stream, unsigned) {
  *stream = new int(0);
  return kSuccess;
}
CUresult cuStreamDestroy_v2(void *stream) {
  delete static_cast<int *>(stream);
  return kSuccess;
}
CUresult cuStreamSynchronize(void *) {
  // Waiting for a capturing stream invalidates the capture.
  return state().capturing ? 900 : state().sticky;
}
CUresult cuStreamIsCapturing(void *, int *status) {
  *status = state().capturing ? 1 : 0;
  return kSuccess;
}
void fattnMockSetCapturing(int capturing) { state().capturing = capturing; }
CUresult cuEventCreate(void **event, unsigned) {
  *event = new std::chrono::steady_clock::time_point();
  return kSuccess;
}
CUresult cuEventRecord(void *event, void *) {
  *static_cast<std::chrono::steady_clock::time_point *>(event) =
      std::chrono::steady_clock::now();
  return state().sticky;
}
CUresult cuEventSynchronize(void *) { return state().sticky; }
CUresult cuEventElapsedTime_v2(float *milliseconds, void *start, void *end) {
  using TimePoint = std::chrono::steady_clock::time_point;
  *milliseconds =
      std::chrono::duration<float, std::milli>(*static_cast<TimePoint *>(end) -
                                               *static_cast<TimePoint *>(start))
          .count();
  return kSuccess;
}
CUresult cuEventDestroy_v2(void *event) {
  delete static_cast<std::chrono::steady_clock::time_point *>(event);
  return kSuccess;
}
CUresult cuGetErrorName(CUresult result, const char **name) {
  switch (result) {
  case kSuccess:
    *name = "CUDA_SUCCESS";
    return kSuccess;
  case kInvalidValue:
    *name = "CUDA_ERROR_INVALID_VALUE";
    return kSuccess;
  case kNoDevice:
    *name = "CUDA_ERROR_NO_DEVICE";
    return kSuccess;
  case kInvalidPtx:
    *name = "CUDA_ERROR_INVALID_PTX";
    return kSuccess;
  case kNotFound:
    *name = "CUDA_ERROR_NOT_FOUND";
    return kSuccess;
  case kIllegalAddress:
    *name = "CUDA_ERROR_ILLEGAL_ADDRESS";
    return kSuccess;
  }
  *name = nullptr;
  return kInvalidValue;
}
CUresult cuGetErrorString(CUresult result, const char **text) {
  switch (result) {
  case kNoDevice:
    *text = "no CUDA-capable device is detected";
    return kSuccess;
  case kInvalidPtx:
    *text = "a PTX JIT compilation failed";
    return kSuccess;
  case kIllegalAddress:
    *text = "an illegal memory access was encountered";
    return kSuccess;
  }
  *text = "mock error";
  return kSuccess;
}

} // extern "C"
