// The BLAS backend: mul_mat for large activation batches through OpenBLAS's cblas_sgemm.
//
// It computes one op, mul_mat, and only when the activation batch (src1 ne[1]) is at least
// a threshold: below it the CPU backend's quantized dot products are faster (they read the
// weights once, in their packed form, and never expand them to F32). Every other node falls
// back to the CPU backend through the scheduler; both work on host memory, so no copies are
// ever made between them.
//
// Threads: Debian's OpenBLAS is the pthreads variant, with its own pool. The scheduler runs
// splits one after the other, so the CPU backend's threads are idle while sgemm runs and
// OpenBLAS's threads are idle while the CPU runs. Before every sgemm the backend sets
// OpenBLAS's thread count to its own n_threads (the session's), so the two pools are the same
// size and never compute at the same time: the cores are never oversubscribed. (What remains
// is each pool's brief spin-wait after its work ends; see README.md, "BLAS".)
#pragma once

#include "core/backend.h"
#include "ember/type.h"

#include <cstdint>
#include <limits>
#include <memory>

namespace ember::blas {

// "blas" registry entry with one device (this machine's CPU, through OpenBLAS).
std::unique_ptr<BackendReg> make_backend_reg();

// A BLAS backend. options.n_threads: OpenBLAS's thread count (0: all hardware threads).
// options.min_batch: the smallest activation batch it takes; 0 means automatic: the
// EMBER_BLAS_MIN_BATCH environment variable when set, else auto_min_batch(weight type).
std::unique_ptr<Backend> make_backend(const BackendOptions& options = {});

// "Never": the threshold of weight types for which BLAS does not beat the CPU backend.
inline constexpr int64_t kNeverBatch = std::numeric_limits<int64_t>::max();

// The automatic threshold for weights of type `t` (the tuned table in blas_min_batch.cpp).
int64_t auto_min_batch(Type t);

// cblas_sgemm calls made by every BLAS backend in this process so far (for tests and
// diagnostics: it shows that BLAS actually ran).
uint64_t sgemm_calls();

}  // namespace ember::blas
