# The host compiler's own tests: sparsenn's passes working through the host
# ops' interface models. Run by test/Embedding/embedding.sh as
#   lit --param my_compiler=PATH --param llvm_tools=DIR examples/downstream/test
import os

import lit.formats

config.name = "downstream"
config.test_format = lit.formats.ShTest(True)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = lit_config.params.get("work_dir", config.test_source_root)
config.excludes = ["lit.cfg.py"]
config.substitutions.append(("%my-compiler", lit_config.params["my_compiler"]))
config.environment["PATH"] = os.pathsep.join(
    [lit_config.params["llvm_tools"], os.environ.get("PATH", "")])
