//===- HostDialect.h - a host compiler's own ops ----------------*- C++ -*-===//

#ifndef HOST_DIALECT_H
#define HOST_DIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "HostOpsDialect.h.inc"

#define GET_OP_CLASSES
#include "HostOps.h.inc"

namespace mlir {
class DialectRegistry;
}

namespace host {
/// Attaches sparsenn's LayerOpInterface, ChannelPropagationOpInterface and
/// DifferentiableOpInterface to the host ops (HostInterfaceModels.cpp).
void registerHostInterfaceModels(mlir::DialectRegistry &registry);
} // namespace host

#endif // HOST_DIALECT_H
