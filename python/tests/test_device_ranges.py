"""What a call planned on the GPU (mask tensors on q's device) decides
without a GPU: the argument checks of kernel.launch_device_ranges, the C
API's fattn_device_mask_t it fills, which item classes it launches, and
when it waits for the planner's verdict. Stand-ins replace torch tensors
and loaded kernels; the C call is recorded, not made."""

import collections
import os
import sys
import unittest
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

import fattn  # noqa: E402
from fattn import functional, kernel  # noqa: E402

Device = collections.namedtuple("Device", "type index")
CUDA0, CUDA1, CPU = Device("cuda", 0), Device("cuda", 1), Device("cpu", None)


class Tensor:
    """A stand-in for a torch tensor: dtype spelled as torch's, a device,
    a shape and an address."""

    next_address = 0x10000

    def __init__(self, shape, dtype="torch.int32", device=CUDA0,
                 contiguous=True):
        self.shape, self.dtype, self.device = tuple(shape), dtype, device
        self.contiguous_ = contiguous
        Tensor.next_address += 0x1000
        self.address = Tensor.next_address

    def data_ptr(self):
        return self.address

    def dim(self):
        return len(self.shape)

    def is_contiguous(self):
        return self.contiguous_

    def stride(self):
        return (2, 1) if self.contiguous_ else (4, 2)


class Library:
    """Records fattn_kernels_launch_device_ranges' arguments."""

    def __init__(self):
        self.calls = []
        self.lib = self
        self.status_calls = 0

    def fattn_kernels_launch_device_ranges(self, handles, count, *args):
        mask = args[5]._obj  # ctypes.byref's referent
        fields = {name: getattr(mask, name) for name, _ in mask._fields_}
        self.calls.append((list(handles)[:count], fields, args[6:]))
        return 0

    def check(self, status):
        self.assertion = status


def runtime_kernel(library, handle, dtype="bf16", head_dim=64):
    """A stand-in for a loaded run-time kernel taking heads per call."""
    info = fattn.KernelInfo(
        kernel_name="k", grid=(0, 0, 1), block=(128, 1, 1), shared_bytes=0,
        dtype=dtype, num_q=-1, num_k=-1, heads_q=-1, heads_k=-1,
        head_dim=head_dim, scale=-1, softcap=-1, num_slices=0,
        attended_pairs=0, flops=0, q_bytes=0, kv_bytes=0, out_bytes=0,
        lse_bytes=0, num_registers=0, runtime_mask=True)
    return mock.Mock(info=info, library=library, handle=handle,
                     manifest_path="k.manifest")


def attention_tensors(num_q=256, num_k=256, heads_q=8, heads_k=2,
                      head_dim=64):
    bf16 = "torch.bfloat16"
    return (Tensor((num_q, heads_q, head_dim), bf16),
            Tensor((num_k, heads_k, head_dim), bf16),
            Tensor((num_k, heads_k, head_dim), bf16),
            Tensor((num_q, heads_q, head_dim), bf16),
            Tensor((num_q, heads_q), "torch.float32"))


class LaunchDeviceRangesTest(unittest.TestCase):
    def setUp(self):
        self.library = Library()
        self.kernels = [runtime_kernel(self.library, 0xA),
                        runtime_kernel(self.library, 0xB)]
        self.tensors = attention_tensors()

    def launch(self, **mask):
        kernel.launch_device_ranges(self.kernels, *self.tensors, stream=7,
                                    **mask)
        return self.library.calls[-1]

    def test_ranges_fill_the_mask_with_their_addresses(self):
        q_ranges, k_ranges, kinds = (Tensor((5, 2)), Tensor((5, 2)),
                                     Tensor((5,)))
        handles, mask, rest = self.launch(q_ranges=q_ranges,
                                          k_ranges=k_ranges, kinds=kinds)
        self.assertEqual(handles, [0xA, 0xB])
        self.assertEqual((mask["q_ranges"], mask["k_ranges"], mask["kinds"]),
                         (q_ranges.address, k_ranges.address, kinds.address))
        self.assertEqual((mask["cu_seqlens_q"], mask["cu_seqlens_k"]),
                         (None, None))
        self.assertEqual(mask["count"], 5)
        # num_q, num_k, heads_q, heads_k from the tensors; the scale 0 (the
        # kernel's default), no softcap; the stream.
        self.assertEqual(rest, (256, 256, 8, 2, 0.0, 0.0, 7))

    def test_no_kinds_means_all_full(self):
        _, mask, _ = self.launch(q_ranges=Tensor((3, 2)),
                                 k_ranges=Tensor((3, 2)))
        self.assertIsNone(mask["kinds"])

    def test_cu_seqlens_are_one_slice_a_sequence(self):
        cu_q, cu_k = Tensor((4,)), Tensor((4,))
        _, mask, _ = self.launch(cu_seqlens_q=cu_q, cu_seqlens_k=cu_k,
                                 causal=True)
        self.assertEqual((mask["cu_seqlens_q"], mask["cu_seqlens_k"]),
                         (cu_q.address, cu_k.address))
        self.assertEqual((mask["count"], mask["seqlens_kind"]),
                         (3, fattn.CAUSAL))
        self.assertIsNone(mask["q_ranges"])
        _, mask, _ = self.launch(cu_seqlens_q=cu_q, cu_seqlens_k=cu_k)
        self.assertEqual(mask["seqlens_kind"], fattn.FULL)

    def test_bad_mask_tensors_are_refused_before_the_call(self):
        cases = [
            (dict(q_ranges=Tensor((3, 2), "torch.int64"),
                  k_ranges=Tensor((3, 2))), "q_ranges has dtype torch.int64"),
            (dict(q_ranges=Tensor((3, 2)), k_ranges=Tensor((3, 2), device=CUDA1)),
             "k_ranges is on .*cuda.*1.*q is on"),
            (dict(q_ranges=Tensor((3, 2)), k_ranges=Tensor((4, 2))),
             r"k_ranges has shape \(4, 2\); expected \(3, 2\)"),
            (dict(q_ranges=Tensor((3, 3)), k_ranges=Tensor((3, 2))),
             r"q_ranges has shape \(3, 3\); expected \(N, 2\)"),
            (dict(q_ranges=Tensor((3, 2)), k_ranges=Tensor((3, 2)),
                  kinds=Tensor((2,))),
             r"kinds has shape \(2,\); expected \(3,\)"),
            (dict(q_ranges=Tensor((3, 2), contiguous=False),
                  k_ranges=Tensor((3, 2))), "q_ranges is not contiguous"),
            (dict(q_ranges=[[0, 1]], k_ranges=Tensor((1, 2))),
             "q_ranges is a list, not a tensor"),
            (dict(cu_seqlens_q=Tensor((4,)), cu_seqlens_k=Tensor((3,))),
             r"cu_seqlens_k has shape \(3,\); expected \(4,\)"),
            (dict(cu_seqlens_q=Tensor((0,)), cu_seqlens_k=Tensor((0,))),
             "cu_seqlens_q must have at least one entry"),
            (dict(cu_seqlens_q=Tensor((2,)), cu_seqlens_k=Tensor((2,)),
                  q_ranges=Tensor((1, 2))),
             "either ranges or cu_seqlens, not both"),
            (dict(cu_seqlens_k=Tensor((2,))),
             "cu_seqlens_q and cu_seqlens_k must both be given"),
        ]
        for mask, message in cases:
            with self.subTest(message=message):
                with self.assertRaisesRegex((ValueError, TypeError), message):
                    self.launch(**mask)
        self.assertEqual(self.library.calls, [])

    def test_attention_tensors_are_checked_against_the_first_kernel(self):
        self.tensors = attention_tensors(head_dim=128)
        with self.assertRaisesRegex(ValueError, "q has shape"):
            self.launch(q_ranges=Tensor((1, 2)), k_ranges=Tensor((1, 2)))
        with self.assertRaisesRegex(ValueError, "at least one kernel"):
            kernel.launch_device_ranges([], *self.tensors)


class DeviceClassesTest(unittest.TestCase):
    def test_classes_reach_the_bound_from_one(self):
        for bound in list(range(0, 70)) + [255, 256, 257, 1024, 10_000]:
            classes = functional._device_classes(bound)
            with self.subTest(bound=bound, classes=classes):
                self.assertEqual(classes[0], 1)
                self.assertEqual(classes, sorted(set(classes)))
                self.assertLessEqual(len(classes), 4)
                self.assertTrue(set(classes) <= set(fattn.ITEM_CLASSES))
                # The call's plan fits the largest class, unless none does.
                self.assertTrue(classes[-1] >= bound or
                                classes[-1] == max(fattn.ITEM_CLASSES))
                # No class is launched that the call cannot need.
                self.assertTrue(all(c < bound for c in classes[:-1]))

    def test_one_slice_launches_the_one_item_kernel_only(self):
        self.assertEqual(functional._device_classes(1), [1])
        self.assertEqual(functional._device_classes(0), [1])


class PlannedOnDeviceTest(unittest.TestCase):
    """_launch_planned_on_device with kernels of ITEM_CLASSES up to
    `available` found."""

    def run_call(self, bound, available, check=None, environment=None):
        loaded = {}

        def find(name, attention, items, dirs, library, stream):
            if items > available:
                return None
            stand_in = mock.Mock(items=items)
            loaded[items] = stand_in
            return stand_in, mock.MagicMock()

        launched = []
        with mock.patch.object(functional, "_kernel", find), \
                mock.patch.dict(os.environ, environment or {}, clear=False):
            if not environment:
                os.environ.pop(functional.CHECK_RANGES_ENV, None)
            functional._launch_planned_on_device(
                ("bf16", 64, False), bound, launched.append, check, None,
                object(), 3)
        kernels = launched[0]
        waited = kernels[0].device_plan_status.called
        return [k.items for k in kernels], waited

    def test_a_call_the_kernels_hold_does_not_wait(self):
        self.assertEqual(self.run_call(16, 16), ([1, 4, 16], False))
        self.assertEqual(self.run_call(3, 16), ([1, 4], False))

    def test_a_call_past_the_kernels_at_hand_waits_for_the_verdict(self):
        self.assertEqual(self.run_call(40, 16), ([1, 4, 16], True))

    def test_asked_checks_wait(self):
        self.assertEqual(self.run_call(1, 16, check=True), ([1], True))
        self.assertEqual(
            self.run_call(1, 16, environment={"FATTN_CHECK_RANGES": "1"}),
            ([1], True))

    def test_a_capture_is_never_waited_for(self):
        with mock.patch.object(functional, "_capturing", lambda: True):
            self.assertEqual(self.run_call(40, 16), ([1, 4, 16], False))
            with self.assertRaisesRegex(ValueError, "CUDA graph capture"):
                self.run_call(1, 16, check=True)

    def test_no_kernel_at_all_is_an_error(self):
        with self.assertRaisesRegex(fattn.FattnError,
                                    "no run-time kernel holds this call"):
            self.run_call(4, 0)


class KernelLookupTest(unittest.TestCase):
    def test_a_missing_kernel_is_looked_for_once_until_forgotten(self):
        import tempfile
        compiles = []
        with tempfile.TemporaryDirectory() as empty, \
                mock.patch.object(functional, "_compile",
                                  lambda *args: compiles.append(args)):
            for _ in range(3):
                self.assertIsNone(functional._kernel(
                    "runtime-none", ("bf16", 64, False), 1, [empty], None, 5))
            self.assertEqual(len(compiles), 1)
            functional.forget_kernels()
            functional._kernel("runtime-none", ("bf16", 64, False), 1,
                               [empty], None, 5)
            self.assertEqual(len(compiles), 2)


class HostRangesTest(unittest.TestCase):
    def test_host_tensors_pass_where_the_host_plans(self):
        kernel.check_int32("q_ranges", Tensor((3, 2), device=CPU), (None, 2),
                           CUDA0, host_too=True)
        with self.assertRaisesRegex(ValueError, "q_ranges is on .*cpu"):
            kernel.check_int32("q_ranges", Tensor((3, 2), device=CPU),
                               (None, 2), CUDA0)
        with self.assertRaisesRegex(ValueError, "kinds is on .*cuda.*1"):
            kernel.check_int32("kinds", Tensor((3,), device=CUDA1), (None,),
                               CUDA0, host_too=True)


class MixedPlacementTest(unittest.TestCase):
    def test_host_and_device_mask_tensors_do_not_mix(self):
        with self.assertRaisesRegex(ValueError, "must all be on the host or all on"):
            functional._ranges_on_device(
                {"q_ranges": Tensor((1, 2)),
                 "k_ranges": Tensor((1, 2), device=CPU)})
        self.assertTrue(functional._ranges_on_device(
            {"q_ranges": Tensor((1, 2)), "kinds": None}))
        self.assertFalse(functional._ranges_on_device(
            {"q_ranges": Tensor((1, 2), device=CPU)}))


if __name__ == "__main__":
    unittest.main()
