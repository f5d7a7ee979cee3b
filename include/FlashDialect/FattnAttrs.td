//===- FattnAttrs.td - Mask attribute -----------------------*- tablegen -*-===//

#ifndef FATTN_ATTRS_TD
#define FATTN_ATTRS_TD

include "FlashDialect/FattnBase.td"

def Fattn_MaskAttr : Fattn_Attr<"Mask", "mask"> {
  let summary = "An ordered list of attention slices";
  let description = [{
    Each slice is `kind [q_begin:q_end, k_begin:k_end]`: half-open global row
    ranges into Q and into K/V, written like a numpy slice of the score
    matrix, and one of the kinds

    | kind         | local (i, j) attends when                          |
    |--------------|----------------------------------------------------|
    | `full`       | always                                             |
    | `causal`     | `j <= i + (Sk - Sq)` (bottom-right aligned)        |
    | `inv_causal` | `j >= i` (top-left aligned)                        |
    | `bi_causal`  | both                                               |

    Example: `#fattn.mask<causal [0:128, 0:128], full [128:256, 0:128]>`.
    A query row may appear in several slices as long as their key sets for
    that row are disjoint. Slice kinds and all mask semantics live in the
    plain-C++ mask library (`FlashDialect/Mask/Mask.h`), shared with the
    runtime; the attribute stores that library's slices directly.
  }];
  let parameters = (ins
    ArrayRefParameter<"::fattn::mask::Slice", "slices">:$slices
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The slices as a mask-library mask.
    ::fattn::mask::Mask getMask() const {
      return ::fattn::mask::Mask(getSlices().begin(), getSlices().end());
    }
  }];
}

#endif // FATTN_ATTRS_TD
