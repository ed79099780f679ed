# Cross-compiles for aarch64 (Debian's g++-aarch64-linux-gnu and the arm64
# multiarch packages, e.g. libhwy-dev:arm64, libgtest-dev:arm64); programs
# run under qemu-user. Used by the runtime's aarch64 sub-build
# (runtime/CMakeLists.txt, test runtime.aarch64.*):
#   cmake -S runtime -B build-arm64 \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# Multiarch: libraries in /usr/lib/aarch64-linux-gnu, headers in /usr/include.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu)
