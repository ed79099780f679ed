//===- LayerOpInterface.h - layers with weights -----------------*- C++ -*-===//
//
// See LayerOpInterface.td.
//
//===----------------------------------------------------------------------===//

#ifndef SPARSENN_INTERFACES_LAYEROPINTERFACE_H
#define SPARSENN_INTERFACES_LAYEROPINTERFACE_H

#include "sparsenn/Dialect/SparseNN/IR/SparseNNDialect.h"

#include "mlir/IR/OpDefinition.h"

#include <string>

#include "sparsenn/Interfaces/LayerOpInterface.h.inc"

#endif // SPARSENN_INTERFACES_LAYEROPINTERFACE_H
