//===- HostOps.td - a host compiler's own ops -------------*- tablegen -*-===//
//
// Two ops a host compiler might have between or instead of sparsenn's: its
// own fully connected layer and its own activation. Nothing here mentions
// sparsenn: HostInterfaceModels.cpp attaches sparsenn's interfaces to them
// from the outside.
//
//===----------------------------------------------------------------------===//

#ifndef HOST_OPS_TD
#define HOST_OPS_TD

include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Host_Dialect : Dialect {
  let name = "host";
  let summary = "the host compiler's dialect (examples/downstream)";
  let cppNamespace = "::host";
}

class Host_Op<string mnemonic, list<Trait> traits = []>
    : Op<Host_Dialect, mnemonic, traits>;

def Host_DenseOp : Host_Op<"dense", [Pure]> {
  let summary = "fully connected layer: y = x·Wᵀ + b";
  let arguments = (ins 2DTensorOf<[F32]>:$input, 2DTensorOf<[F32]>:$weight,
                       Optional<1DTensorOf<[F32]>>:$bias);
  let results = (outs 2DTensorOf<[F32]>:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `,`
    type($weight) (`,` type($bias)^)? `->` type($output)
  }];
}

def Host_LeakyReluOp : Host_Op<"leaky_relu",
    [Pure, AllTypesMatch<["input", "output"]>]> {
  let summary = "y = x if x > 0, else alpha·x";
  let arguments = (ins RankedTensorOf<[F32]>:$input, F64Attr:$alpha);
  let results = (outs RankedTensorOf<[F32]>:$output);
  let assemblyFormat = "$input `alpha` $alpha attr-dict `:` type($input)";
}

#endif // HOST_OPS_TD
