"""Range masks as slices (docs/spec.md section 1), checked by the C runtime.

A mask is a list of slices (q_begin, q_end, k_begin, k_end, kind) with
half-open global ranges. The pair counting and comparison are delegated to
the runtime rather than re-implemented here, so that Python callers and the
compiler agree on one definition of what a mask attends and of what makes it
invalid.
"""

import ctypes
from collections import namedtuple

from .library import load_library

# Kind codes, as in docs/spec.md section 1 and the manifests.
FULL = 0
CAUSAL = 1  # bottom-right aligned: j <= i + (Sk - Sq)
INV_CAUSAL = 2  # top-left aligned: j >= i
BI_CAUSAL = 3  # both

KIND_NAMES = {FULL: "full", CAUSAL: "causal", INV_CAUSAL: "inv_causal",
              BI_CAUSAL: "bi_causal"}


class Slice(namedtuple("Slice", "q_begin q_end k_begin k_end kind")):
    """One rectangle of a mask and the kind of triangle it keeps.

    A plain tuple underneath, so that (qb, qe, kb, ke, kind) tuples and
    Slices mix freely.
    """

    __slots__ = ()

    def __str__(self):
        name = KIND_NAMES.get(self.kind, f"kind{self.kind}")
        return (f"{name} [{self.q_begin}:{self.q_end}, "
                f"{self.k_begin}:{self.k_end}]")


def slice_array(slices):
    """SLICES flattened into the C layout: 5 int64 per slice.

    One element at least, so that even an empty mask passes a real buffer:
    the C API reads none of it then, and no NULL-pointer rule is involved.
    """
    flat = []
    for index, piece in enumerate(slices):
        if len(piece) != 5:
            raise ValueError(f"slice {index} has {len(piece)} values; a "
                             "slice is (q_begin, q_end, k_begin, k_end, kind)")
        flat.extend(int(value) for value in piece)
    return (ctypes.c_int64 * max(1, len(flat)))(*flat)


def count_pairs(slices, num_q, num_k, library=None):
    """The number of (row, key) pairs the mask attends.

    Validates the mask against (NUM_Q, NUM_K) first: an out-of-bounds or
    reversed range, an unknown kind, or two slices attending the same cell
    raises FattnError (FATTN_STATUS_BAD_ARGUMENT) with the library's reason.
    """
    library = library or load_library()
    slices = list(slices)
    pairs = ctypes.c_int64()
    library.check(library.lib.fattn_mask_count_pairs(
        slice_array(slices), len(slices), num_q, num_k, ctypes.byref(pairs)))
    return pairs.value


def same_pairs(a, b, num_q, num_k, library=None):
    """Whether masks A and B attend exactly the same (row, key) pairs,
    however they are cut into slices. Both are validated as in count_pairs;
    the message says which one is invalid ("first mask", "second mask")."""
    library = library or load_library()
    a, b = list(a), list(b)
    same = ctypes.c_int()
    library.check(library.lib.fattn_mask_same_pairs(
        slice_array(a), len(a), slice_array(b), len(b), num_q, num_k,
        ctypes.byref(same)))
    return bool(same.value)
