"""The argument checks of Kernel.launch_ranges / plan_ranges that need no
GPU: how a run-time call's ranges become the C API's int32 arrays."""

import ctypes
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

from fattn import kernel  # noqa: E402


class RangeArraysTest(unittest.TestCase):
    def test_rows_become_flat_int32_arrays(self):
        q, k, kinds, count = kernel._range_arrays(
            [[0, 10], [10, 20]], [(0, 10), (0, 20)], [0, 1])
        self.assertEqual(count, 2)
        self.assertEqual(list(q), [0, 10, 10, 20])
        self.assertEqual(list(k), [0, 10, 0, 20])
        self.assertEqual(list(kinds), [0, 1])

    def test_no_slices_and_no_kinds(self):
        q, k, kinds, count = kernel._range_arrays([], [], None)
        self.assertEqual(count, 0)
        self.assertIsNone(kinds)

    def test_mismatched_counts_are_refused(self):
        with self.assertRaisesRegex(ValueError, "q_ranges has 2 rows and "
                                                "k_ranges 1"):
            kernel._range_arrays([[0, 1], [1, 2]], [[0, 1]], None)
        with self.assertRaisesRegex(ValueError, "kinds has 1 entries for 2"):
            kernel._range_arrays([[0, 1], [1, 2]], [[0, 1], [0, 2]], [0])

    def test_values_must_be_int32(self):
        with self.assertRaisesRegex(ValueError, "q_ranges holds 2147483648"):
            kernel._range_arrays([[0, 2**31]], [[0, 1]], None)
        with self.assertRaisesRegex(ValueError, "k_ranges holds 1.5"):
            kernel._range_arrays([[0, 1]], [[0, 1.5]], None)
        with self.assertRaisesRegex(ValueError, "must have 2 columns"):
            kernel._range_arrays([[0, 1, 2]], [[0, 1]], None)

    def test_int32_tensors_are_copied_whole(self):
        # A stand-in for a contiguous CPU torch.int32 tensor.
        class HostInt32:
            dtype = "torch.int32"
            device = type("Device", (), {"type": "cpu"})()

            def __init__(self, values):
                self.buffer = (ctypes.c_int32 * len(values))(*values)

            def __len__(self):
                return len(self.buffer) // 2

            def contiguous(self):
                return self

            def reshape(self, *shape):
                return self

            def numel(self):
                return len(self.buffer)

            def data_ptr(self):
                return ctypes.addressof(self.buffer)

        q, k, kinds, count = kernel._range_arrays(
            HostInt32([0, 10, 10, 20]), HostInt32([0, 10, 0, 20]), None)
        self.assertEqual((list(q), list(k), count),
                         ([0, 10, 10, 20], [0, 10, 0, 20], 2))
        with self.assertRaisesRegex(ValueError, "must have 2 columns"):
            kernel._int32_array("q_ranges", HostInt32([0, 1, 2]), 2)

    def test_device_tensors_are_refused(self):
        class CudaTensor:
            device = type("Device", (), {"type": "cuda"})()

            def __len__(self):
                return 1

        with self.assertRaisesRegex(ValueError, "pass it on the host"):
            kernel._range_arrays(CudaTensor(), [[0, 1]], None)


if __name__ == "__main__":
    unittest.main()
