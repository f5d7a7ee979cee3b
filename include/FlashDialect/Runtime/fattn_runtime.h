/*===- fattn_runtime.h - C API of the fattn GPU runtime -----------*- C -*-===*\
|*                                                                            *|
|* Loads kernels compiled by fattn (NAME.manifest + NAME.ptx) and launches    *|
|* them on device buffers, e.g. PyTorch tensors' data_ptr() through ctypes.   *|
|* Plain C, no CUDA headers needed: device pointers are passed as void * and  *|
|* a stream as the CUstream handle (torch.cuda.Stream.cuda_stream) or NULL    *|
|* for the legacy default stream. The CUDA driver is loaded at run time, so  *|
|* the library loads on machines without one and reports that as a status.   *|
|*                                                                            *|
|* Contexts: fattn_kernel_load uses the CUDA context current on the calling   *|
|* thread (PyTorch makes device N's primary context current once it has      *|
|* touched device N), else retains device 0's primary context. A launch from *|
|* a thread with another context current switches to the kernel's context    *|
|* for the call and back.                                                     *|
|*                                                                            *|
|* Errors: every function returns a status; on failure, fattn_last_error()    *|
|* returns a one-line message for the calling thread's last failed call.      *|
|* Thread safety: distinct kernels may be used from distinct threads; one     *|
|* kernel may be launched from several threads.                               *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef FATTN_RUNTIME_H
#define FATTN_RUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define FATTN_API __attribute__((visibility("default")))
#else
#define FATTN_API
#endif

typedef enum fattn_status {
  FATTN_STATUS_SUCCESS = 0,
  FATTN_STATUS_NULL_POINTER = 1,    /* a required pointer argument is NULL */
  FATTN_STATUS_BAD_MANIFEST = 2,    /* unreadable, malformed or inconsistent
                                       manifest, missing PTX file, or a PTX
                                       entry that does not match its ABI */
  FATTN_STATUS_NO_DRIVER = 3,       /* libcuda.so.1 cannot be loaded */
  FATTN_STATUS_NO_DEVICE = 4,       /* the driver sees no CUDA device */
  FATTN_STATUS_PTX_LOAD_FAILED = 5, /* the JIT rejected the PTX, or the
                                       manifest's entry is not in it */
  FATTN_STATUS_LAUNCH_FAILED = 6,   /* cuLaunchKernel failed */
  FATTN_STATUS_BAD_ARGUMENT = 7,    /* a buffer too small or misaligned, an
                                       invalid mask, a too small array */
  FATTN_STATUS_UNSUPPORTED = 8,     /* the device cannot run the kernel (block
                                       size, shared memory) */
  FATTN_STATUS_CUDA_ERROR = 9       /* any other driver failure */
} fattn_status;

typedef enum fattn_dtype {
  FATTN_DTYPE_F32 = 0,
  FATTN_DTYPE_F16 = 1,
  FATTN_DTYPE_BF16 = 2,
  FATTN_DTYPE_I32 = 3 /* schedule tables and scalars only; an f32 scalar is
                         FATTN_DTYPE_F32 */
} fattn_dtype;

typedef enum fattn_param_role {
  FATTN_PARAM_INPUT = 0,
  FATTN_PARAM_OUTPUT = 1,
  FATTN_PARAM_SCHEDULE = 2, /* a run-time mask's plan table (the runtime's) */
  FATTN_PARAM_SCALAR = 3    /* a 32-bit value: num_q, num_k, num_slots,
                               heads_q, heads_k (i32), scale, softcap (f32) */
} fattn_param_role;

#define FATTN_MAX_PARAM_RANK 8

/* One kernel parameter, as its manifest describes it: a device pointer to a
   contiguous row-major buffer of DTYPE with RANK extents (-1 where each
   launch decides: a token count, a plan table's rows; BYTES is then 0), or
   an i32 scalar (RANK 0). */
typedef struct fattn_param_info_t {
  const char *name; /* "q", "k", "v", "out", "lse", ...; valid while the
                       kernel lives */
  fattn_param_role role;
  fattn_dtype dtype;
  int rank;
  int64_t extents[FATTN_MAX_PARAM_RANK];
  int64_t bytes;
} fattn_param_info_t;

/* A loaded kernel: its manifest, its module and the context it lives in. */
typedef struct fattn_kernel fattn_kernel;

typedef struct fattn_kernel_info_t {
  const char *kernel_name; /* PTX entry; valid while the kernel lives */
  unsigned grid[3];
  unsigned block[3];
  unsigned shared_bytes; /* dynamic shared memory per block */
  fattn_dtype dtype;
  int64_t num_q, num_k, heads_q, heads_k, head_dim;
  double scale;   /* the effective softmax scale; -1: given per call */
  double softcap; /* 0: none; -1: the kernel has one, given per call */
  int64_t num_slices;
  int64_t attended_pairs; /* (row, key) pairs the mask attends */
  double flops;           /* 4 * attended_pairs * heads_q * head_dim */
  /* Buffer sizes the kernel reads and writes, in bytes. */
  int64_t q_bytes, kv_bytes, out_bytes, lse_bytes;
  int num_registers; /* per thread, as the JIT compiled it */
  /* 1: the mask and the token counts come with each launch
     (fattn_kernel_launch_ranges); grid[1] is 0, num_q and num_k are -1
     unless the kernel was compiled for fixed counts (then every call must
     have them), and the mask, pair and (for -1 counts) byte figures are 0.
     Where the call gives the heads, heads_q and heads_k are -1 and grid[0]
     is 0. */
  int runtime_mask;
} fattn_kernel_info_t;

/* Reads MANIFEST_PATH and the PTX it names (relative to the manifest's
   folder), JIT-compiles it in the current context (see above) and checks it
   against the manifest. On success *OUT owns the kernel; free it with
   fattn_kernel_destroy. On failure *OUT is NULL. */
FATTN_API fattn_status fattn_kernel_load(const char *manifest_path,
                                         fattn_kernel **out);

/* Launches a forward kernel (parameters q, k, v, out, lse, bound by name)
   asynchronously on STREAM (a CUstream; NULL = the
   legacy default stream). Q, K, V, OUT are device pointers to contiguous
   "thd" tensors of the kernel's dtype: q and out (num_q, heads_q, head_dim),
   k and v (num_k, heads_k, head_dim); LSE is (num_q, heads_q) float32.
   Buffers are checked first: NULL, misaligned (inputs need 16 bytes, the
   kernels copy them in 16-byte chunks; outputs 4) or (where the driver knows
   the allocation) too small gives FATTN_STATUS_BAD_ARGUMENT. Faults during
   execution surface at the caller's next synchronization. */
FATTN_API fattn_status fattn_kernel_launch(fattn_kernel *kernel, const void *q,
                                           const void *k, const void *v,
                                           void *out, float *lse, void *stream);

/* Launches with one device pointer per parameter, in the order of
   fattn_kernel_param (COUNT must equal fattn_kernel_num_params). Checks as
   fattn_kernel_launch; works for every kernel compiled with its mask,
   whatever its parameters. A run-time-mask kernel is refused
   (FATTN_STATUS_BAD_ARGUMENT): its tables and counts come from the
   runtime's plan, fattn_kernel_launch_ranges. */
FATTN_API fattn_status fattn_kernel_launch_params(fattn_kernel *kernel,
                                                  void *const *buffers,
                                                  int64_t count, void *stream);

/* Launches a kernel compiled for a run-time mask (info.runtime_mask) on a
   call's mask, in MagiAttention's form: NUM_SLICES slices as host arrays
   Q_RANGES and K_RANGES (NUM_SLICES x 2 int32, [begin, end)) and KINDS
   (NUM_SLICES int32 codes as in docs/spec.md §1; NULL: all full), over
   NUM_Q query and NUM_K key tokens, with HEADS_Q query and HEADS_K
   key/value heads (HEADS_Q a multiple of HEADS_K), softmax scale SCALE (0:
   1/sqrt(head_dim)) and softcap SOFTCAP (0: none); a kernel compiled for
   fixed values of any of these (info: -1 where it takes them per call)
   takes only calls that agree, and a kernel compiled with a softcap needs
   one. Q, K, V, OUT, LSE as in fattn_kernel_launch, of those counts. Every slice is validated first
   (inside [0, num_q) x [0, num_k), begin <= end, kind 0..3): otherwise
   FATTN_STATUS_BAD_ARGUMENT naming the slice and the value; a cell two
   slices share counts once per slice. The call is planned on the host, its
   tables copied on STREAM into memory the kernel keeps (calls on one stream
   may share a kernel; concurrent streams need one each), and launched.
   NUM_Q = 0 launches nothing; NUM_SLICES = 0 gives out 0 and lse -inf. */
FATTN_API fattn_status fattn_kernel_launch_ranges(
    fattn_kernel *kernel, const void *q, const void *k, const void *v,
    void *out, float *lse, const int32_t *q_ranges, const int32_t *k_ranges,
    const int32_t *kinds, int64_t num_slices, int64_t num_q, int64_t num_k,
    int64_t heads_q, int64_t heads_k, double scale, double softcap,
    void *stream);

/* What fattn_kernel_launch_ranges would plan for this call, without
   launching or touching the GPU: *SCHEDULE_BYTES gets the size of the
   plan's tables (the device memory the kernel keeps for them), *NUM_SLOTS
   the launch slots (grid y), *MAX_ITEMS the most slices one query tile
   attends. Any of the three may be NULL. Errors as
   fattn_kernel_launch_ranges'. */
FATTN_API fattn_status fattn_kernel_plan_ranges(
    const fattn_kernel *kernel, const int32_t *q_ranges,
    const int32_t *k_ranges, const int32_t *kinds, int64_t num_slices,
    int64_t num_q, int64_t num_k, int64_t *schedule_bytes, int64_t *num_slots,
    int64_t *max_items);

/* A call's mask in device memory: MagiAttention's ranges (Q_RANGES and
   K_RANGES COUNT x 2 int32, KINDS COUNT int32 codes or NULL for all full)
   or FlashAttention's sequences (CU_SEQLENS_Q and CU_SEQLENS_K COUNT + 1
   int32 from 0 to the token counts, each sequence one slice of kind
   SEQLENS_KIND); the other pointers NULL. */
typedef struct {
  const int32_t *q_ranges, *k_ranges, *kinds;
  const int32_t *cu_seqlens_q, *cu_seqlens_k;
  int32_t seqlens_kind;
  int64_t count;
} fattn_device_mask_t;

/* fattn_kernel_launch_ranges for a mask in device memory, planned on the
   GPU: nothing is copied to the host and nothing waits for STREAM, so the
   call can be captured in a CUDA graph once a call needing as large a
   buffer (as many slices and query tokens, the same kernels) has run on
   these kernels outside the capture (the first call loads the planner and
   sizes its buffer, which grows, waiting for the streams, only for a larger
   call, and never during a capture: that is refused; a buffer a captured
   graph may use stays allocated until the kernels are destroyed). KERNELS are NUM_KERNELS (1 to 4)
   kernels of one attention compiled for run-time masks that differ only in
   max-items-per-tile, ascending: the planner gives the call to the smallest
   that holds it, and the launches of the others do no work. What the host
   can check is checked before anything is enqueued (counts, pointers, the
   call against the kernels: FATTN_STATUS_BAD_ARGUMENT or NULL_POINTER). The
   slices themselves are validated on the GPU: a bad slice, or a query tile
   holding more slices than the largest kernel searches, makes the planner
   refuse the call, which leaves out and lse NaN and its reason for
   fattn_kernel_device_plan_status. The plan's memory is KERNELS[0]'s
   (calls on one stream may share kernels; concurrent streams need their
   own). NUM_Q = 0 launches nothing. */
FATTN_API fattn_status fattn_kernels_launch_device_ranges(
    fattn_kernel *const *kernels, int64_t num_kernels, const void *q,
    const void *k, const void *v, void *out, float *lse,
    const fattn_device_mask_t *mask, int64_t num_q, int64_t num_k,
    int64_t heads_q, int64_t heads_k, double scale, double softcap,
    void *stream);

/* Waits for the stream of KERNEL's last call planned on the GPU
   (fattn_kernels_launch_device_ranges with KERNEL first) and reports it:
   SUCCESS if it was planned (or there was none, or it had no query
   tokens), FATTN_STATUS_BAD_ARGUMENT with the reason in fattn_last_error()
   ("slice 3: q range [5, 2) is reversed") if the planner refused it. */
FATTN_API fattn_status fattn_kernel_device_plan_status(fattn_kernel *kernel);

/* *COUNT gets the number of parameters the kernel takes. No GPU work. */
FATTN_API fattn_status fattn_kernel_num_params(const fattn_kernel *kernel,
                                               int64_t *count);

/* Fills *INFO with parameter INDEX (0 .. count - 1). No GPU work. */
FATTN_API fattn_status fattn_kernel_param(const fattn_kernel *kernel,
                                          int64_t index,
                                          fattn_param_info_t *info);

/* Fills *INFO. No GPU work. */
FATTN_API fattn_status fattn_kernel_info(const fattn_kernel *kernel,
                                         fattn_kernel_info_t *info);

/* Copies the kernel's mask: 5 int64 per slice (q_begin, q_end, k_begin,
   k_end, kind code as in docs/spec.md §1) into SLICES, which holds CAPACITY
   slices;
   *NUM_SLICES gets the count. SLICES may be NULL with CAPACITY 0 to ask for
   the count; a too small CAPACITY gives FATTN_STATUS_BAD_ARGUMENT with the
   count set. */
FATTN_API fattn_status fattn_kernel_slices(const fattn_kernel *kernel,
                                           int64_t *slices, int64_t capacity,
                                           int64_t *num_slices);

/* Unloads the module and releases the context if the load retained it.
   NULL is accepted. */
FATTN_API void fattn_kernel_destroy(fattn_kernel *kernel);

/* Mask helpers, so that callers need not re-implement the slice semantics.
   SLICES as in fattn_kernel_slices. Both validate the mask against
   (NUM_Q, NUM_K) first: FATTN_STATUS_BAD_ARGUMENT with the reason if it is
   invalid (out of bounds, reversed, two slices sharing a cell). */
FATTN_API fattn_status fattn_mask_count_pairs(const int64_t *slices,
                                              int64_t num_slices, int64_t num_q,
                                              int64_t num_k, int64_t *pairs);
/* *SAME = 1 when both masks attend exactly the same (row, key) pairs. */
FATTN_API fattn_status fattn_mask_same_pairs(
    const int64_t *slices_a, int64_t num_slices_a, const int64_t *slices_b,
    int64_t num_slices_b, int64_t num_q, int64_t num_k, int *same);

/* The calling thread's last error message ("" if none); valid until the
   thread's next fattn call. */
FATTN_API const char *fattn_last_error(void);

/* "FATTN_STATUS_NO_DRIVER" and so on. */
FATTN_API const char *fattn_status_name(fattn_status status);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FATTN_RUNTIME_H */
