//===- SparseNNDialect.h - sparsenn dialect ---------------------*- C++ -*-===//
//
// The sparsenn dialect, its enums, attributes and types.
//
//===----------------------------------------------------------------------===//

#ifndef SPARSENN_DIALECT_SPARSENN_IR_SPARSENNDIALECT_H
#define SPARSENN_DIALECT_SPARSENN_IR_SPARSENNDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"

#include "sparsenn/Dialect/SparseNN/IR/SparseNNDialect.h.inc"
#include "sparsenn/Dialect/SparseNN/IR/SparseNNEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "sparsenn/Dialect/SparseNN/IR/SparseNNAttrs.h.inc"

#define GET_TYPEDEF_CLASSES
#include "sparsenn/Dialect/SparseNN/IR/SparseNNTypes.h.inc"

#endif // SPARSENN_DIALECT_SPARSENN_IR_SPARSENNDIALECT_H
