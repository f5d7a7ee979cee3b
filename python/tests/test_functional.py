"""What flex_flash_attn_func and flash_attn_varlen_func decide without a
GPU: FlashAttention's window as slices, against the window rule applied
cell by cell through docs/spec.md section 1's table (test_masks.attends),
and the kernels' names."""

import os
import random
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

import fattn  # noqa: E402
from test_masks import attends  # noqa: E402


def window_rule(num_q, num_k, left, right, row, key):
    """FlashAttention's bottom-right aligned window, literally."""
    shift = num_k - num_q
    if left >= 0 and key < row + shift - left:
        return False
    if right >= 0 and key > row + shift + right:
        return False
    return 0 <= key < num_k


class WindowSlicesTest(unittest.TestCase):
    def check(self, num_q, num_k, left, right):
        slices = fattn.window_slices(num_q, num_k, left, right)
        for qs, qe, ks, ke, _ in slices:
            self.assertTrue(0 <= qs < qe <= num_q and 0 <= ks <= ke <= num_k,
                            (num_q, num_k, left, right, slices))
        for row in range(num_q):
            for key in range(num_k):
                covered = sum(attends(piece, row, key) for piece in slices)
                self.assertEqual(
                    covered, int(window_rule(num_q, num_k, left, right, row,
                                             key)),
                    (num_q, num_k, left, right, row, key, slices))

    def test_random_windows(self):
        rng = random.Random(5)
        for _ in range(300):
            self.check(rng.randint(1, 40), rng.randint(1, 40),
                       rng.choice([-1, 0, 1, 3, 17, 60]),
                       rng.choice([-1, 0, 1, 4, 50]))

    def test_causal_and_full_are_one_slice(self):
        self.assertEqual(fattn.window_slices(8, 10, -1, 0),
                         [(0, 8, 0, 10, fattn.CAUSAL)])
        self.assertEqual(fattn.window_slices(8, 10, -1, -1),
                         [(0, 8, 0, 10, fattn.FULL)])
        self.assertEqual(fattn.window_slices(0, 10, -1, 0), [])

    def test_offsets_shift_rows_and_keys(self):
        self.assertEqual(fattn.window_slices(4, 4, -1, 0, 100, 50),
                         [(100, 104, 50, 54, fattn.CAUSAL)])


class CompileTest(unittest.TestCase):
    """On-demand compiles (needs fattn-run and fattn-synth, not a GPU)."""

    def setUp(self):
        try:
            fattn.find_fattn_run()
        except fattn.FattnError as error:
            self.skipTest(str(error))

    def test_kernel_lands_whole_under_its_name(self):
        import tempfile
        attention = ("bf16", 64, False)
        with tempfile.TemporaryDirectory() as directory:
            manifest = fattn.functional.compile_runtime_kernel(
                attention, 4, directory)
            name = fattn.runtime_kernel_name(*attention, 4)
            self.assertEqual(manifest,
                             os.path.join(directory, name + ".manifest"))
            self.assertEqual(sorted(os.listdir(directory)),
                             sorted(name + suffix for suffix in
                                    (".manifest", ".mlir", ".ptx")))
            with open(manifest) as file:
                text = file.read()
            # What the kernel was compiled for, as the runtime reads it:
            # counts, scale and softcap come with each call.
            self.assertIn("shape ? ? ? ? 64\n", text)
            self.assertIn("scale ?\n", text)
            self.assertIn("softcap 0\n", text)
            self.assertIn("schedule 128 64 whole aligned 4\n", text)

    def test_softcapped_kernel_takes_the_cap_per_call(self):
        import tempfile
        with tempfile.TemporaryDirectory() as directory:
            manifest = fattn.functional.compile_runtime_kernel(
                ("f16", 128, True), 1, directory)
            with open(manifest) as file:
                text = file.read()
            self.assertIn("param softcap scalar f32\n", text)
            self.assertIn("softcap ?\n", text)

    def test_a_failed_compile_leaves_nothing(self):
        import tempfile
        with tempfile.TemporaryDirectory() as directory:
            with self.assertRaises(fattn.CompileError):
                # Head dim 48 has no GPU kernel.
                fattn.functional.compile_runtime_kernel(
                    ("bf16", 48, False), 1, directory)
            self.assertEqual(os.listdir(directory), [])


class KernelNameTest(unittest.TestCase):
    def test_name_carries_every_compile_time_property(self):
        self.assertEqual(fattn.runtime_kernel_name("bf16", 128, False, 4),
                         "runtime-bf16-d128-i4")
        self.assertEqual(fattn.runtime_kernel_name("f16", 64, True, 16),
                         "runtime-f16-d64-softcap-i16")
        self.assertEqual(fattn.ITEM_CLASSES[0], 1)


if __name__ == "__main__":
    unittest.main()
