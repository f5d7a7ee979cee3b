//===- DevicePlanRun.h - fattn-launch --device-plan ---------------*- C++ -*-===//
//
// A run-time call planned by the GPU planner as well as on the host, for the
// tools that check and time kernels: the ranges uploaded as a user's CUDA
// tensors would be, planned on the GPU, every table compared with the host
// plan's (they must be equal word for word), the planner timed, and the
// plan bound in place of the host's so that the check and the timing run
// the kernel on what the GPU planned (spare launch slots included).
//
//===----------------------------------------------------------------------===//

#ifndef FATTN_LIB_RUNTIME_DEVICEPLANRUN_H
#define FATTN_LIB_RUNTIME_DEVICEPLANRUN_H

#include "FlashDialect/Runtime/DevicePlan.h"

namespace fattn::runtime {

struct DevicePlannedCall {
  DevicePlanner planner;
  DevicePlanLayout layout;
  PlannedSchedule view; // the kernel's binding of the device tables
  DeviceRanges ranges;
  std::vector<cuda::DeviceBuffer> rangeBuffers;
  double planMicroseconds = 0; // GPU time per plan, of 20 back to back
};

/// The call's ranges uploaded as a user's int32 tensors and their plan
/// enqueued for the kernel of `schedule` (one item class), a refusal
/// writing NaN into `outputs`; nullopt with `problem` when the host cannot
/// size the call or a CUDA call fails.
std::optional<DevicePlannedCall>
enqueueDevicePlan(const cuda::Context &context, cuda::CUstream stream,
                  const RuntimeSchedule &schedule, const mask::Mask &mask,
                  int64_t numQ, int64_t numK, const RefusedOutputs &outputs,
                  std::string *problem);

/// The same, timed, for a call the host planned as `hostPlan`: nullopt
/// with `problem` set when the planner is unavailable, a CUDA call
/// fails, or the device tables differ from `hostPlan`'s (naming the table
/// and the first differing word).
std::optional<DevicePlannedCall>
planOnDevice(const cuda::Context &context, cuda::CUstream stream,
             const RuntimeSchedule &schedule, const mask::Mask &mask,
             const PlannedSchedule &hostPlan, std::string *problem);

} // namespace fattn::runtime

#endif // FATTN_LIB_RUNTIME_DEVICEPLANRUN_H
