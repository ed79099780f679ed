//===- ExternalModels.cpp - one call registers every model ----------------===//

#include "sparsenn/Interfaces/ExternalModels.h"

void mlir::sparsenn::registerSparseNNExternalModels(DialectRegistry &registry) {
  registerChannelPropagationExternalModels(registry);
  registerDifferentiableExternalModels(registry);
  registerSparseNNAdjointModels(registry);
}
