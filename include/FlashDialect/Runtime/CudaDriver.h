//===- CudaDriver.h - The CUDA driver API, loaded at run time ---*- C++ -*-===//
//
// The runtime opens libcuda.so.1 with dlopen instead of linking it, so that
// it builds without the CUDA toolkit and its CPU parts (manifests, the CPU
// reference, the tools' error paths) run on machines without a GPU or
// driver. The few driver types and constants it needs are declared here,
// with the values of cuda.h, rather than including cuda.h.
//
// Nothing here throws: every failure is a Status or a nullopt with an error
// string that names the call, the CUDA error name and its description.
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_RUNTIME_CUDADRIVER_H
#define FATTN_RUNTIME_CUDADRIVER_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace fattn::runtime::cuda {

//===----------------------------------------------------------------------===//
// Driver types and constants (values as in cuda.h)
//===----------------------------------------------------------------------===//

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUevent = struct CUevent_st *;

constexpr CUresult kSuccess = 0;
constexpr CUresult kErrorInvalidValue = 1;
constexpr CUresult kErrorNoDevice = 100;
constexpr CUresult kErrorNotFound = 500;

enum JitOption : int {
  kJitInfoLogBuffer = 3,
  kJitInfoLogBufferSizeBytes = 4,
  kJitErrorLogBuffer = 5,
  kJitErrorLogBufferSizeBytes = 6,
  kJitLogVerbose = 12,
};

enum FunctionAttribute : int {
  kFuncMaxThreadsPerBlock = 0,
  kFuncSharedSizeBytes = 1,
  kFuncLocalSizeBytes = 3,
  kFuncNumRegs = 4,
  kFuncMaxDynamicSharedSizeBytes = 8,
};

enum DeviceAttribute : int {
  kDevMultiprocessorCount = 16,
  kDevL2CacheSize = 38,
  kDevComputeCapabilityMajor = 75,
  kDevComputeCapabilityMinor = 76,
  kDevMaxSharedMemoryPerBlockOptin = 97,
};

//===----------------------------------------------------------------------===//
// Status
//===----------------------------------------------------------------------===//

struct Status {
  bool ok = true;
  std::string message; // empty when ok

  static Status success() { return {}; }
  static Status failure(std::string message) {
    return {false, std::move(message)};
  }
  explicit operator bool() const { return ok; }
};

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

/// The entry points the runtime uses, resolved from the driver library. Each
/// is looked up under its newest versioned name first (cuMemAlloc_v2, ...), as
/// cuda.h's macros would pick, then under the plain name. Optional entry
/// points (newer than the oldest driver we support) may be null.
class Driver {
public:
  /// The process-wide driver from libcuda.so.1, loaded on first use. Returns
  /// nullptr and sets `error` ("no CUDA driver (libcuda.so.1 not found:
  /// <dlerror>)", or a missing entry point) when it cannot be loaded; later
  /// calls return the same answer. cuInit is not called here.
  static const Driver *get(std::string *error);

  /// Loads a driver from `libraryName`. Tests use it with a library that
  /// does not exist, to reach the no-driver path on any machine.
  static std::unique_ptr<Driver> load(const char *libraryName,
                                      std::string *error);

  ~Driver();
  Driver(const Driver &) = delete;
  Driver &operator=(const Driver &) = delete;

  /// "CUDA_ERROR_OUT_OF_MEMORY (out of memory)"; "CUDA error 999" when the
  /// driver does not know the code.
  std::string describe(CUresult result) const;
  /// success, or failure("<what>: <describe(result)>").
  Status check(CUresult result, std::string_view what) const;

  // Entry points. Signatures as in cuda.h.
  CUresult (*cuInit)(unsigned flags) = nullptr;
  CUresult (*cuDriverGetVersion)(int *version) = nullptr;
  CUresult (*cuDeviceGet)(CUdevice *device, int ordinal) = nullptr;
  CUresult (*cuDeviceGetCount)(int *count) = nullptr;
  CUresult (*cuDeviceGetAttribute)(int *value, int attribute,
                                   CUdevice device) = nullptr;
  CUresult (*cuDeviceGetName)(char *name, int length,
                              CUdevice device) = nullptr;
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *context,
                                       CUdevice device) = nullptr;
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice device) = nullptr;
  CUresult (*cuCtxGetCurrent)(CUcontext *context) = nullptr;
  CUresult (*cuCtxSetCurrent)(CUcontext context) = nullptr;
  CUresult (*cuCtxPushCurrent)(CUcontext context) = nullptr;
  CUresult (*cuCtxPopCurrent)(CUcontext *context) = nullptr;
  CUresult (*cuCtxGetDevice)(CUdevice *device) = nullptr;
  CUresult (*cuCtxSynchronize)() = nullptr;
  CUresult (*cuModuleLoadDataEx)(CUmodule *module, const void *image,
                                 unsigned numOptions, int *options,
                                 void **optionValues) = nullptr;
  CUresult (*cuModuleUnload)(CUmodule module) = nullptr;
  CUresult (*cuModuleGetFunction)(CUfunction *function, CUmodule module,
                                  const char *name) = nullptr;
  CUresult (*cuFuncSetAttribute)(CUfunction function, int attribute,
                                 int value) = nullptr;
  CUresult (*cuFuncGetAttribute)(int *value, int attribute,
                                 CUfunction function) = nullptr;
  /// Optional (CUDA 12.4+): lets the runtime check a kernel's parameters.
  CUresult (*cuFuncGetParamInfo)(CUfunction function, size_t index,
                                 size_t *offset, size_t *size) = nullptr;
  CUresult (*cuMemAlloc)(CUdeviceptr *pointer, size_t bytes) = nullptr;
  CUresult (*cuMemFree)(CUdeviceptr pointer) = nullptr;
  CUresult (*cuMemGetAddressRange)(CUdeviceptr *base, size_t *size,
                                   CUdeviceptr pointer) = nullptr;
  CUresult (*cuMemcpyHtoD)(CUdeviceptr destination, const void *source,
                           size_t bytes) = nullptr;
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr destination, const void *source,
                                size_t bytes, CUstream stream) = nullptr;
  CUresult (*cuMemcpyDtoH)(void *destination, CUdeviceptr source,
                           size_t bytes) = nullptr;
  CUresult (*cuMemsetD8)(CUdeviceptr destination, unsigned char value,
                         size_t count) = nullptr;
  CUresult (*cuMemsetD8Async)(CUdeviceptr destination, unsigned char value,
                              size_t count, CUstream stream) = nullptr;
  CUresult (*cuLaunchKernel)(CUfunction function, unsigned gridX,
                             unsigned gridY, unsigned gridZ, unsigned blockX,
                             unsigned blockY, unsigned blockZ,
                             unsigned sharedBytes, CUstream stream,
                             void **params, void **extra) = nullptr;
  CUresult (*cuStreamCreate)(CUstream *stream, unsigned flags) = nullptr;
  CUresult (*cuStreamDestroy)(CUstream stream) = nullptr;
  CUresult (*cuStreamSynchronize)(CUstream stream) = nullptr;
  /// Optional (null where the driver lacks it): *status is nonzero while
  /// the stream is capturing a CUDA graph.
  CUresult (*cuStreamIsCapturing)(CUstream stream, int *status) = nullptr;
  CUresult (*cuEventCreate)(CUevent *event, unsigned flags) = nullptr;
  CUresult (*cuEventRecord)(CUevent event, CUstream stream) = nullptr;
  CUresult (*cuEventSynchronize)(CUevent event) = nullptr;
  CUresult (*cuEventElapsedTime)(float *milliseconds, CUevent start,
                                 CUevent end) = nullptr;
  CUresult (*cuEventDestroy)(CUevent event) = nullptr;
  CUresult (*cuGetErrorName)(CUresult result, const char **name) = nullptr;
  CUresult (*cuGetErrorString)(CUresult result, const char **text) = nullptr;

private:
  Driver() = default;
  void *library = nullptr;
};

//===----------------------------------------------------------------------===//
// Context
//===----------------------------------------------------------------------===//

struct DeviceInfo {
  std::string name;
  int ordinal = 0;
  int computeMajor = 0, computeMinor = 0;
  int multiprocessors = 0;
  int l2Bytes = 0;
  int maxSharedPerBlockOptin = 0;
};

/// A CUDA context to work in: the one current on the calling thread if there
/// is one (PyTorch makes the primary context current), else device
/// `ordinal`'s primary context, retained and made current. Calls cuInit.
/// Errors: "no CUDA device (...)" when the driver sees none, "CUDA device N
/// does not exist (M devices)" for a bad ordinal, or the failing call.
class Context {
public:
  static std::optional<Context> acquire(const Driver &driver, int ordinal,
                                        std::string *error);
  ~Context();
  Context(Context &&other) noexcept;
  Context &operator=(Context &&other) noexcept;
  Context(const Context &) = delete;
  Context &operator=(const Context &) = delete;

  CUcontext handle() const { return context; }
  CUdevice device() const { return deviceHandle; }
  const DeviceInfo &info() const { return deviceInfo; }
  const Driver &driver() const { return *drv; }
  /// Whether this object retained the primary context (and releases it).
  bool ownsPrimaryRetain() const { return retained; }

private:
  Context() = default;
  const Driver *drv = nullptr;
  CUcontext context = nullptr;
  CUdevice deviceHandle = 0;
  bool retained = false;
  DeviceInfo deviceInfo;
};

/// Makes `context` current for the scope when another one (or none) is, and
/// restores the caller's afterwards, so that library calls from a thread
/// with some other context current still work in ours.
class ContextScope {
public:
  ContextScope(const Driver &driver, CUcontext context);
  ~ContextScope();
  ContextScope(const ContextScope &) = delete;
  ContextScope &operator=(const ContextScope &) = delete;
  /// Why the context could not be made current, if it could not.
  const Status &status() const { return state; }

private:
  const Driver &driver;
  bool pushed = false;
  Status state;
};

//===----------------------------------------------------------------------===//
// Resources
//===----------------------------------------------------------------------===//

/// Device memory, freed on destruction. Needs a current context.
class DeviceBuffer {
public:
  static std::optional<DeviceBuffer> allocate(const Driver &driver,
                                              size_t bytes, std::string *error);
  DeviceBuffer() = default;
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer &&other) noexcept;
  DeviceBuffer &operator=(DeviceBuffer &&other) noexcept;
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;

  CUdeviceptr pointer() const { return ptr; }
  size_t size() const { return bytes; }

  /// Whole-buffer copies; `count` must equal size().
  Status upload(const void *source, size_t count) const;
  Status download(void *destination, size_t count) const;
  /// Every byte set to `value` (synchronous with respect to the host).
  Status fill(unsigned char value) const;

private:
  const Driver *drv = nullptr;
  CUdeviceptr ptr = 0;
  size_t bytes = 0;
};

/// A module JIT-compiled from PTX, unloaded on destruction.
class Module {
public:
  /// Errors: "PTX failed to load: <CUDA error>: <JIT error log>".
  static std::optional<Module>
  loadPtx(const Driver &driver, std::string_view ptx, std::string *error);
  Module() = default;
  ~Module();
  Module(Module &&other) noexcept;
  Module &operator=(Module &&other) noexcept;
  Module(const Module &) = delete;
  Module &operator=(const Module &) = delete;

  /// Errors: "kernel NAME not found in PTX".
  std::optional<CUfunction> function(const std::string &name,
                                     std::string *error) const;
  CUmodule handle() const { return module; }
  /// What the JIT said while compiling (register use and such).
  const std::string &infoLog() const { return jitInfo; }

private:
  const Driver *drv = nullptr;
  CUmodule module = nullptr;
  std::string jitInfo;
};

class Stream {
public:
  static std::optional<Stream> create(const Driver &driver, std::string *error);
  Stream() = default;
  ~Stream();
  Stream(Stream &&other) noexcept;
  Stream &operator=(Stream &&other) noexcept;
  Stream(const Stream &) = delete;
  Stream &operator=(const Stream &) = delete;

  CUstream handle() const { return stream; }
  Status synchronize() const;

private:
  const Driver *drv = nullptr;
  CUstream stream = nullptr;
};

class Event {
public:
  static std::optional<Event> create(const Driver &driver, std::string *error);
  Event() = default;
  ~Event();
  Event(Event &&other) noexcept;
  Event &operator=(Event &&other) noexcept;
  Event(const Event &) = delete;
  Event &operator=(const Event &) = delete;

  CUevent handle() const { return event; }
  Status record(CUstream stream) const;
  Status synchronize() const;
  /// Milliseconds from `start` to this event; both must have completed.
  std::optional<float> millisecondsSince(const Event &start,
                                         std::string *error) const;

private:
  const Driver *drv = nullptr;
  CUevent event = nullptr;
};

//===----------------------------------------------------------------------===//
// Launch
//===----------------------------------------------------------------------===//

struct LaunchConfig {
  std::array<unsigned, 3> grid = {1, 1, 1};
  std::array<unsigned, 3> block = {1, 1, 1};
  unsigned sharedBytes = 0;
};

/// Raises the function's dynamic shared memory limit when `sharedBytes`
/// exceeds the 48 KiB default, after checking it against the device's
/// opt-in maximum minus the kernel's static shared memory. `kernelName`
/// names the kernel in errors.
Status prepareSharedMemory(const Driver &driver, CUfunction function,
                           const DeviceInfo &device, unsigned sharedBytes,
                           std::string_view kernelName);

/// cuLaunchKernel with the error naming the kernel and its configuration.
/// Launch errors that the driver reports only later (a kernel that faults)
/// surface at the next synchronization.
Status launch(const Driver &driver, CUfunction function,
              const LaunchConfig &config, CUstream stream, void **params,
              std::string_view kernelName);

} // namespace fattn::runtime::cuda

#endif // FATTN_RUNTIME_CUDADRIVER_H
