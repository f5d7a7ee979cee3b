//===- CudaDriver.cpp - The CUDA driver API, loaded at run time -----------===//

#include "FlashDialect/Runtime/CudaDriver.h"

#include <dlfcn.h>

#include <initializer_list>
#include <utility>
#include <vector>

namespace fattn::runtime::cuda {

namespace {

std::nullopt_t fail(std::string *error, std::string message) {
  if (error)
    *error = std::move(message);
  return std::nullopt;
}

/// Looks `names` up in order and stores the first one found into `slot`.
template <typename Function>
bool resolve(void *library, Function &slot,
             std::initializer_list<const char *> names) {
  for (const char *name : names) {
    if (void *symbol = dlsym(library, name)) {
      slot = reinterpret_cast<Function>(symbol);
      return true;
    }
  }
  return false;
}

} // namespace

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

std::unique_ptr<Driver> Driver::load(const char *libraryName,
                                     std::string *error) {
  dlerror(); // a stale message must not be reported for this call
  void *library = dlopen(libraryName, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *reason = dlerror();
    fail(error, std::string("no CUDA driver (") + libraryName + " not found: " +
                    (reason ? reason : "unknown reason") + ")");
    return nullptr;
  }
  std::unique_ptr<Driver> driver(new Driver());
  driver->library = library;

  std::vector<const char *> missing;
  auto required = [&](auto &slot, std::initializer_list<const char *> names) {
    if (!resolve(library, slot, names))
      missing.push_back(*names.begin());
  };
  required(driver->cuInit, {"cuInit"});
  required(driver->cuDriverGetVersion, {"cuDriverGetVersion"});
  required(driver->cuDeviceGet, {"cuDeviceGet"});
  required(driver->cuDeviceGetCount, {"cuDeviceGetCount"});
  required(driver->cuDeviceGetAttribute, {"cuDeviceGetAttribute"});
  required(driver->cuDeviceGetName, {"cuDeviceGetName"});
  required(driver->cuDevicePrimaryCtxRetain, {"cuDevicePrimaryCtxRetain"});
  required(driver->cuDevicePrimaryCtxRelease,
           {"cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease"});
  required(driver->cuCtxGetCurrent, {"cuCtxGetCurrent"});
  required(driver->cuCtxSetCurrent, {"cuCtxSetCurrent"});
  required(driver->cuCtxPushCurrent,
           {"cuCtxPushCurrent_v2", "cuCtxPushCurrent"});
  required(driver->cuCtxPopCurrent, {"cuCtxPopCurrent_v2", "cuCtxPopCurrent"});
  required(driver->cuCtxGetDevice, {"cuCtxGetDevice"});
  required(driver->cuCtxSynchronize, {"cuCtxSynchronize"});
  required(driver->cuModuleLoadDataEx, {"cuModuleLoadDataEx"});
  required(driver->cuModuleUnload, {"cuModuleUnload"});
  required(driver->cuModuleGetFunction, {"cuModuleGetFunction"});
  required(driver->cuFuncSetAttribute, {"cuFuncSetAttribute"});
  required(driver->cuFuncGetAttribute, {"cuFuncGetAttribute"});
  resolve(library, driver->cuFuncGetParamInfo, {"cuFuncGetParamInfo"});
  resolve(library, driver->cuStreamIsCapturing, {"cuStreamIsCapturing"});
  required(driver->cuMemAlloc, {"cuMemAlloc_v2"});
  required(driver->cuMemFree, {"cuMemFree_v2"});
  required(driver->cuMemGetAddressRange, {"cuMemGetAddressRange_v2"});
  required(driver->cuMemcpyHtoD, {"cuMemcpyHtoD_v2"});
  required(driver->cuMemcpyHtoDAsync, {"cuMemcpyHtoDAsync_v2"});
  required(driver->cuMemcpyDtoH, {"cuMemcpyDtoH_v2"});
  required(driver->cuMemsetD8, {"cuMemsetD8_v2"});
  required(driver->cuMemsetD8Async, {"cuMemsetD8Async"});
  required(driver->cuLaunchKernel, {"cuLaunchKernel"});
  required(driver->cuStreamCreate, {"cuStreamCreate"});
  required(driver->cuStreamDestroy, {"cuStreamDestroy_v2", "cuStreamDestroy"});
  required(driver->cuStreamSynchronize, {"cuStreamSynchronize"});
  required(driver->cuEventCreate, {"cuEventCreate"});
  required(driver->cuEventRecord, {"cuEventRecord"});
  required(driver->cuEventSynchronize, {"cuEventSynchronize"});
  required(driver->cuEventElapsedTime,
           {"cuEventElapsedTime_v2", "cuEventElapsedTime"});
  required(driver->cuEventDestroy, {"cuEventDestroy_v2", "cuEventDestroy"});
  required(driver->cuGetErrorName, {"cuGetErrorName"});
  required(driver->cuGetErrorString, {"cuGetErrorString"});

  if (!missing.empty()) {
    std::string names;
    for (const char *name : missing)
      names += std::string(names.empty() ? "" : ", ") + name;
    fail(error, std::string("CUDA driver ") + libraryName +
                    " lacks entry points the runtime needs (" + names +
                    "); the driver is probably too old");
    return nullptr;
  }
  return driver;
}

const Driver *Driver::get(std::string *error) {
  struct Loaded {
    std::unique_ptr<Driver> driver;
    std::string error;
  };
  // Loaded once: a process either has the driver or not, and dlopen is not
  // free.
  static const Loaded loaded = [] {
    Loaded result;
    result.driver = load("libcuda.so.1", &result.error);
    return result;
  }();
  if (!loaded.driver && error)
    *error = loaded.error;
  return loaded.driver.get();
}

Driver::~Driver() {
  if (library)
    dlclose(library);
}

std::string Driver::describe(CUresult result) const {
  const char *name = nullptr, *text = nullptr;
  if (cuGetErrorName(result, &name) != kSuccess || !name)
    return "CUDA error " + std::to_string(result);
  std::string description = name;
  if (cuGetErrorString(result, &text) == kSuccess && text)
    description += std::string(" (") + text + ")";
  return description;
}

Status Driver::check(CUresult result, std::string_view what) const {
  if (result == kSuccess)
    return Status::success();
  return Status::failure(std::string(what) + ": " + describe(result));
}

//===----------------------------------------------------------------------===//
// Context
//===----------------------------------------------------------------------===//

std::optional<Context> Context::acquire(const Driver &driver, int ordinal,
                                        std::string *error) {
  CUresult result = driver.cuInit(0);
  if (result == kErrorNoDevice)
    return fail(error,
                "no CUDA device (cuInit: " + driver.describe(result) + ")");
  if (Status status = driver.check(result, "cuInit"); !status)
    return fail(error, status.message);
  int count = 0;
  if (Status status =
          driver.check(driver.cuDeviceGetCount(&count), "cuDeviceGetCount");
      !status)
    return fail(error, status.message);
  if (count == 0)
    return fail(error, "no CUDA device (the driver sees 0 devices)");

  Context context;
  context.drv = &driver;
  CUcontext current = nullptr;
  if (Status status =
          driver.check(driver.cuCtxGetCurrent(&current), "cuCtxGetCurrent");
      !status)
    return fail(error, status.message);
  if (current) {
    // Someone (PyTorch, the CUDA runtime) already works in a context on this
    // thread: buffers they hand us live there, so we must too.
    context.context = current;
    if (Status status = driver.check(
            driver.cuCtxGetDevice(&context.deviceHandle), "cuCtxGetDevice");
        !status)
      return fail(error, status.message);
  } else {
    if (ordinal < 0 || ordinal >= count)
      return fail(error, "CUDA device " + std::to_string(ordinal) +
                             " does not exist (" + std::to_string(count) +
                             (count == 1 ? " device)" : " devices)"));
    if (Status status = driver.check(
            driver.cuDeviceGet(&context.deviceHandle, ordinal), "cuDeviceGet");
        !status)
      return fail(error, status.message);
    if (Status status =
            driver.check(driver.cuDevicePrimaryCtxRetain(&context.context,
                                                         context.deviceHandle),
                         "cuDevicePrimaryCtxRetain");
        !status)
      return fail(error, status.message);
    context.retained = true;
    if (Status status = driver.check(driver.cuCtxSetCurrent(context.context),
                                     "cuCtxSetCurrent");
        !status)
      return fail(error, status.message);
  }

  DeviceInfo &info = context.deviceInfo;
  info.ordinal = context.deviceHandle;
  char name[256] = {0};
  if (driver.cuDeviceGetName(name, sizeof(name) - 1, context.deviceHandle) ==
      kSuccess)
    info.name = name;
  struct {
    int *value;
    DeviceAttribute attribute;
    const char *what;
  } attributes[] = {
      {&info.computeMajor, kDevComputeCapabilityMajor, "compute capability"},
      {&info.computeMinor, kDevComputeCapabilityMinor, "compute capability"},
      {&info.multiprocessors, kDevMultiprocessorCount, "multiprocessor count"},
      {&info.l2Bytes, kDevL2CacheSize, "L2 size"},
      {&info.maxSharedPerBlockOptin, kDevMaxSharedMemoryPerBlockOptin,
       "shared memory limit"},
  };
  for (auto &attribute : attributes)
    if (Status status = driver.check(
            driver.cuDeviceGetAttribute(attribute.value, attribute.attribute,
                                        context.deviceHandle),
            std::string("cuDeviceGetAttribute(") + attribute.what + ")");
        !status)
      return fail(error, status.message);
  return context;
}

Context::~Context() {
  if (retained && drv)
    drv->cuDevicePrimaryCtxRelease(deviceHandle);
}

Context::Context(Context &&other) noexcept { *this = std::move(other); }

Context &Context::operator=(Context &&other) noexcept {
  if (this != &other) {
    if (retained && drv)
      drv->cuDevicePrimaryCtxRelease(deviceHandle);
    drv = other.drv;
    context = other.context;
    deviceHandle = other.deviceHandle;
    retained = std::exchange(other.retained, false);
    deviceInfo = std::move(other.deviceInfo);
  }
  return *this;
}

ContextScope::ContextScope(const Driver &driver, CUcontext context)
    : driver(driver) {
  CUcontext current = nullptr;
  state = driver.check(driver.cuCtxGetCurrent(&current), "cuCtxGetCurrent");
  if (!state || current == context)
    return;
  state = driver.check(driver.cuCtxPushCurrent(context), "cuCtxPushCurrent");
  pushed = state.ok;
}

ContextScope::~ContextScope() {
  if (pushed) {
    CUcontext popped = nullptr;
    driver.cuCtxPopCurrent(&popped);
  }
}

//===----------------------------------------------------------------------===//
// DeviceBuffer
//===----------------------------------------------------------------------===//

std::optional<DeviceBuffer>
DeviceBuffer::allocate(const Driver &driver, size_t bytes, std::string *error) {
  DeviceBuffer buffer;
  buffer.drv = &driver;
  // cuMemAlloc rejects 0 bytes; an empty tensor is still a valid buffer.
  if (bytes == 0)
    return buffer;
  if (Status status =
          driver.check(driver.cuMemAlloc(&buffer.ptr, bytes),
                       "cuMemAlloc(" + std::to_string(bytes) + " bytes)");
      !status)
    return fail(error, status.message);
  buffer.bytes = bytes;
  return buffer;
}

DeviceBuffer::~DeviceBuffer() {
  if (ptr)
    drv->cuMemFree(ptr);
}

DeviceBuffer::DeviceBuffer(DeviceBuffer &&other) noexcept {
  *this = std::move(other);
}

DeviceBuffer &DeviceBuffer::operator=(DeviceBuffer &&other) noexcept {
  if (this != &other) {
    if (ptr)
      drv->cuMemFree(ptr);
    drv = other.drv;
    ptr = std::exchange(other.ptr, 0);
    bytes = std::exchange(other.bytes, 0);
  }
  return *this;
}

Status DeviceBuffer::upload(const void *source, size_t count) const {
  if (count != bytes)
    return Status::failure("upload of " + std::to_string(count) +
                           " bytes into a buffer of " + std::to_string(bytes));
  if (!bytes)
    return Status::success();
  return drv->check(drv->cuMemcpyHtoD(ptr, source, bytes), "cuMemcpyHtoD");
}

Status DeviceBuffer::download(void *destination, size_t count) const {
  if (count != bytes)
    return Status::failure("download of " + std::to_string(count) +
                           " bytes from a buffer of " + std::to_string(bytes));
  if (!bytes)
    return Status::success();
  return drv->check(drv->cuMemcpyDtoH(destination, ptr, bytes), "cuMemcpyDtoH");
}

Status DeviceBuffer::fill(unsigned char value) const {
  if (!bytes)
    return Status::success();
  return drv->check(drv->cuMemsetD8(ptr, value, bytes), "cuMemsetD8");
}

//===----------------------------------------------------------------------===//
// Module
//===----------------------------------------------------------------------===//

std::optional<Module> Module::loadPtx(const Driver &driver,
                                      std::string_view ptx,
                                      std::string *error) {
  // The driver reads PTX as a NUL-terminated string.
  std::string image(ptx);
  constexpr size_t kLogBytes = 1 << 16;
  std::vector<char> errorLog(kLogBytes, 0), infoLog(kLogBytes, 0);
  int options[] = {kJitErrorLogBuffer, kJitErrorLogBufferSizeBytes,
                   kJitInfoLogBuffer, kJitInfoLogBufferSizeBytes,
                   kJitLogVerbose};
  void *values[] = {errorLog.data(), reinterpret_cast<void *>(kLogBytes - 1),
                    infoLog.data(), reinterpret_cast<void *>(kLogBytes - 1),
                    reinterpret_cast<void *>(uintptr_t(1))};
  Module module;
  module.drv = &driver;
  CUresult result = driver.cuModuleLoadDataEx(
      &module.module, image.c_str(), sizeof(options) / sizeof(options[0]),
      options, values);
  module.jitInfo = infoLog.data();
  if (result != kSuccess) {
    std::string log = errorLog.data();
    while (!log.empty() && (log.back() == '\n' || log.back() == ' '))
      log.pop_back();
    module.module = nullptr;
    return fail(error, "PTX failed to load: " + driver.describe(result) +
                           (log.empty() ? std::string(" (empty JIT log)")
                                        : ": " + log));
  }
  return module;
}

Module::~Module() {
  if (module)
    drv->cuModuleUnload(module);
}

Module::Module(Module &&other) noexcept { *this = std::move(other); }

Module &Module::operator=(Module &&other) noexcept {
  if (this != &other) {
    if (module)
      drv->cuModuleUnload(module);
    drv = other.drv;
    module = std::exchange(other.module, nullptr);
    jitInfo = std::move(other.jitInfo);
  }
  return *this;
}

std::optional<CUfunction> Module::function(const std::string &name,
                                           std::string *error) const {
  CUfunction function = nullptr;
  CUresult result = drv->cuModuleGetFunction(&function, module, name.c_str());
  if (result == kErrorNotFound)
    return fail(error, "kernel " + name + " not found in PTX");
  if (Status status = drv->check(result, "cuModuleGetFunction(" + name + ")");
      !status)
    return fail(error, status.message);
  return function;
}

//===----------------------------------------------------------------------===//
// Stream and Event
//===----------------------------------------------------------------------===//

std::optional<Stream> Stream::create(const Driver &driver, std::string *error) {
  Stream stream;
  stream.drv = &driver;
  if (Status status = driver.check(driver.cuStreamCreate(&stream.stream, 0),
                                   "cuStreamCreate");
      !status)
    return fail(error, status.message);
  return stream;
}

Stream::~Stream() {
  if (stream)
    drv->cuStreamDestroy(stream);
}

Stream::Stream(Stream &&other) noexcept { *this = std::move(other); }

Stream &Stream::operator=(Stream &&other) noexcept {
  if (this != &other) {
    if (stream)
      drv->cuStreamDestroy(stream);
    drv = other.drv;
    stream = std::exchange(other.stream, nullptr);
  }
  return *this;
}

Status Stream::synchronize() const {
  return drv->check(drv->cuStreamSynchronize(stream), "cuStreamSynchronize");
}

std::optional<Event> Event::create(const Driver &driver, std::string *error) {
  Event event;
  event.drv = &driver;
  if (Status status =
          driver.check(driver.cuEventCreate(&event.event, 0), "cuEventCreate");
      !status)
    return fail(error, status.message);
  return event;
}

Event::~Event() {
  if (event)
    drv->cuEventDestroy(event);
}

Event::Event(Event &&other) noexcept { *this = std::move(other); }

Event &Event::operator=(Event &&other) noexcept {
  if (this != &other) {
    if (event)
      drv->cuEventDestroy(event);
    drv = other.drv;
    event = std::exchange(other.event, nullptr);
  }
  return *this;
}

Status Event::record(CUstream stream) const {
  return drv->check(drv->cuEventRecord(event, stream), "cuEventRecord");
}

Status Event::synchronize() const {
  return drv->check(drv->cuEventSynchronize(event), "cuEventSynchronize");
}

std::optional<float> Event::millisecondsSince(const Event &start,
                                              std::string *error) const {
  float milliseconds = 0;
  if (Status status =
          drv->check(drv->cuEventElapsedTime(&milliseconds, start.event, event),
                     "cuEventElapsedTime");
      !status)
    return fail(error, status.message);
  return milliseconds;
}

//===----------------------------------------------------------------------===//
// Launch
//===----------------------------------------------------------------------===//

Status prepareSharedMemory(const Driver &driver, CUfunction function,
                           const DeviceInfo &device, unsigned sharedBytes,
                           std::string_view kernelName) {
  int staticBytes = 0;
  if (Status status =
          driver.check(driver.cuFuncGetAttribute(
                           &staticBytes, kFuncSharedSizeBytes, function),
                       "cuFuncGetAttribute(shared size)");
      !status)
    return status;
  uint64_t total = uint64_t(sharedBytes) + uint64_t(staticBytes);
  if (total > uint64_t(device.maxSharedPerBlockOptin))
    return Status::failure(
        "kernel " + std::string(kernelName) + " needs " +
        std::to_string(sharedBytes) + " bytes of dynamic and " +
        std::to_string(staticBytes) +
        " bytes of static shared memory per block; " + device.name +
        " allows " + std::to_string(device.maxSharedPerBlockOptin));
  // Without opting in, a launch with more than 48 KiB of dynamic shared
  // memory fails with an unhelpful "invalid value".
  constexpr unsigned kDefaultDynamicLimit = 48 * 1024;
  if (sharedBytes > kDefaultDynamicLimit)
    return driver.check(
        driver.cuFuncSetAttribute(function, kFuncMaxDynamicSharedSizeBytes,
                                  int(sharedBytes)),
        "cuFuncSetAttribute(max dynamic shared memory = " +
            std::to_string(sharedBytes) + ") for " + std::string(kernelName));
  return Status::success();
}

Status launch(const Driver &driver, CUfunction function,
              const LaunchConfig &config, CUstream stream, void **params,
              std::string_view kernelName) {
  CUresult result = driver.cuLaunchKernel(
      function, config.grid[0], config.grid[1], config.grid[2], config.block[0],
      config.block[1], config.block[2], config.sharedBytes, stream, params,
      nullptr);
  if (result == kSuccess)
    return Status::success();
  auto dims = [](const std::array<unsigned, 3> &d) {
    return std::to_string(d[0]) + "x" + std::to_string(d[1]) + "x" +
           std::to_string(d[2]);
  };
  std::string where = "launching " + std::string(kernelName) + " (grid " +
                      dims(config.grid) + ", block " + dims(config.block) +
                      ", " + std::to_string(config.sharedBytes) +
                      " bytes of dynamic shared memory)";
  return driver.check(result, where);
}

} // namespace fattn::runtime::cuda
