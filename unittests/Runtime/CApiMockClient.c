/*===- CApiMockClient.c - A C caller of libfattn_runtime.so --------------===*\
|*                                                                            *|
|* Written in C to prove the header is C. Run by FattnLaunchTest with the     *|
|* mock driver (MockCuda.cpp) on LD_LIBRARY_PATH:                             *|
|*                                                                            *|
|*   capi-mock-client MANIFEST EXPECTED_LOAD_STATUS                           *|
|*                                                                            *|
|* Loads MANIFEST and checks the status. When it is 0 (success), it also     *|
|* reads the info and slices, launches on buffers from the mock's            *|
|* cuMemAlloc_v2, and checks the argument errors of fattn_kernel_launch; a   *|
|* kernel with a run-time mask is planned and launched on a call of its own  *|
|* (fattn_kernel_plan_ranges, fattn_kernel_launch_ranges) instead.           *|
|* Prints one line per step; exits 0 when every step went as expected.       *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "FlashDialect/Runtime/fattn_runtime.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*MemAlloc)(unsigned long long *, size_t);
typedef int (*MemFree)(unsigned long long);

static int failures = 0;

static void expect(int ok, const char *what) {
  printf("%s: %s\n", ok ? "ok" : "FAILED", what);
  if (!ok)
    ++failures;
}

static void *allocate(MemAlloc memAlloc, size_t bytes) {
  unsigned long long address = 0;
  if (memAlloc(&address, bytes) != 0)
    return NULL;
  return (void *)(size_t)address;
}

/* A call's q, k, v (every element 0.5 in bf16), out (poisoned) and lse in
   (mock) device memory. */
typedef struct {
  unsigned short *q, *k, *v, *out;
  float *lse;
  size_t rowQ;
} CallBuffers;

static CallBuffers callBuffers(const fattn_kernel_info_t *info,
                               MemAlloc memAlloc, int64_t numQ, int64_t numK) {
  CallBuffers b;
  b.rowQ = (size_t)(info->heads_q * info->head_dim) * 2;
  size_t rowK = (size_t)(info->heads_k * info->head_dim) * 2;
  b.q = allocate(memAlloc, b.rowQ * numQ);
  b.k = allocate(memAlloc, rowK * numK);
  b.v = allocate(memAlloc, rowK * numK);
  b.out = allocate(memAlloc, b.rowQ * numQ);
  b.lse = allocate(memAlloc, sizeof(float) * info->heads_q * numQ);
  for (size_t i = 0; i < b.rowQ * numQ / 2; ++i)
    b.q[i] = 0x3f00;
  for (size_t i = 0; i < rowK * numK / 2; ++i)
    b.k[i] = b.v[i] = 0x3f00;
  memset(b.out, 0xff, b.rowQ * numQ);
  return b;
}

/* A run-time-mask kernel (heads and head dim from INFO) on 70 queries and
   90 keys: a causal and a full slice, then the errors a caller can make. */
static void runtimeCall(fattn_kernel *kernel, const fattn_kernel_info_t *info,
                        MemAlloc memAlloc, MemFree memFree) {
  const int64_t numQ = 70, numK = 90;
  const int32_t qRanges[] = {0, 40, 40, 60}, kRanges[] = {0, 60, 20, 90};
  const int32_t kinds[] = {1, 0};
  int64_t bytes = -1, slots = -1, items = -1;
  fattn_status status = fattn_kernel_plan_ranges(
      kernel, qRanges, kRanges, kinds, 2, numQ, numK, &bytes, &slots, &items);
  printf("plan: %s slots=%lld items=%lld bytes=%lld\n",
         fattn_status_name(status), (long long)slots, (long long)items,
         (long long)bytes);
  expect(status == FATTN_STATUS_SUCCESS && slots > 0 && bytes > 0, "plan");
  CallBuffers b = callBuffers(info, memAlloc, numQ, numK);
  unsigned short *q = b.q, *k = b.k, *v = b.v, *out = b.out;
  float *lse = b.lse;
  const int64_t hq = info->heads_q, hk = info->heads_k;
  status = fattn_kernel_launch_ranges(kernel, q, k, v, out, lse, qRanges,
                                      kRanges, kinds, 2, numQ, numK, hq, hk,
                                      info->scale, 0, NULL);
  expect(status == FATTN_STATUS_SUCCESS, "launch ranges");
  expect(out[0] == 0x3f00 && !isnan(lse[0]), "outputs written");

  const int32_t reversed[] = {0, 40, 60, 40};
  status = fattn_kernel_launch_ranges(kernel, q, k, v, out, lse, reversed,
                                      kRanges, kinds, 2, numQ, numK, hq, hk,
                                      0, 0, NULL);
  printf("reversed: %s: %s\n", fattn_status_name(status), fattn_last_error());
  expect(status == FATTN_STATUS_BAD_ARGUMENT &&
             strstr(fattn_last_error(), "slice 1: q range [60, 40) is "
                                        "reversed"),
         "reversed range rejected");
  status = fattn_kernel_launch_ranges(kernel, q, k, v, out, lse, NULL,
                                      kRanges, kinds, 2, numQ, numK, hq, hk,
                                      0, 0, NULL);
  expect(status == FATTN_STATUS_NULL_POINTER, "null ranges rejected");
  /* The kernel fixes its heads, scale and softcap: other values are
     refused, naming both. */
  status = fattn_kernel_launch_ranges(kernel, q, k, v, out, lse, qRanges,
                                      kRanges, kinds, 2, numQ, numK, 2 * hq,
                                      hk, info->scale, 0, NULL);
  expect(status == FATTN_STATUS_BAD_ARGUMENT &&
             strstr(fattn_last_error(), "query heads; the call has"),
         "other heads rejected");
  status = fattn_kernel_launch_ranges(kernel, q, k, v, out, lse, qRanges,
                                      kRanges, kinds, 2, numQ, numK, hq, hk,
                                      info->scale, 30, NULL);
  expect(status == FATTN_STATUS_BAD_ARGUMENT &&
             strstr(fattn_last_error(), "without a softcap; the call has 30"),
         "a softcap on a kernel without one rejected");
  status = fattn_kernel_launch(kernel, q, k, v, out, lse, NULL);
  expect(status == FATTN_STATUS_BAD_ARGUMENT &&
             strstr(fattn_last_error(), "takes its mask at run time"),
         "launch without a mask rejected");
  void *raw[12] = {q, k, v, out, lse, q, q, q, q, (void *)70, (void *)90,
                   (void *)1000};
  status = fattn_kernel_launch_params(kernel, raw, 12, NULL);
  expect(status == FATTN_STATUS_BAD_ARGUMENT &&
             strstr(fattn_last_error(), "use fattn_kernel_launch_ranges"),
         "raw parameters rejected");
  void *buffers[] = {q, k, v, out, lse};
  for (size_t i = 0; memFree && i < sizeof(buffers) / sizeof(buffers[0]); ++i)
    if (buffers[i])
      memFree((unsigned long long)(size_t)buffers[i]);
}

/* Under a (mock) CUDA graph capture: a call needing a larger plan buffer
   is refused before anything is enqueued, one that fits is launched, and
   the status is not waited for. */
static void captureCall(fattn_kernel *kernel, const fattn_kernel_info_t *info,
                        const CallBuffers *b, MemAlloc memAlloc,
                        MemFree memFree) {
  void *driver = dlopen("libcuda.so.1", RTLD_NOW);
  void (*setCapturing)(int) =
      driver ? (void (*)(int))dlsym(driver, "fattnMockSetCapturing") : NULL;
  if (!setCapturing) {
    printf("FAILED: no fattnMockSetCapturing in the mock driver\n");
    ++failures;
    return;
  }
  const int32_t qRanges[] = {0, 40, 40, 60, 60, 70};
  const int32_t kRanges[] = {0, 60, 20, 90, 0, 90};
  int32_t *deviceQ = allocate(memAlloc, sizeof(qRanges));
  int32_t *deviceK = allocate(memAlloc, sizeof(kRanges));
  memcpy(deviceQ, qRanges, sizeof(qRanges));
  memcpy(deviceK, kRanges, sizeof(kRanges));
  fattn_kernel *kernels[] = {kernel};
  const int64_t hq = info->heads_q, hk = info->heads_k;
  fattn_device_mask_t larger = {deviceQ, deviceK, NULL, NULL, NULL, 0, 3};
  fattn_device_mask_t fits = {deviceQ, deviceK, NULL, NULL, NULL, 0, 2};
  setCapturing(1);
  fattn_status status = fattn_kernels_launch_device_ranges(
      kernels, 1, b->q, b->k, b->v, b->out, b->lse, &larger, 70, 90, hq, hk,
      info->scale, 0, NULL);
  printf("capture, larger: %s: %s\n", fattn_status_name(status),
         fattn_last_error());
  expect(status == FATTN_STATUS_LAUNCH_FAILED &&
             strstr(fattn_last_error(), "captures a CUDA graph"),
         "a buffer that must grow is refused under a capture");
  status = fattn_kernels_launch_device_ranges(kernels, 1, b->q, b->k, b->v,
                                              b->out, b->lse, &fits, 70, 90,
                                              hq, hk, info->scale, 0, NULL);
  expect(status == FATTN_STATUS_SUCCESS, "a call that fits is captured");
  status = fattn_kernel_device_plan_status(kernel);
  expect(status == FATTN_STATUS_CUDA_ERROR &&
             strstr(fattn_last_error(), "capturing a CUDA graph"),
         "the status is not waited for under a capture");
  setCapturing(0);
  expect(fattn_kernel_device_plan_status(kernel) == FATTN_STATUS_SUCCESS,
         "the captured plan's status after the capture");
  status = fattn_kernels_launch_device_ranges(kernels, 1, b->q, b->k, b->v,
                                              b->out, b->lse, &larger, 70, 90,
                                              hq, hk, info->scale, 0, NULL);
  expect(status == FATTN_STATUS_SUCCESS &&
             fattn_kernel_device_plan_status(kernel) == FATTN_STATUS_SUCCESS,
         "the larger call after the capture");
  memFree((unsigned long long)(size_t)deviceQ);
  memFree((unsigned long long)(size_t)deviceK);
}

/* The same call with its ranges in (mock) device memory, planned by the
   GPU planner (run on the host by the mock): planned and launched, then a
   reversed range, refused on the "GPU" (NaN outputs, the reason from the
   status), then the errors the host catches before anything is enqueued. */
static void deviceCall(fattn_kernel *kernel, const fattn_kernel_info_t *info,
                       MemAlloc memAlloc, MemFree memFree) {
  const int64_t numQ = 70, numK = 90;
  const int32_t qRanges[] = {0, 40, 40, 60}, kRanges[] = {0, 60, 20, 90};
  const int32_t kinds[] = {1, 0};
  int32_t *deviceQ = allocate(memAlloc, sizeof(qRanges));
  int32_t *deviceK = allocate(memAlloc, sizeof(kRanges));
  int32_t *deviceKinds = allocate(memAlloc, sizeof(kinds));
  memcpy(deviceQ, qRanges, sizeof(qRanges));
  memcpy(deviceK, kRanges, sizeof(kRanges));
  memcpy(deviceKinds, kinds, sizeof(kinds));
  CallBuffers b = callBuffers(info, memAlloc, numQ, numK);
  unsigned short *q = b.q, *k = b.k, *v = b.v, *out = b.out;
  float *lse = b.lse;
  size_t rowQ = b.rowQ;
  const int64_t hq = info->heads_q, hk = info->heads_k;
  fattn_device_mask_t mask = {deviceQ, deviceK, deviceKinds, NULL, NULL, 0, 2};
  fattn_kernel *kernels[] = {kernel};
  fattn_status status = fattn_kernels_launch_device_ranges(
      kernels, 1, q, k, v, out, lse, &mask, numQ, numK, hq, hk, info->scale,
      0, NULL);
  if (status == FATTN_STATUS_UNSUPPORTED) {
    printf("device: unsupported: %s\n", fattn_last_error());
    return;
  }
  expect(status == FATTN_STATUS_SUCCESS, "device launch");
  expect(fattn_kernel_device_plan_status(kernel) == FATTN_STATUS_SUCCESS,
         "device plan planned");
  expect(out[0] == 0x3f00 && !isnan(lse[0]), "device outputs written");

  deviceQ[2] = 60; /* slice 1: [60, 40) */
  deviceQ[3] = 40;
  status = fattn_kernels_launch_device_ranges(kernels, 1, q, k, v, out, lse,
                                              &mask, numQ, numK, hq, hk,
                                              info->scale, 0, NULL);
  expect(status == FATTN_STATUS_SUCCESS, "device launch of bad ranges");
  status = fattn_kernel_device_plan_status(kernel);
  printf("device reversed: %s: %s\n", fattn_status_name(status),
         fattn_last_error());
  expect(status == FATTN_STATUS_BAD_ARGUMENT &&
             strstr(fattn_last_error(), "slice 1: q range [60, 40) is "
                                        "reversed"),
         "device refusal named");
  expect(isnan(lse[0]) && isnan(lse[hq * numQ - 1]) && out[0] == 0x7fc0 &&
             out[rowQ * numQ / 2 - 1] == 0x7fc0,
         "device refusal leaves NaN");

  /* Caught on the host, before anything is enqueued: lse too small for
     the call (the kernel's buffer checks run before the planner). */
  float *shortLse = allocate(memAlloc, sizeof(float));
  deviceQ[2] = 40;
  deviceQ[3] = 60;
  status = fattn_kernels_launch_device_ranges(kernels, 1, q, k, v, out,
                                              shortLse, &mask, numQ, numK, hq,
                                              hk, info->scale, 0, NULL);
  printf("device short lse: %s: %s\n", fattn_status_name(status),
         fattn_last_error());
  expect(status == FATTN_STATUS_BAD_ARGUMENT &&
             strstr(fattn_last_error(), "lse"),
         "short lse refused");
  expect(fattn_kernel_device_plan_status(kernel) == FATTN_STATUS_BAD_ARGUMENT,
         "the refused launch enqueued no plan (the last one stands)");
  status = fattn_kernels_launch_device_ranges(kernels, 1, q, k, v, out, lse,
                                              NULL, numQ, numK, hq, hk, 0, 0,
                                              NULL);
  expect(status == FATTN_STATUS_NULL_POINTER, "device null mask rejected");
  mask.count = -1;
  status = fattn_kernels_launch_device_ranges(kernels, 1, q, k, v, out, lse,
                                              &mask, numQ, numK, hq, hk,
                                              info->scale, 0, NULL);
  printf("device negative count: %s: %s\n", fattn_status_name(status),
         fattn_last_error());
  expect(status == FATTN_STATUS_BAD_ARGUMENT &&
             strstr(fattn_last_error(), "slice count -1"),
         "device negative count rejected");
  captureCall(kernel, info, &b, memAlloc, memFree);
  void *buffers[] = {q, k, v, out, lse, shortLse, deviceQ, deviceK, deviceKinds};
  for (size_t i = 0; memFree && i < sizeof(buffers) / sizeof(buffers[0]); ++i)
    if (buffers[i])
      memFree((unsigned long long)(size_t)buffers[i]);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: capi-mock-client MANIFEST EXPECTED_LOAD_STATUS\n");
    return 2;
  }
  int expected = atoi(argv[2]);
  fattn_kernel *kernel = NULL;
  fattn_status status = fattn_kernel_load(argv[1], &kernel);
  printf("load: %s: %s\n", fattn_status_name(status), fattn_last_error());
  expect((int)status == expected, "load status as expected");
  if (status != FATTN_STATUS_SUCCESS)
    return failures ? 1 : 0;

  fattn_kernel_info_t info;
  expect(fattn_kernel_info(kernel, &info) == FATTN_STATUS_SUCCESS, "info");
  printf(
      "info: kernel=%s grid=%ux%ux%u dtype=%d shape=%lldx%lldx%lldx%lldx%lld "
      "pairs=%lld flops=%.0f q_bytes=%lld lse_bytes=%lld\n",
      info.kernel_name, info.grid[0], info.grid[1], info.grid[2],
      (int)info.dtype, (long long)info.num_q, (long long)info.num_k,
      (long long)info.heads_q, (long long)info.heads_k,
      (long long)info.head_dim, (long long)info.attended_pairs, info.flops,
      (long long)info.q_bytes, (long long)info.lse_bytes);

  void *driver = dlopen("libcuda.so.1", RTLD_NOW);
  MemAlloc memAlloc = driver ? (MemAlloc)dlsym(driver, "cuMemAlloc_v2") : NULL;
  MemFree memFree = driver ? (MemFree)dlsym(driver, "cuMemFree_v2") : NULL;
  if (!memAlloc) {
    printf("FAILED: no cuMemAlloc_v2 in the (mock) driver\n");
    return 1;
  }
  if (info.runtime_mask) {
    runtimeCall(kernel, &info, memAlloc, memFree);
    deviceCall(kernel, &info, memAlloc, memFree);
    fattn_kernel_destroy(kernel);
    printf("%s\n", failures ? "FAIL" : "PASS");
    return failures ? 1 : 0;
  }
  int32_t range[] = {0, 1};
  expect(fattn_kernel_plan_ranges(kernel, range, range, NULL, 1, 1, 1, NULL,
                                  NULL, NULL) == FATTN_STATUS_BAD_ARGUMENT &&
             strstr(fattn_last_error(), "was compiled with its mask"),
         "static kernel takes no ranges");

  int64_t count = -1;
  expect(fattn_kernel_slices(kernel, NULL, 0, &count) == FATTN_STATUS_SUCCESS &&
             count == info.num_slices,
         "slice count query");
  int64_t *slices = malloc(sizeof(int64_t) * 5 * (size_t)(count + 1));
  if (count > 0)
    expect(fattn_kernel_slices(kernel, slices, count - 1, &count) ==
               FATTN_STATUS_BAD_ARGUMENT,
           "too small slice array rejected");
  expect(fattn_kernel_slices(kernel, slices, count, &count) ==
             FATTN_STATUS_SUCCESS,
         "slices");
  for (int64_t i = 0; i < count; ++i)
    printf("slice: %lld %lld %lld %lld %lld\n", (long long)slices[5 * i],
           (long long)slices[5 * i + 1], (long long)slices[5 * i + 2],
           (long long)slices[5 * i + 3], (long long)slices[5 * i + 4]);
  free(slices);

  unsigned short *q = allocate(memAlloc, (size_t)info.q_bytes);
  unsigned short *k = allocate(memAlloc, (size_t)info.kv_bytes);
  unsigned short *v = allocate(memAlloc, (size_t)info.kv_bytes);
  unsigned short *out = allocate(memAlloc, (size_t)info.out_bytes);
  float *lse = allocate(memAlloc, (size_t)info.lse_bytes);
  unsigned short *shortK = allocate(memAlloc, (size_t)info.kv_bytes / 2);
  if (!q || !k || !v || !out || !lse || !shortK) {
    printf("FAILED: allocation\n");
    return 1;
  }
  /* bf16 0.5 everywhere: every output is the mean of values 0.5. */
  for (int64_t i = 0; i < info.q_bytes / 2; ++i)
    q[i] = 0x3f00;
  for (int64_t i = 0; i < info.kv_bytes / 2; ++i)
    k[i] = v[i] = 0x3f00;
  memset(out, 0xff, (size_t)info.out_bytes);

  status = fattn_kernel_launch(kernel, q, k, v, out, lse, NULL);
  expect(status == FATTN_STATUS_SUCCESS, "launch");
  expect(out[0] == 0x3f00 && !isnan(lse[0]), "outputs written");

  status = fattn_kernel_launch(kernel, NULL, k, v, out, lse, NULL);
  printf("null q: %s: %s\n", fattn_status_name(status), fattn_last_error());
  expect(status == FATTN_STATUS_BAD_ARGUMENT &&
             strstr(fattn_last_error(), ": q is a null pointer"),
         "null q rejected");

  status = fattn_kernel_launch(kernel, q, shortK, v, out, lse, NULL);
  printf("short k: %s: %s\n", fattn_status_name(status), fattn_last_error());
  expect(status == FATTN_STATUS_BAD_ARGUMENT &&
             strstr(fattn_last_error(), ": k needs "),
         "short k rejected");

  status = fattn_kernel_launch(kernel, q, k, v, (char *)out + 2, lse, NULL);
  printf("misaligned out: %s: %s\n", fattn_status_name(status),
         fattn_last_error());
  expect(status == FATTN_STATUS_BAD_ARGUMENT &&
             strstr(fattn_last_error(), "is not aligned to 4 bytes"),
         "misaligned out rejected");

  /* Element-aligned but not 16-byte aligned: the kernels' 16-byte copies
     would fault, so the launch is refused. */
  status = fattn_kernel_launch(kernel, (char *)q + 8, k, v, out, lse, NULL);
  printf("misaligned q: %s: %s\n", fattn_status_name(status),
         fattn_last_error());
  expect(status == FATTN_STATUS_BAD_ARGUMENT &&
             strstr(fattn_last_error(), "is not aligned to 16 bytes"),
         "q off 16 bytes rejected");

  fattn_kernel_destroy(kernel);
  void *buffers[] = {q, k, v, out, lse, shortK};
  for (size_t i = 0; memFree && i < sizeof(buffers) / sizeof(buffers[0]); ++i)
    if (buffers[i])
      memFree((unsigned long long)(size_t)buffers[i]);
  printf("%s\n", failures ? "FAIL" : "PASS");
  return failures ? 1 : 0;
}
