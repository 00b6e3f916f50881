// The CPU backend: every op in portable C++, multi-threaded, with SIMD kernels
// chosen once at start-up behind cpu_kernels() (see kernel_levels.h).
#pragma once

#include "core/backend.h"

#include <memory>

namespace ember::cpu {

// "cpu" registry entry with one device (this machine's CPU).
std::unique_ptr<BackendReg> make_backend_reg();

// A CPU backend instance; n_threads 0 means all hardware threads.
std::unique_ptr<Backend> make_backend(int n_threads = 0);

}  // namespace ember::cpu
