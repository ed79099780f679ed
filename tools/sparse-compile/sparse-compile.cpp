//===- sparse-compile.cpp - ahead-of-time compile a module to a .so -------===//
//
//   sparse-compile FILE.mlir -o libmodel.so
//   sparse-compile --gpu FILE.mlir -o libmodel.so     (NVIDIA GPU, sm_90)
//
// Lowers the module with `sparsenn-lower-to-llvm`, gives every public
// function a C interface (`_mlir_ciface_<name>`, see
// runtime/include/sparsenn/Runtime/Model.h), compiles it for the host CPU
// and links a shared library with the sparsenn runtime inside, so that the
// result runs without the compiler. Bad input: one line and exit status 1.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/InitAll.h"
#include "sparsenn/Pipelines/GPUPipeline.h"
#include "sparsenn/Pipelines/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"

using namespace mlir;

namespace {

llvm::cl::opt<std::string> inputFile(llvm::cl::Positional,
                                     llvm::cl::desc("<module.mlir>"),
                                     llvm::cl::Required);
llvm::cl::opt<std::string> outputFile("o",
                                      llvm::cl::desc("Shared library to write"),
                                      llvm::cl::Required);
llvm::cl::opt<bool> keepObject("keep-object",
                               llvm::cl::desc("Also keep OUTPUT.o"),
                               llvm::cl::init(false));

llvm::cl::opt<bool> useGPU(
    "gpu",
    llvm::cl::desc("Compile for an NVIDIA GPU (sparsenn-lower-to-nvvm); the "
                   "library embeds the device code and the CUDA launch "
                   "runtime (runtime/include/sparsenn/Runtime/GPU.h)"),
    llvm::cl::init(false));
llvm::cl::opt<std::string> gpuOptions(
    "gpu-options",
    llvm::cl::desc("Options of sparsenn-lower-to-nvvm, e.g. 'chip=sm_90 "
                   "format=fatbin'"),
    llvm::cl::init(""));

[[noreturn]] void fail(const llvm::Twine &message) {
  llvm::errs() << "sparse-compile: error: " << message << "\n";
  std::exit(1);
}

// The runtime archive next to the tool (bin/../lib, in the build tree and in
// an installed tree alike), else the one the build made.
std::string runtimeLibrary(const char *argv0,
                           const char *name = "libSparseNNRuntime.a",
                           const char *fallback = SPARSENN_RUNTIME_LIBRARY) {
  std::string exe = llvm::sys::fs::getMainExecutable(
      argv0, reinterpret_cast<void *>(reinterpret_cast<intptr_t>(&fail)));
  llvm::SmallString<256> path(
      llvm::sys::path::parent_path(llvm::sys::path::parent_path(exe)));
  llvm::sys::path::append(path, "lib", name);
  if (!exe.empty() && llvm::sys::fs::exists(path))
    return std::string(path);
  return fallback;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mlir::sparsenn::registerAllPasses();
  llvm::cl::ParseCommandLineOptions(
      argc, argv,
      "sparse-compile: compile an MLIR module to a shared "
      "library with a C API\n");
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();

  DialectRegistry registry;
  mlir::sparsenn::registerAllDialects(registry);
  registerAllToLLVMIRTranslations(registry);
  MLIRContext context(registry);
  context.getDiagEngine().registerHandler([](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error) {
      std::string loc;
      llvm::raw_string_ostream os(loc);
      diag.getLocation().print(os);
      llvm::errs() << "sparse-compile: error: " << loc << ": " << diag.str()
                   << "\n";
    }
    return success();
  });

  std::string error;
  auto file = openInputFile(inputFile, &error);
  if (!file)
    fail(error);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1;

  // Every public function with a body gets the C interface of Model.h.
  int entries = 0;
  module->walk([&](func::FuncOp f) {
    if (f.isPublic() && !f.isExternal()) {
      f->setAttr("llvm.emit_c_interface", UnitAttr::get(&context));
      ++entries;
    }
  });
  if (!entries)
    fail("'" + inputFile + "' has no public function to export");

  PassManager pm(&context);
  if (useGPU) {
    if (failed(parsePassPipeline("sparsenn-lower-to-nvvm{" + gpuOptions + "}",
                                 pm)))
      fail("invalid --gpu-options '" + gpuOptions + "'");
  } else if (failed(mlir::sparsenn::buildLowerToLLVMPipeline(pm))) {
    fail("invalid lowering pipeline");
  }
  if (failed(pm.run(*module)))
    return 1;

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(*module, llvmContext);
  if (!llvmModule)
    fail("translation to LLVM IR failed");

  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    fail("cannot detect the host: " + llvm::toString(builder.takeError()));
  builder->setRelocationModel(llvm::Reloc::PIC_);
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto machine = builder->createTargetMachine();
  if (!machine)
    fail("no target machine: " + llvm::toString(machine.takeError()));
  llvmModule->setDataLayout((*machine)->createDataLayout());
  llvmModule->setTargetTriple((*machine)->getTargetTriple());
  if (llvm::Error err =
          makeOptimizingTransformer(3, 0, machine->get())(llvmModule.get()))
    fail("LLVM optimisation failed: " + llvm::toString(std::move(err)));

  std::string objectPath = outputFile + ".o";
  {
    std::error_code ec;
    llvm::ToolOutputFile object(objectPath, ec, llvm::sys::fs::OF_None);
    if (ec)
      fail("cannot write '" + objectPath + "': " + ec.message());
    llvm::legacy::PassManager codegen;
    if ((*machine)->addPassesToEmitFile(codegen, object.os(), nullptr,
                                        llvm::CodeGenFileType::ObjectFile))
      fail("the target cannot emit object files");
    codegen.run(*llvmModule);
    object.keep();
  }

  // Link: the object, the runtime (static, position independent) and MLIR's
  // C runner utilities (memrefCopy), with an rpath so the library loads.
  auto cxx = llvm::sys::findProgramByName("c++");
  if (!cxx)
    fail("no C++ linker driver ('c++') on PATH");
  std::string runtime = runtimeLibrary(argv[0]);
  SmallVector<StringRef> args = {*cxx,
                                 "-shared",
                                 "-o",
                                 outputFile,
                                 objectPath,
                                 // The thread setting of Model.h is
                                 // exported even if no kernel uses it.
                                 "-Wl,--undefined=sparsenn_set_num_threads",
                                 "-Wl,--undefined=sparsenn_get_num_threads",
                                 runtime,
                                 "-L" SPARSENN_LLVM_LIBRARY_DIR,
                                 "-lmlir_c_runner_utils",
                                 "-Wl,-rpath," SPARSENN_LLVM_LIBRARY_DIR,
                                 "-lm"};
  // What the runtime links (oneDNN, threads), space-separated.
  SmallVector<StringRef> runtimeLibs;
  StringRef(SPARSENN_RUNTIME_LINK_LIBS).split(runtimeLibs, ' ', -1, false);
  args.append(runtimeLibs.begin(), runtimeLibs.end());
  // The GPU runtime whole, so that the library also exports its status API
  // (sparsenn_gpu_last_error, ...); it loads libcuda itself (dlopen).
  std::string gpuRuntime =
      runtimeLibrary(argv[0], "libSparseNNGPURuntime.a",
                     SPARSENN_GPU_RUNTIME_LIBRARY);
  if (useGPU)
    args.append({"-Wl,--whole-archive", gpuRuntime, "-Wl,--no-whole-archive",
                 "-ldl"});
  std::string linkError;
  int rc =
      llvm::sys::ExecuteAndWait(*cxx, args, std::nullopt, {}, 0, 0, &linkError);
  if (!keepObject)
    llvm::sys::fs::remove(objectPath);
  if (rc != 0)
    fail("linking '" + outputFile + "' failed" +
         (linkError.empty() ? "" : ": " + linkError));
  return 0;
}
