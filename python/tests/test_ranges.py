"""The argument checks of Kernel.launch_ranges / plan_ranges that need no
GPU: how a run-time call's ranges become the C API's int32 arrays."""

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

    def test_device_tensors_are_refused(self):
        class CudaTensor:
            device = type("Device", (), {"type": "cuda"})()

            def __len__(self):
                return 1

        with self.assertRaisesRegex(ValueError, "pass it on the host"):
            kernel._range_arrays(CudaTensor(), [[0, 1]], None)


if __name__ == "__main__":
    unittest.main()
