// The BLAS backend: device and registry entry, op support (mul_mat at or above the batch
// threshold), and the compute loop. The arithmetic is in blas_mul_mat.cpp, the automatic
// thresholds in blas_min_batch.cpp.
#include "backends/blas/blas_backend.h"

#include "backends/blas/blas_mul_mat.h"
#include "core/error.h"

#include <cblas.h>

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

namespace ember::blas {
namespace {

int default_threads() {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

// EMBER_BLAS_MIN_BATCH: one threshold for every weight type, overriding the table.
std::optional<int64_t> env_min_batch() {
    const char* env = std::getenv("EMBER_BLAS_MIN_BATCH");
    if (env == nullptr || *env == '\0') return std::nullopt;
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(env, &end, 10);
    if (errno != 0 || end == env || *end != '\0' || v < 1) {
        fail("EMBER_BLAS_MIN_BATCH must be a positive integer (the smallest batch BLAS takes), not '{}'", env);
    }
    return static_cast<int64_t>(v);
}

// "OpenBLAS 0.3.21 ... SkylakeX, pthreads": what was linked and how it threads.
std::string openblas_description() {
    const char* config = openblas_get_config();
    std::string d = config != nullptr ? config : "OpenBLAS";
    while (!d.empty() && d.back() == ' ') d.pop_back();
    switch (openblas_get_parallel()) {
        case 0: d += ", sequential"; break;
        case 1: d += ", pthreads"; break;
        case 2: d += ", OpenMP"; break;
        default: break;
    }
    return d;
}

class BlasBackend final : public Backend {
public:
    BlasBackend(int n_threads, std::optional<int64_t> min_batch)
        : n_threads_(n_threads > 0 ? n_threads : default_threads()), min_batch_(min_batch), mul_mat_(n_threads_) {}

    std::string name() const override { return "blas"; }
    const BufferType& buffer_type() const override { return HostBufferType::instance(); }
    bool supports_buffer(const BufferType& type) const override { return type.is_host(); }

    bool supports_op(const Tensor& node) const override {
        if (node.op != Op::MulMat || !SgemmMulMat::supports(node)) return false;
        for (const Tensor* s : node.src) {
            if (s != nullptr && !can_read(*s)) return false;
        }
        return node.src[1]->ne[1] >= min_batch(node.src[0]->type);
    }

    void compute(std::span<Tensor* const> nodes) override {
        for (Tensor* node : nodes) {
            if (node->op == Op::None || op_is_view(node->op)) continue;
            if (!supports_op(*node)) {
                fail("blas: unsupported node '{}' ({}): only mul_mat with a batch of at least {} is computed here",
                     node->name, op_name(node->op),
                     node->src[0] != nullptr ? min_batch(node->src[0]->type) : int64_t{0});
            }
            if (node->data == nullptr || node->src[0]->data == nullptr || node->src[1]->data == nullptr) {
                fail("blas: node '{}' or one of its sources has no memory", node->name);
            }
            mul_mat_.compute(*node);
        }
    }

private:
    int64_t min_batch(Type weight_type) const { return min_batch_ ? *min_batch_ : auto_min_batch(weight_type); }

    int n_threads_;
    std::optional<int64_t> min_batch_;  // one threshold for every type, else the automatic table
    SgemmMulMat mul_mat_;
};

class BlasDevice final : public Device {
public:
    DeviceInfo info() const override {
        DeviceInfo d;
        d.name = "BLAS";
        d.description = openblas_description();
        d.kind = DeviceKind::Cpu;
        d.properties.push_back(fmt::format("threads {}", default_threads()));
        d.properties.push_back("mul_mat only, large batches");
        return d;
    }
    const BufferType& buffer_type() const override { return HostBufferType::instance(); }
    std::unique_ptr<Backend> create_backend(const BackendOptions& options) const override {
        return make_backend(options);
    }
};

class BlasBackendReg final : public BackendReg {
public:
    std::string name() const override { return "blas"; }
    size_t device_count() const override { return 1; }
    const Device& device(size_t index) const override {
        if (index != 0) fail("blas: no device {} (there is one)", index);
        return device_;
    }

private:
    BlasDevice device_;
};

}  // namespace

std::unique_ptr<BackendReg> make_backend_reg() { return std::make_unique<BlasBackendReg>(); }

std::unique_ptr<Backend> make_backend(const BackendOptions& options) {
    if (options.min_batch < 0) fail("blas: the minimum batch must not be negative ({})", options.min_batch);
    std::optional<int64_t> min_batch = env_min_batch();
    if (options.min_batch > 0) min_batch = options.min_batch;
    return std::make_unique<BlasBackend>(options.n_threads, min_batch);
}

}  // namespace ember::blas
