//===- DevicePlanRun.cpp - fattn-launch --device-plan ---------------------===//

#include "DevicePlanRun.h"

#include "FlashDialect/Mask/Schedule.h"

namespace fattn::runtime {

namespace {

/// The call's ranges in device memory, as a user's int32 tensors.
std::optional<std::vector<cuda::DeviceBuffer>>
uploadRanges(const cuda::Driver &driver, const mask::MaskRanges &ranges,
             DeviceRanges &device, std::string *problem) {
  std::vector<cuda::DeviceBuffer> buffers;
  for (const std::vector<int32_t> *values :
       {&ranges.qRanges, &ranges.kRanges, &ranges.kinds}) {
    size_t bytes = std::max<size_t>(values->size() * sizeof(int32_t), 16);
    std::optional<cuda::DeviceBuffer> buffer =
        cuda::DeviceBuffer::allocate(driver, bytes, problem);
    if (!buffer)
      return std::nullopt;
    std::vector<int32_t> padded(*values);
    padded.resize(bytes / sizeof(int32_t), 0);
    if (cuda::Status status = buffer->upload(padded.data(), bytes); !status) {
      *problem = status.message;
      return std::nullopt;
    }
    buffers.push_back(std::move(*buffer));
  }
  device.qRanges = buffers[0].pointer();
  device.kRanges = buffers[1].pointer();
  device.kinds = buffers[2].pointer();
  return buffers;
}

/// Why the device table at `offset` differs from `expected`, or nullopt.
std::optional<std::string> compareTable(const cuda::Driver &driver,
                                        cuda::CUdeviceptr base, size_t offset,
                                        const std::vector<int32_t> &expected,
                                        const char *name) {
  std::vector<int32_t> device(expected.size());
  if (!device.empty())
    if (cuda::Status status = driver.check(
            driver.cuMemcpyDtoH(device.data(), base + offset * sizeof(int32_t),
                                device.size() * sizeof(int32_t)),
            "cuMemcpyDtoH (device plan)");
        !status)
      return status.message;
  for (size_t i = 0; i < device.size(); ++i)
    if (device[i] != expected[i])
      return std::string("the GPU planner's ") + name +
             " table differs from the host plan's at word " +
             std::to_string(i) + ": " + std::to_string(device[i]) +
             " against " + std::to_string(expected[i]);
  return std::nullopt;
}

std::optional<std::string> compareWithHost(const cuda::Driver &driver,
                                           const DevicePlannedCall &call,
                                           const PlannedSchedule &host) {
  using T = mask::KernelScheduleTables;
  auto words = [&](size_t offset, size_t count) {
    return std::vector<int32_t>(host.tables.begin() + offset,
                                host.tables.begin() + offset + count);
  };
  // The host pads its tables; its slots say how many items there are.
  size_t items = 0;
  for (int64_t slot = 0; slot < host.numSlots; ++slot)
    items = std::max(items, size_t(host.tables[host.slots +
                                               slot * T::kSlotFields +
                                               T::ItemsEnd]));
  // What the kernel reads: every launch slot (spare ones empty), every
  // item and slice (the host pads its tables with zeros past them).
  std::vector<int32_t> slots =
      words(host.slots, size_t(host.numSlots) * T::kSlotFields);
  slots.resize(size_t(call.layout.capSlots) * T::kSlotFields, 0);
  struct Table {
    const char *name;
    size_t offset;
    std::vector<int32_t> expected;
  } tables[] = {
      {"slots", call.view.slots, slots},
      {"items", call.view.items, words(host.items, items * T::kItemFields)},
      {"item_slices", call.view.itemSlices, words(host.itemSlices, items)},
      {"slices", call.view.slices,
       words(host.slices, size_t(call.layout.count) * mask::kSliceFields)}};
  for (const Table &t : tables)
    if (std::optional<std::string> problem = compareTable(
            driver, call.planner.pointer(), t.offset, t.expected, t.name))
      return problem;
  return std::nullopt;
}

/// GPU microseconds per plan, over 20 plans back to back.
std::optional<double> timePlans(const cuda::Driver &driver,
                                DevicePlannedCall &call,
                                const DeviceRanges &ranges,
                                cuda::CUstream stream, std::string *problem) {
  std::optional<cuda::Event> start = cuda::Event::create(driver, problem);
  std::optional<cuda::Event> stop = cuda::Event::create(driver, problem);
  if (!start || !stop)
    return std::nullopt;
  constexpr int kPlans = 20;
  cuda::Status status = start->record(stream);
  for (int i = 0; status && i < kPlans; ++i)
    status = call.planner.enqueue(call.layout, ranges, {}, stream);
  if (status)
    status = stop->record(stream);
  if (status)
    status = stop->synchronize();
  if (!status) {
    *problem = status.message;
    return std::nullopt;
  }
  std::optional<float> elapsed = stop->millisecondsSince(*start, problem);
  if (!elapsed)
    return std::nullopt;
  return double(*elapsed) * 1e3 / kPlans;
}

} // namespace

std::optional<DevicePlannedCall>
enqueueDevicePlan(const cuda::Context &context, cuda::CUstream stream,
                  const RuntimeSchedule &schedule, const mask::Mask &mask,
                  int64_t numQ, int64_t numK, const RefusedOutputs &outputs,
                  std::string *problem) {
  const cuda::Driver &driver = context.driver();
  DeviceRanges ranges;
  ranges.count = int64_t(mask.size());
  ranges.numQ = numQ;
  ranges.numK = numK;
  std::optional<std::vector<cuda::DeviceBuffer>> buffers =
      uploadRanges(driver, mask::rangesOfMask(mask), ranges, problem);
  if (!buffers)
    return std::nullopt;
  std::optional<DevicePlanLayout> layout =
      layoutDevicePlan({schedule}, ranges, problem);
  if (!layout)
    return std::nullopt;
  std::optional<DevicePlanner> planner = DevicePlanner::load(context, problem);
  if (!planner)
    return std::nullopt;
  DevicePlannedCall call{std::move(*planner), *layout, layout->viewOf(0),
                         ranges, std::move(*buffers), 0};
  if (cuda::Status status =
          call.planner.enqueue(call.layout, call.ranges, outputs, stream);
      !status) {
    *problem = status.message;
    return std::nullopt;
  }
  return call;
}

std::optional<DevicePlannedCall>
planOnDevice(const cuda::Context &context, cuda::CUstream stream,
             const RuntimeSchedule &schedule, const mask::Mask &mask,
             const PlannedSchedule &hostPlan, std::string *problem) {
  std::optional<DevicePlannedCall> call =
      enqueueDevicePlan(context, stream, schedule, mask, hostPlan.numQ,
                        hostPlan.numK, {}, problem);
  if (!call)
    return std::nullopt;
  const cuda::Driver &driver = context.driver();
  std::optional<double> microseconds =
      timePlans(driver, *call, call->ranges, stream, problem);
  if (!microseconds)
    return std::nullopt;
  call->planMicroseconds = *microseconds;
  std::string cudaError;
  if (std::optional<std::string> refused =
          call->planner.lastProblem(&cudaError)) {
    *problem = "the GPU planner refused a call the host planned: " + *refused;
    return std::nullopt;
  }
  if (!cudaError.empty()) {
    *problem = cudaError;
    return std::nullopt;
  }
  if (std::optional<std::string> differs =
          compareWithHost(driver, *call, hostPlan)) {
    *problem = *differs;
    return std::nullopt;
  }
  return call;
}

} // namespace fattn::runtime
