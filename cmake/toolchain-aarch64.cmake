# Cross-compiling ember for 64-bit ARM (AArch64 Linux) on an x86-64 Debian host.
#
# Needs Debian's cross toolchain and arm64 builds of the dependencies (multiarch):
#   apt-get install g++-aarch64-linux-gnu qemu-user
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get install libfmt-dev:arm64 libgtest-dev:arm64 libgomp1:arm64  (CLI11 is header-only)
# scripts/cross-aarch64 does all of this, then builds and runs the kernel tests.
#
# Programs built here run through qemu-aarch64 (CMAKE_CROSSCOMPILING_EMULATOR), so
# gtest_discover_tests and ctest work as in a native build.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(EMBER_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${EMBER_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${EMBER_CROSS_TRIPLE}-g++)
# Multiarch: arm64 packages put their libraries and CMake configs in /usr/lib/aarch64-linux-gnu
# (headers are shared in /usr/include); the cross toolchain's own runtime (ld.so, libstdc++,
# libgomp) lives in /usr/aarch64-linux-gnu.
set(CMAKE_LIBRARY_ARCHITECTURE ${EMBER_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH /usr/${EMBER_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)  # build tools are the host's
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

find_program(EMBER_QEMU_AARCH64 qemu-aarch64)
if(EMBER_QEMU_AARCH64)
  # No -L /usr/aarch64-linux-gnu: programs run on the multiarch arm64 runtime (libc6:arm64,
  # libstdc++6:arm64 in /lib/aarch64-linux-gnu, loader /lib/ld-linux-aarch64.so.1). With the
  # cross toolchain's copy of glibc (libc6-arm64-cross 2.36-8cross1), pthread_create never
  # returns under Debian 12's qemu-user 7.2, so every multi-threaded test would hang.
  set(CMAKE_CROSSCOMPILING_EMULATOR ${EMBER_QEMU_AARCH64})
endif()
