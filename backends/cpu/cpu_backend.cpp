// The CPU backend: device and registry entry, op support, and the compute loop that
// runs a list of nodes on a team of OpenMP threads (see ops.h for the threading model).
#include "backends/cpu/cpu_backend.h"

#include "backends/cpu/kernels.h"
#include "backends/cpu/ops.h"
#include "core/error.h"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace ember::cpu {
namespace {

constexpr size_t kAlign = 64;

size_t align_up(size_t x) { return (x + kAlign - 1) / kAlign * kAlign; }

int default_threads() {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

bool is_f32(const Tensor* t) { return t != nullptr && t->type == Type::F32; }

// Does the CPU backend have a kernel for this node's op with these types and layouts?
bool op_supported(const Tensor& node, const CpuKernels& k) {
    const Tensor* s0 = node.src[0];
    const Tensor* s1 = node.src[1];
    const Tensor* s2 = node.src[2];
    // Results are written densely along dim 0 (cpy writes through its destination's strides).
    if (node.op != Op::Cpy && !op_is_view(node.op) && node.nb[0] != type_size(node.type)) return false;
    switch (node.op) {
        case Op::View:
        case Op::Reshape:
        case Op::Permute:
        case Op::Transpose:
            return true;
        case Op::GetRows: {
            if (s0 == nullptr || s1 == nullptr || s1->type != Type::I32 || !is_f32(&node)) return false;
            if (is_quantized(s0->type)) return k.can_dequantize(s0->type) && s0->nb[0] == type_size(s0->type);
            return k.can_dequantize(s0->type) || s0->type == Type::I32;
        }
        case Op::MulMat:
            return s0 != nullptr && k.can_mul_mat(s0->type) && s0->nb[0] == type_size(s0->type) && is_f32(s1) &&
                   is_f32(&node) && s0->ne[0] % block_size(k.vec_dot_type[static_cast<uint32_t>(s0->type)]) == 0;
        case Op::Add:
        case Op::Mul:
        case Op::Swiglu:
            return is_f32(s0) && is_f32(s1) && is_f32(&node);
        case Op::Scale:
        case Op::RmsNorm:
        case Op::Silu:
        case Op::Gelu:
            return is_f32(s0) && is_f32(&node);
        case Op::Rope: {
            if (!is_f32(s0) || s1 == nullptr || s1->type != Type::I32 || !is_f32(&node)) return false;
            if (s2 != nullptr && !is_f32(s2)) return false;
            const int32_t n_dims = node.param_i32(0);
            const int32_t mode = node.param_i32(1);
            return n_dims > 0 && n_dims % 2 == 0 && n_dims <= s0->ne[0] &&
                   (mode == static_cast<int32_t>(RopeMode::Normal) || mode == static_cast<int32_t>(RopeMode::Neox));
        }
        case Op::SoftMax:
            return is_f32(s0) && is_f32(&node) && (s1 == nullptr || s1->type == Type::F32 || s1->type == Type::F16);
        case Op::Cpy:
        case Op::Cont: {
            const Tensor* to = node.op == Op::Cpy ? s1 : &node;
            if (s0 == nullptr || to == nullptr || !copy_supported(s0->type, to->type)) return false;
            if (s0->nelements() != to->nelements()) return false;
            if (is_quantized(s0->type)) return s0->nb[0] == type_size(s0->type) && to->nb[0] == type_size(to->type);
            return true;
        }
        case Op::Argmax:
            return is_f32(s0) && node.type == Type::I32;
        case Op::None:
        case Op::Count:
            break;
    }
    return false;
}

class CpuBackend final : public Backend {
public:
    explicit CpuBackend(int n_threads) : n_threads_(n_threads > 0 ? n_threads : default_threads()) {}
    ~CpuBackend() override { std::free(work_); }

    std::string name() const override { return "cpu"; }
    const BufferType& buffer_type() const override { return HostBufferType::instance(); }
    bool supports_buffer(const BufferType& type) const override { return type.is_host(); }

    bool supports_op(const Tensor& node) const override {
        for (const Tensor* s : node.src) {
            if (s != nullptr && !can_read(*s)) return false;
        }
        return op_supported(node, cpu_kernels());
    }

    void compute(std::span<Tensor* const> nodes) override;

    int n_threads() const { return n_threads_; }

private:
    void reserve(size_t bytes);

    int n_threads_;
    std::byte* work_ = nullptr;  // scratch reused by every compute() call; grows, never shrinks
    size_t work_size_ = 0;
    std::vector<Tensor*> run_;  // the compute nodes of the current call (capacity reused)
};

void CpuBackend::reserve(size_t bytes) {
    if (bytes <= work_size_) return;
    const size_t size = align_up(std::max(bytes, work_size_ + work_size_ / 2));
    auto* p = static_cast<std::byte*>(std::aligned_alloc(kAlign, size));
    if (p == nullptr) fail("cpu: cannot allocate {} bytes of scratch memory", size);
    std::free(work_);
    work_ = p;
    work_size_ = size;
}

void CpuBackend::compute(std::span<Tensor* const> nodes) {
    const CpuKernels& kernels = cpu_kernels();

    // Check everything that can fail before any thread starts: kernels never throw.
    run_.clear();
    size_t shared = 0;
    size_t local = 0;
    for (Tensor* node : nodes) {
        if (node->op == Op::None || op_is_view(node->op)) continue;
        if (!supports_op(*node)) {
            std::string srcs;
            for (const Tensor* s : node->src) {
                if (s != nullptr) srcs += fmt::format("{}{} [{}, {}, {}, {}]", srcs.empty() ? "" : ", ", type_name(s->type),
                                                      s->ne[0], s->ne[1], s->ne[2], s->ne[3]);
            }
            fail("cpu: unsupported node '{}': {} of {}", node->name, op_name(node->op), srcs);
        }
        if (node->data == nullptr) fail("cpu: node '{}' ({}) has no memory", node->name, op_name(node->op));
        for (const Tensor* s : node->src) {
            if (s != nullptr && s->data == nullptr) {
                fail("cpu: source '{}' of node '{}' ({}) has no memory", s->name, node->name, op_name(node->op));
            }
        }
        if (node->op == Op::MulMat) shared = std::max(shared, align_up(mul_mat_shared_size(*node, kernels)));
        local = std::max(local, align_up(local_size(*node, kernels)));
        run_.push_back(node);
    }
    if (run_.empty()) return;
    const int nth_wanted = n_threads_;
    reserve(shared + local * static_cast<size_t>(nth_wanted));

    std::byte* const work = work_;
    const std::vector<Tensor*>& run = run_;
    const Tensor* failed_node = nullptr;
    int32_t failed_id = 0;

#pragma omp parallel num_threads(nth_wanted) if (nth_wanted > 1)
    {
        ThreadCtx tc;
        tc.ith = omp_get_thread_num();
        tc.nth = omp_get_num_threads();  // the team may be smaller than asked for
        tc.shared = work;
        tc.local = work + shared + local * static_cast<size_t>(tc.ith);
        tc.kernels = &kernels;

        for (Tensor* node : run) {
            switch (node->op) {
                case Op::GetRows: {
                    // Every thread checks every id: all stop together, before anything is written.
                    int32_t bad = 0;
                    if (!get_rows_check(*node, &bad)) {
                        if (tc.ith == 0) {
                            failed_node = node;
                            failed_id = bad;
                        }
                        goto done;  // every thread leaves at the same node, so no barrier is left waiting
                    }
                    get_rows(tc, *node);
                    break;
                }
                case Op::MulMat:
                    mul_mat_convert(tc, *node);
#pragma omp barrier
                    mul_mat(tc, *node);
                    break;
                case Op::Add: add(tc, *node); break;
                case Op::Mul: mul(tc, *node); break;
                case Op::Scale: scale(tc, *node); break;
                case Op::RmsNorm: rms_norm(tc, *node); break;
                case Op::Rope: rope(tc, *node); break;
                case Op::SoftMax: soft_max(tc, *node); break;
                case Op::Silu: silu(tc, *node); break;
                case Op::Gelu: gelu(tc, *node); break;
                case Op::Swiglu: swiglu(tc, *node); break;
                case Op::Cpy: cpy(tc, *node); break;
                case Op::Cont: cont(tc, *node); break;
                case Op::Argmax: argmax(tc, *node); break;
                default: break;  // excluded above
            }
#pragma omp barrier
        }
    done:;
    }

    if (failed_node != nullptr) {
        fail("get_rows: id {} out of range [0, {})", failed_id, failed_node->src[0]->ne[1]);
    }
}

// ---- device and registry ------------------------------------------------------------

std::string cpu_model_name() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        // x86: "model name"; some ARM kernels: "Hardware" or "Model".
        for (const char* key : {"model name", "Hardware", "Model"}) {
            if (line.rfind(key, 0) == 0) {
                const size_t colon = line.find(':');
                if (colon == std::string::npos) continue;
                std::string v = line.substr(colon + 1);
                v.erase(0, v.find_first_not_of(" \t"));
                if (!v.empty()) return v;
            }
        }
    }
    return "CPU";
}

class CpuDevice final : public Device {
public:
    DeviceInfo info() const override {
        DeviceInfo d;
        d.name = "CPU";
        d.description = cpu_model_name();
        d.kind = DeviceKind::Cpu;
        const long page = sysconf(_SC_PAGESIZE);
        const long pages = sysconf(_SC_PHYS_PAGES);
        const long avail = sysconf(_SC_AVPHYS_PAGES);
        if (page > 0 && pages > 0) d.memory_total = static_cast<size_t>(page) * static_cast<size_t>(pages);
        if (page > 0 && avail > 0) d.memory_free = static_cast<size_t>(page) * static_cast<size_t>(avail);
        d.properties = cpu_features().names();
        d.properties.push_back(fmt::format("threads {}", default_threads()));
        d.properties.push_back(fmt::format("kernels {}", cpu_kernels().variant));
        return d;
    }
    const BufferType& buffer_type() const override { return HostBufferType::instance(); }
    std::unique_ptr<Backend> create_backend(const BackendOptions& options) const override {
        return make_backend(options.n_threads);
    }
};

class CpuBackendReg final : public BackendReg {
public:
    std::string name() const override { return "cpu"; }
    size_t device_count() const override { return 1; }
    const Device& device(size_t index) const override {
        if (index != 0) fail("cpu: no device {} (there is one)", index);
        return device_;
    }

private:
    CpuDevice device_;
};

}  // namespace

size_t local_size(const Tensor& node, const CpuKernels& kernels) {
    switch (node.op) {
        case Op::MulMat: return mul_mat_local_size(node);
        case Op::Rope: return rope_local_size(node);
        default: return 0;
    }
}

std::unique_ptr<BackendReg> make_backend_reg() { return std::make_unique<CpuBackendReg>(); }

std::unique_ptr<Backend> make_backend(int n_threads) { return std::make_unique<CpuBackend>(n_threads); }

}  // namespace ember::cpu
