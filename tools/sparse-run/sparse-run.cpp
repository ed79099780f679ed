//===- sparse-run.cpp - JIT-run a function on .npy inputs -----------------===//
//
//   sparse-run FILE.mlir --entry NAME --input a.npy [--input b.npy ...]
//              --output-dir DIR [--repeat N] [--threads N]
//
// Lowers the module with `sparsenn-lower-to-llvm` (unless it is already in the
// LLVM dialect), JIT-compiles it with MLIR's ExecutionEngine and calls the
// entry function through its C interface. Every bad input (file, IR, shape,
// dtype) gives one line on stderr and exit status 1.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/InitAll.h"
#include "sparsenn/Pipelines/GPUPipeline.h"
#include "sparsenn/Pipelines/Pipelines.h"
#include "sparsenn/Runtime/GPU.h"
#include "sparsenn/Runtime/Kernels.h"
#include "sparsenn/Runtime/MemRefABI.h"
#include "sparsenn/Support/Npy.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"

#include <algorithm>
#include <chrono>
#include <cstring>

using namespace mlir;
namespace npy = ::sparsenn::npy;

namespace {

llvm::cl::opt<std::string> inputFile(llvm::cl::Positional,
                                     llvm::cl::desc("<module.mlir>"),
                                     llvm::cl::Required);
llvm::cl::opt<std::string>
    entryName("entry", llvm::cl::desc("Function to call"), llvm::cl::Required);
llvm::cl::list<std::string> inputs("input",
                                   llvm::cl::desc("An argument (.npy), in "
                                                  "order"));
llvm::cl::opt<std::string> outputDir("output-dir",
                                     llvm::cl::desc("Where result<i>.npy go"),
                                     llvm::cl::init("."));
llvm::cl::opt<unsigned> repeat("repeat",
                               llvm::cl::desc("Run N more times and print "
                                              "timing"),
                               llvm::cl::init(0));
llvm::cl::opt<unsigned> optLevel("O",
                                 llvm::cl::desc("LLVM optimisation "
                                                "level (0-3)"),
                                 llvm::cl::init(3));
llvm::cl::opt<bool> noLower("no-lower",
                            llvm::cl::desc("The module is already in the LLVM "
                                           "dialect: skip the lowering"),
                            llvm::cl::init(false));

llvm::cl::opt<bool>
    useGPU("gpu",
        llvm::cl::desc("Run on an NVIDIA GPU: lower with sparsenn-lower-to-nvvm "
                       "and launch through the CUDA driver (needs libcuda)"),
        llvm::cl::init(false));
llvm::cl::opt<std::string> gpuOptions(
    "gpu-options",
    llvm::cl::desc("Options of sparsenn-lower-to-nvvm for --gpu, e.g. "
                   "'chip=sm_90 format=isa'"),
    llvm::cl::init(""));

[[noreturn]] void fail(const llvm::Twine &message) {
  llvm::errs() << "sparse-run: error: " << message << "\n";
  std::exit(1);
}

std::optional<npy::DType> toNpyType(Type type) {
  if (type.isF32())
    return npy::DType::F32;
  if (type.isF64())
    return npy::DType::F64;
  if (type.isSignlessInteger(1))
    return npy::DType::Bool;
  if (type.isSignlessInteger(8))
    return npy::DType::I8;
  if (type.isSignlessInteger(16))
    return npy::DType::I16;
  if (type.isSignlessInteger(32))
    return npy::DType::I32;
  if (type.isSignlessInteger(64))
    return npy::DType::I64;
  return std::nullopt;
}

std::string typeString(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << type;
  return s;
}

std::string shapeString(ArrayRef<int64_t> shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

/// A static-shaped tensor or memref type with an element type .npy can hold.
struct ArgType {
  SmallVector<int64_t> shape;
  npy::DType dtype;
};

ArgType checkType(Type type, const llvm::Twine &what) {
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped || !isa<RankedTensorType, MemRefType>(type) ||
      !shaped.hasStaticShape())
    fail(what + " has type " + typeString(type) +
         "; sparse-run needs statically shaped tensors or memrefs");
  std::optional<npy::DType> dtype = toNpyType(shaped.getElementType());
  if (!dtype)
    fail(what + " has element type " + typeString(shaped.getElementType()) +
         ", which .npy files cannot carry here (f32, f64, i1, i8, i16, i32, "
         "i64)");
  return {SmallVector<int64_t>(shaped.getShape()), *dtype};
}

/// A strided memref descriptor {allocated, aligned, offset, sizes, strides}
/// laid out as the LLVM lowering does (all 64-bit words).
struct Descriptor {
  std::vector<int64_t> words;
  static size_t numWords(size_t rank) { return 3 + 2 * rank; }
};

Descriptor describe(npy::Array &array) {
  size_t rank = array.shape.size();
  Descriptor d;
  d.words.resize(Descriptor::numWords(rank));
  auto ptr = reinterpret_cast<int64_t>(array.data.data());
  d.words[0] = ptr;
  d.words[1] = ptr;
  d.words[2] = 0;
  int64_t stride = 1;
  for (size_t i = rank; i-- > 0;) {
    d.words[3 + i] = array.shape[i];
    d.words[3 + rank + i] = stride;
    stride *= array.shape[i];
  }
  return d;
}

/// Copies a (possibly strided) result into a C-order array.
npy::Array readResult(const int64_t *words, const ArgType &type) {
  size_t rank = type.shape.size();
  npy::Array out;
  out.dtype = type.dtype;
  out.shape.assign(type.shape.begin(), type.shape.end());
  size_t elt = npy::elementSize(type.dtype);
  out.data.resize(out.numElements() * elt);
  auto *base = reinterpret_cast<const uint8_t *>(words[1]);
  int64_t offset = words[2];
  const int64_t *strides = words + 3 + rank;
  std::vector<int64_t> index(rank, 0);
  for (size_t i = 0; i < out.numElements(); ++i) {
    int64_t linear = offset;
    for (size_t d = 0; d < rank; ++d)
      linear += index[d] * strides[d];
    std::memcpy(out.data.data() + i * elt, base + linear * elt, elt);
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < type.shape[d])
        break;
      index[d] = 0;
    }
  }
  return out;
}

/// Diagnostics as one line each: `sparse-run: error: file:line:col: msg`.
void installDiagnosticHandler(MLIRContext &context) {
  context.getDiagEngine().registerHandler([](Diagnostic &diag) {
    if (diag.getSeverity() != DiagnosticSeverity::Error)
      return success();
    std::string loc;
    llvm::raw_string_ostream os(loc);
    if (auto fileLoc = dyn_cast<FileLineColLoc>(diag.getLocation()))
      os << fileLoc.getFilename().getValue() << ":" << fileLoc.getLine() << ":"
         << fileLoc.getColumn();
    else
      diag.getLocation().print(os);
    llvm::errs() << "sparse-run: error: " << loc << ": " << diag.str() << "\n";
    return success();
  });
}

bool isLLVMOnly(ModuleOp module) {
  bool llvmOnly = true;
  module.walk([&](Operation *op) {
    if (op != module.getOperation() &&
        !isa<LLVM::LLVMDialect>(op->getDialect()))
      llvmOnly = false;
  });
  return llvmOnly;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // The lowering pipeline is parsed from text: every pass it names must be
  // registered.
  mlir::sparsenn::registerAllPasses();
  // --threads N is taken out before LLVM parses the rest: libMLIR already
  // registers an option named "threads".
  std::vector<char *> args;
  long numThreads = 0;
  for (int i = 0; i < argc; ++i) {
    StringRef arg(argv[i]);
    std::optional<StringRef> value;
    if (arg == "--threads" || arg == "-threads") {
      if (i + 1 >= argc)
        fail("--threads needs a value");
      value = StringRef(argv[++i]);
    } else if (arg.consume_front("--threads=") ||
               arg.consume_front("-threads=")) {
      value = arg;
    }
    if (!value) {
      args.push_back(argv[i]);
      continue;
    }
    if (value->getAsInteger(10, numThreads) || numThreads < 0 ||
        numThreads > 1024)
      fail("--threads must be between 1 and 1024 (0: the default), got '" +
           *value + "'");
  }
  llvm::cl::ParseCommandLineOptions(
      static_cast<int>(args.size()), args.data(),
      "sparse-run: JIT-run an MLIR function on .npy inputs\n\n"
      "  --threads N   threads of the runtime kernels (default: "
      "SPARSENN_NUM_THREADS,\n                else the number of cores); "
      "results do not depend on it\n");
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  sparsenn_set_num_threads(static_cast<int>(numThreads));

  DialectRegistry registry;
  mlir::sparsenn::registerAllDialects(registry);
  registerAllToLLVMIRTranslations(registry);
  MLIRContext context(registry);
  installDiagnosticHandler(context);

  llvm::SourceMgr sourceMgr;
  std::string error;
  auto file = openInputFile(inputFile, &error);
  if (!file)
    fail(error);
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1; // the diagnostic handler printed the reason

  auto entry = module->lookupSymbol<func::FuncOp>(entryName);
  if (!entry || entry.isExternal())
    fail("no function @" + entryName + " with a body in '" + inputFile + "'");
  FunctionType fnType = entry.getFunctionType();
  if (fnType.getNumInputs() != inputs.size())
    fail("@" + entryName + " takes " + llvm::Twine(fnType.getNumInputs()) +
         " arguments, " + llvm::Twine(inputs.size()) + " --input given");
  SmallVector<ArgType> argTypes, resultTypes;
  for (auto [i, t] : llvm::enumerate(fnType.getInputs()))
    argTypes.push_back(checkType(t, "argument #" + llvm::Twine(i)));
  for (auto [i, t] : llvm::enumerate(fnType.getResults()))
    resultTypes.push_back(checkType(t, "result #" + llvm::Twine(i)));

  // Read and check the inputs before compiling anything.
  std::vector<npy::Array> arrays(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!npy::read(inputs[i], arrays[i], error))
      fail(error);
    if (arrays[i].dtype != argTypes[i].dtype)
      fail("'" + inputs[i] + "' has dtype " + npy::name(arrays[i].dtype) +
           ", argument #" + llvm::Twine(i) + " of @" + entryName + " needs " +
           npy::name(argTypes[i].dtype));
    if (ArrayRef<int64_t>(arrays[i].shape) != ArrayRef(argTypes[i].shape))
      fail("'" + inputs[i] + "' has shape " + shapeString(arrays[i].shape) +
           ", argument #" + llvm::Twine(i) + " of @" + entryName + " needs " +
           shapeString(argTypes[i].shape));
  }

  // Lower to the LLVM dialect with a C interface on the entry.
  entry->setAttr("llvm.emit_c_interface", UnitAttr::get(&context));
  if (!noLower && !isLLVMOnly(*module)) {
    PassManager pm(&context);
    if (useGPU) {
      // Say why not before compiling anything.
      if (!sparsenn_gpu_available())
        fail(llvm::Twine("--gpu: no usable GPU: ") +
             sparsenn_gpu_last_error());
      if (failed(parsePassPipeline(
              "sparsenn-lower-to-nvvm{" + gpuOptions + "}", pm)))
        fail("invalid --gpu-options '" + gpuOptions + "'");
    } else if (failed(mlir::sparsenn::buildLowerToLLVMPipeline(pm)))
      fail("invalid lowering pipeline");
    if (failed(pm.run(*module)))
      return 1;
  }

  ExecutionEngineOptions options;
  // The host's target machine, so that LLVM's vectorisers know the CPU's
  // vector registers (without it the loops left in the module, e.g. the
  // element-wise ops no kernel absorbed, stay scalar).
  std::unique_ptr<llvm::TargetMachine> hostMachine;
  if (auto builder = llvm::orc::JITTargetMachineBuilder::detectHost()) {
    if (auto machine = builder->createTargetMachine())
      hostMachine = std::move(*machine);
    else
      llvm::consumeError(machine.takeError());
  } else {
    llvm::consumeError(builder.takeError());
  }
  options.transformer =
      makeOptimizingTransformer(optLevel, 0, hostMachine.get());
  SmallVector<StringRef> libs = {SPARSENN_C_RUNNER_UTILS};
  options.sharedLibPaths = libs;
  auto maybeEngine = ExecutionEngine::create(*module, options);
  if (!maybeEngine)
    fail("JIT compilation failed: " + llvm::toString(maybeEngine.takeError()));
  std::unique_ptr<ExecutionEngine> engine = std::move(*maybeEngine);
  // The runtime is linked into this tool: hand its entry points to the JIT.
  engine->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap map;
    auto add = [&](const char *name, void *fn) {
      map[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(fn),
                             llvm::JITSymbolFlags::Exported};
    };
    size_t cpuCount = 0;
    const sparsenn_runtime_symbol *cpuSymbols =
        sparsenn_runtime_symbols(&cpuCount);
    for (size_t i = 0; i < cpuCount; ++i)
      add(cpuSymbols[i].name, cpuSymbols[i].address);
    size_t count = 0;
    const sparsenn_gpu_symbol *gpuSymbols = sparsenn_gpu_symbols(&count);
    for (size_t i = 0; i < count; ++i)
      map[interner(gpuSymbols[i].name)] = {
          llvm::orc::ExecutorAddr::fromPtr(gpuSymbols[i].address),
          llvm::JITSymbolFlags::Exported};
    return map;
  });
  // Global constructors load the GPU modules (gpu.binary).
  engine->initialize();
  if (useGPU && sparsenn_gpu_last_error())
    fail(llvm::Twine("--gpu: ") + sparsenn_gpu_last_error());

  // Arguments: pointers to descriptors; results: one struct of descriptors
  // written through a pointer passed first.
  std::vector<Descriptor> descriptors;
  for (npy::Array &a : arrays)
    descriptors.push_back(describe(a));
  size_t resultWords = 0;
  for (const ArgType &t : resultTypes)
    resultWords += Descriptor::numWords(t.shape.size());
  std::vector<int64_t> results(std::max<size_t>(resultWords, 1));
  void *resultPtr = results.data();
  std::vector<void *> argPtrs;
  for (Descriptor &d : descriptors)
    argPtrs.push_back(d.words.data());
  SmallVector<void *> packed;
  if (!resultTypes.empty())
    packed.push_back(&resultPtr);
  for (void *&p : argPtrs)
    packed.push_back(&p);

  std::string fn = "_mlir_ciface_" + entryName;
  auto invoke = [&] {
    if (llvm::Error err = engine->invokePacked(fn, packed))
      fail("cannot call @" + entryName + ": " + llvm::toString(std::move(err)));
  };
  invoke();
  if (useGPU && sparsenn_gpu_last_error())
    fail(llvm::Twine("--gpu: ") + sparsenn_gpu_last_error());

  if (!llvm::sys::fs::is_directory(outputDir))
    if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
      fail("cannot create '" + outputDir + "': " + ec.message());
  size_t word = 0;
  for (auto [i, t] : llvm::enumerate(resultTypes)) {
    npy::Array out = readResult(results.data() + word, t);
    word += Descriptor::numWords(t.shape.size());
    SmallString<256> path(outputDir.getValue());
    llvm::sys::path::append(path, "result" + std::to_string(i) + ".npy");
    if (!npy::write(std::string(path), out, error))
      fail(error);
  }

  if (repeat > 0) {
    std::vector<double> ms;
    for (unsigned r = 0; r < repeat; ++r) {
      auto start = std::chrono::steady_clock::now();
      invoke();
      auto stop = std::chrono::steady_clock::now();
      ms.push_back(
          std::chrono::duration<double, std::milli>(stop - start).count());
    }
    std::sort(ms.begin(), ms.end());
    llvm::outs() << llvm::formatv(
        "sparse-run: @{0}: median {1:F4} ms, min {2:F4} ms over {3} runs "
        "({4} threads, kernels {5})\n",
        entryName, ms[ms.size() / 2], ms.front(), ms.size(),
        sparsenn_get_num_threads(), sparsenn_kernels_current_target());
  }
  return 0;
}
