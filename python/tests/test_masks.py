"""fattn.count_pairs / same_pairs against a cell oracle of docs/spec.md §1.

The oracle below enumerates every (row, key) cell and applies the table of
docs/spec.md section 1 literally (local indices, bottom-right aligned
causal), with
none of the interval arithmetic the runtime uses, so that agreement on
hundreds of random masks means the two definitions agree, not that the code
agrees with itself.
"""

import os
import random
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

import fattn  # noqa: E402
from fattn import BI_CAUSAL, CAUSAL, FULL, INV_CAUSAL, FattnError  # noqa: E402

KINDS = (FULL, CAUSAL, INV_CAUSAL, BI_CAUSAL)


# ---------------------------------------------------------------------------
# Oracle, from docs/spec.md §1
# ---------------------------------------------------------------------------

def attends(piece, row, key):
    """Whether slice PIECE attends global cell (ROW, KEY): docs/spec.md §1's
    table in local coordinates i = row - qs, j = key - ks."""
    qs, qe, ks, ke, kind = piece
    if not (qs <= row < qe and ks <= key < ke):
        return False
    i, j = row - qs, key - ks
    sq, sk = qe - qs, ke - ks
    if kind == FULL:
        return True
    if kind == CAUSAL:
        return j <= i + (sk - sq)
    if kind == INV_CAUSAL:
        return j >= i
    if kind == BI_CAUSAL:
        return i <= j <= i + (sk - sq)
    raise AssertionError(f"unknown kind {kind}")


def cells_of(piece):
    qs, qe, ks, ke, _ = piece
    return {(row, key) for row in range(qs, qe) for key in range(ks, ke)
            if attends(piece, row, key)}


def mask_cells(slices):
    cells = set()
    for piece in slices:
        cells |= cells_of(piece)
    return cells


def row_runs(cells):
    """CELLS as one full slice per maximal run of keys in a row: another
    slicing of the same cells, built without any kind but full."""
    slices = []
    for row in sorted({row for row, _ in cells}):
        keys = sorted(key for r, key in cells if r == row)
        start = previous = keys[0]
        for key in keys[1:] + [None]:
            if key is not None and key == previous + 1:
                previous = key
                continue
            slices.append((row, row + 1, start, previous + 1, FULL))
            if key is not None:
                start = previous = key
    return slices


def random_range(rng, length):
    """A half-open [begin, end) within [0, length], empty at times."""
    begin = rng.randint(0, length)
    end = rng.randint(begin, length) if rng.random() < 0.9 else begin
    return begin, end


def random_valid_mask(rng, num_q, num_k, max_slices=8):
    """Random slices of random kinds, each kept only if the oracle says it
    shares no cell with those kept before: a valid mask by docs/spec.md §1
    (which allows query rows in several slices when their keys are
    disjoint)."""
    slices, taken = [], set()
    for _ in range(rng.randint(1, max_slices) * 3):
        if len(slices) == max_slices:
            break
        q_begin, q_end = random_range(rng, num_q)
        k_begin, k_end = random_range(rng, num_k)
        piece = (q_begin, q_end, k_begin, k_end, rng.choice(KINDS))
        cells = cells_of(piece)
        if cells & taken:
            continue
        slices.append(piece)
        taken |= cells
    return slices


def random_masks(seed, count):
    rng = random.Random(seed)
    for _ in range(count):
        num_q = rng.randint(1, 40)
        num_k = rng.randint(1, 40) if rng.random() < 0.7 else num_q
        yield num_q, num_k, random_valid_mask(rng, num_q, num_k)


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------

class CountPairsTest(unittest.TestCase):
    def test_random_masks_match_oracle(self):
        covered = set()
        for num_q, num_k, slices in random_masks(seed=1, count=400):
            with self.subTest(num_q=num_q, num_k=num_k, slices=slices):
                self.assertEqual(fattn.count_pairs(slices, num_q, num_k),
                                 len(mask_cells(slices)))
            covered.add("Sq != Sk" if num_q != num_k else "Sq == Sk")
            for qs, qe, ks, ke, kind in slices:
                covered.add(kind)
                if qe == qs or ke == ks:
                    covered.add("empty slice")
                elif qe - qs > ke - ks:
                    covered.add("slice taller than wide")
                elif qe - qs < ke - ks:
                    covered.add("slice wider than tall")
            rows = [set(range(qs, qe)) for qs, qe, *_ in slices]
            if any(a & b for i, a in enumerate(rows) for b in rows[i + 1:]):
                covered.add("shared query rows")
        # The corpus must exercise what the semantics distinguish, or the
        # agreement above proves less than it seems.
        self.assertEqual(covered, set(KINDS) | {
            "Sq != Sk", "Sq == Sk", "empty slice", "slice taller than wide",
            "slice wider than tall", "shared query rows"})

    def test_spec_consequences(self):
        # docs/spec.md §1: bi_causal is empty when Sq > Sk; causal rows
        # i < Sq - Sk are empty then.
        self.assertEqual(fattn.count_pairs([(0, 6, 0, 4, BI_CAUSAL)], 6, 4),
                         0)
        self.assertEqual(fattn.count_pairs([(0, 6, 0, 4, CAUSAL)], 6, 4),
                         1 + 2 + 3 + 4)
        # Bottom-right alignment: the last row sees every key.
        self.assertEqual(fattn.count_pairs([(0, 2, 0, 5, CAUSAL)], 2, 5),
                         4 + 5)

    def test_empty_mask(self):
        self.assertEqual(fattn.count_pairs([], 3, 3), 0)

    def test_accepts_slice_objects(self):
        piece = fattn.Slice(0, 4, 0, 4, CAUSAL)
        self.assertEqual(fattn.count_pairs([piece], 4, 4), 10)
        self.assertEqual(str(piece), "causal [0:4, 0:4]")

    def test_wrong_arity_is_value_error(self):
        with self.assertRaisesRegex(ValueError, "slice 0 has 4 values"):
            fattn.count_pairs([(0, 4, 0, 4)], 4, 4)


class SamePairsTest(unittest.TestCase):
    def test_mask_equals_its_row_runs(self):
        for num_q, num_k, slices in random_masks(seed=2, count=150):
            with self.subTest(num_q=num_q, num_k=num_k, slices=slices):
                runs = row_runs(mask_cells(slices))
                self.assertTrue(fattn.same_pairs(slices, runs, num_q, num_k))
                self.assertTrue(fattn.same_pairs(runs, slices, num_q, num_k))

    def test_one_cell_more_or_less_differs(self):
        rng = random.Random(3)
        tested = 0
        for num_q, num_k, slices in random_masks(seed=3, count=150):
            cells = mask_cells(slices)
            free = sorted({(r, k) for r in range(num_q)
                           for k in range(num_k)} - cells)
            variants = []
            if cells:
                variants.append(cells - {rng.choice(sorted(cells))})
            if free:
                variants.append(cells | {rng.choice(free)})
            for variant in variants:
                tested += 1
                with self.subTest(num_q=num_q, num_k=num_k, slices=slices):
                    self.assertFalse(fattn.same_pairs(
                        slices, row_runs(variant), num_q, num_k))
        self.assertGreater(tested, 200)

    def test_random_pairs_of_masks(self):
        rng = random.Random(4)
        agreements = set()
        for _ in range(200):
            num_q, num_k = rng.randint(1, 12), rng.randint(1, 12)
            a = random_valid_mask(rng, num_q, num_k, max_slices=3)
            b = random_valid_mask(rng, num_q, num_k, max_slices=3)
            expected = mask_cells(a) == mask_cells(b)
            agreements.add(expected)
            with self.subTest(a=a, b=b):
                self.assertEqual(fattn.same_pairs(a, b, num_q, num_k),
                                 expected)
        self.assertEqual(agreements, {True, False})

    def test_causal_split_into_kinds(self):
        # A causal square is a causal square, a full block and a causal
        # square; and full is causal plus its strict upper triangle
        # (inv_causal shifted one key right).
        whole = [(0, 10, 0, 10, CAUSAL)]
        split = [(0, 4, 0, 4, CAUSAL), (4, 10, 0, 4, FULL),
                 (4, 10, 4, 10, CAUSAL)]
        self.assertTrue(fattn.same_pairs(whole, split, 10, 10))
        self.assertTrue(fattn.same_pairs(
            [(0, 10, 0, 10, FULL)],
            [(0, 10, 0, 10, CAUSAL), (0, 9, 1, 10, INV_CAUSAL)], 10, 10))
        self.assertFalse(fattn.same_pairs(whole, [(0, 10, 0, 10, FULL)], 10,
                                          10))


class InvalidMaskTest(unittest.TestCase):
    def assert_rejected(self, slices, num_q, num_k, pattern):
        with self.assertRaises(FattnError) as caught:
            fattn.count_pairs(slices, num_q, num_k)
        self.assertEqual(caught.exception.status, "FATTN_STATUS_BAD_ARGUMENT")
        self.assertRegex(caught.exception.reason, pattern)
        return caught.exception

    def test_out_of_bounds(self):
        self.assert_rejected([(0, 4, 0, 4, FULL), (2, 9, 4, 6, FULL)], 8, 8,
                             r"^slice 1: q range \[2, 9\) exceeds query "
                             r"length 8$")
        self.assert_rejected([(0, 4, 0, 9, CAUSAL)], 8, 8,
                             r"^slice 0: k range \[0, 9\) exceeds key "
                             r"length 8$")
        self.assert_rejected([(-1, 4, 0, 4, FULL)], 8, 8,
                             r"^slice 0: q range \[-1, 4\) starts below 0$")

    def test_reversed(self):
        self.assert_rejected([(5, 3, 0, 4, FULL)], 8, 8,
                             r"^slice 0: q range \[5, 3\) is reversed$")
        self.assert_rejected([(0, 4, 0, 0, FULL), (0, 4, 6, 2, INV_CAUSAL)],
                             8, 8, r"^slice 1: k range \[6, 2\) is reversed$")

    def test_unknown_kind(self):
        self.assert_rejected([(0, 4, 0, 4, 4)], 8, 8,
                             r"^slice 0: unknown kind code 4$")

    def test_overlap_names_a_shared_cell(self):
        # Random slice pairs that the oracle says share cells: the runtime
        # must refuse each and name a cell both really attend.
        rng = random.Random(5)
        checked = 0
        while checked < 100:
            num_q, num_k = rng.randint(1, 24), rng.randint(1, 24)
            a = (*random_range(rng, num_q), *random_range(rng, num_k),
                 rng.choice(KINDS))
            b = (*random_range(rng, num_q), *random_range(rng, num_k),
                 rng.choice(KINDS))
            if not cells_of(a) & cells_of(b):
                continue
            checked += 1
            with self.subTest(a=a, b=b):
                error = self.assert_rejected(
                    [a, b], num_q, num_k,
                    r"^slices 0 and 1 both attend \(q \d+, k \d+\)$")
                row, key = map(int, re.search(r"q (\d+), k (\d+)",
                                              error.reason).groups())
                self.assertTrue(attends(a, row, key) and attends(b, row, key),
                                f"({row}, {key}) is not shared")

    def test_diagonal_overlap(self):
        # causal and inv_causal over one square share exactly the diagonal.
        self.assert_rejected([(0, 4, 0, 4, CAUSAL), (0, 4, 0, 4, INV_CAUSAL)],
                             4, 4, r"both attend \(q (\d), k \1\)")

    def test_same_pairs_names_the_invalid_mask(self):
        valid = [(0, 4, 0, 4, FULL)]
        with self.assertRaisesRegex(FattnError, "first mask: slice 0"):
            fattn.same_pairs([(0, 5, 0, 4, FULL)], valid, 4, 4)
        with self.assertRaisesRegex(FattnError, "second mask: slices 0 and 1"):
            fattn.same_pairs(valid, valid + valid, 4, 4)

    def test_error_carries_status(self):
        error = self.assert_rejected([(0, 9, 0, 1, FULL)], 8, 8, "exceeds")
        self.assertEqual(error.status_code, 7)  # FATTN_STATUS_BAD_ARGUMENT
        self.assertTrue(str(error).startswith("FATTN_STATUS_BAD_ARGUMENT: "))
        self.assertIsInstance(error, RuntimeError)


class ImportTest(unittest.TestCase):
    def test_masks_need_no_torch(self):
        # A fresh interpreter: this one may have imported torch already.
        package_dir = os.path.dirname(os.path.dirname(fattn.__file__))
        code = ("import sys; sys.path.insert(0, %r); import fattn; "
                "fattn.count_pairs([(0, 2, 0, 2, fattn.CAUSAL)], 2, 2); "
                "print('torch' in sys.modules)" % package_dir)
        result = subprocess.run([sys.executable, "-c", code],
                                stdout=subprocess.PIPE, text=True, check=True)
        self.assertEqual(result.stdout.strip(), "False")


if __name__ == "__main__":
    unittest.main()
