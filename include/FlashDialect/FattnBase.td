//===- FattnBase.td - The fattn dialect ---------------------*- tablegen -*-===//

#ifndef FATTN_BASE_TD
#define FATTN_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Fattn_Dialect : Dialect {
  let name = "fattn";
  let cppNamespace = "::mlir::fattn";
  let summary = "Attention over range masks";
  let description = [{
    `fattn` says *what* attention is computed: which (query, key) pairs attend,
    given as an ordered list of rectangular slices, each full, causal,
    inv_causal or bi_causal. Passes decide *how*: normalize the mask, classify
    tiles, tile into online-softmax loops, and lower to the CPU or the GPU.
  }];
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect",
  ];
}

class Fattn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Fattn_Dialect, mnemonic, traits>;

class Fattn_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Fattn_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

#endif // FATTN_BASE_TD
