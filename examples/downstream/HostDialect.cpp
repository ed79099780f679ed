//===- HostDialect.cpp - a host compiler's own ops ------------------------===//

#include "HostDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"

using namespace mlir;

#include "HostOpsDialect.cpp.inc"

#define GET_OP_CLASSES
#include "HostOps.cpp.inc"

void host::HostDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "HostOps.cpp.inc"
      >();
}
