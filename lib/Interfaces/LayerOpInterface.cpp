//===- LayerOpInterface.cpp - layers with weights -------------------------===//

#include "sparsenn/Interfaces/LayerOpInterface.h"

using namespace mlir;
using namespace mlir::sparsenn;

#include "sparsenn/Interfaces/LayerOpInterface.cpp.inc"

int64_t LayerOpInterface::getNumParameters() {
  int64_t weights = 1;
  for (int64_t d : getLayerWeightShape())
    weights *= d;
  int64_t bias = 0;
  if (Value b = getLayerBias())
    bias = cast<ShapedType>(b.getType()).getNumElements();
  return weights + bias;
}

int64_t LayerOpInterface::getMacsPerSample() {
  int64_t weights = 1;
  for (int64_t d : getLayerWeightShape())
    weights *= d;
  return weights * getPositionsPerSample();
}
