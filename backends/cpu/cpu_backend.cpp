// The CPU backend: device and registry entry, op support, and the compute loop that
// runs a list of nodes on the backend's thread pool (see cpu_ops.h for the threading model).
#include "backends/cpu/cpu_backend.h"

#include "backends/cpu/cpu_features.h"
#include "backends/cpu/cpu_ops.h"
#include "backends/cpu/kernel_levels.h"
#include "backends/cpu/thread_pool.h"
#include "core/error.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace ember::cpu {
namespace {

constexpr size_t kAlign = 64;

// mul_mat's products are split finer than one chunk per thread, so a thread that keeps its
// core takes over the work of one that loses it (machines shared with other processes).
constexpr int kMulMatChunksPerThread = 4;

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
        case Op::MulMatId:
            // The shape rule of ops::mul_mat_id again: the kernel indexes by it.
            return s0 != nullptr && k.can_mul_mat(s0->type) && s0->nb[0] == type_size(s0->type) && is_f32(s1) &&
                   s2 != nullptr && s2->type == Type::I32 && is_f32(&node) &&
                   s0->ne[0] % block_size(k.vec_dot_type[static_cast<uint32_t>(s0->type)]) == 0 &&
                   s0->ne[0] == s1->ne[0] && node.ne[0] == s0->ne[1] && node.ne[1] == s2->ne[0] &&
                   node.ne[2] == s2->ne[1] && s1->ne[2] == s2->ne[1] && (s1->ne[1] == 1 || s1->ne[1] == s2->ne[0]);
        case Op::Add:
        case Op::Mul:
        case Op::Div:
        case Op::Swiglu:
            return is_f32(s0) && is_f32(s1) && is_f32(&node);
        case Op::Scale:
        case Op::RmsNorm:
        case Op::Silu:
        case Op::Gelu:
        case Op::Tanh:
        case Op::SumRows:
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
        case Op::TopK:
            return is_f32(s0) && node.type == Type::I32;
        case Op::None:
        case Op::Count:
            break;
    }
    return false;
}

class CpuBackend final : public Backend {
public:
    explicit CpuBackend(int n_threads)
        : n_threads_(n_threads > 0 ? n_threads : default_threads()), pool_(n_threads_) {}
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
    ThreadPool pool_;
    std::byte* work_ = nullptr;  // scratch reused by every compute() call; grows, never shrinks
    size_t work_size_ = 0;
    std::vector<Tensor*> run_;  // the compute nodes of the current call (capacity reused)

    // A unit of work that all threads finish before the next begins, split into `chunks`.
    struct Step {
        Tensor* node;
        int phase;  // mul_mat: 0 converts the activations, 1 computes the products;
                    // mul_mat_id: 0 checks and groups the ids, 1 converts, 2 the products
        int chunks;
    };
    struct StepCounters {
        std::atomic<int> claimed{0};
        std::atomic<int> finished{0};
    };
    std::vector<Step> steps_;
    std::unique_ptr<StepCounters[]> counters_;
    size_t counters_size_ = 0;
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

// One chunk of a step. get_rows checks every id in every chunk, so a bad id stops all
// chunks of the node before anything is written (chunk 0 reports which); mul_mat_id checks
// its ids in its first step, which has one chunk, before any later step reads through them.
void run_chunk(const ThreadCtx& tc, Tensor& node, int phase, std::atomic<bool>& failed, const Tensor*& failed_node,
               int32_t& failed_id) {
    switch (node.op) {
        case Op::GetRows: {
            int32_t bad = 0;
            if (!get_rows_check(node, &bad)) {
                if (tc.ith == 0) {
                    failed_node = &node;
                    failed_id = bad;
                }
                failed.store(true, std::memory_order_release);
                return;
            }
            get_rows(tc, node);
            break;
        }
        case Op::MulMat:
            if (phase == 0) {
                mul_mat_convert(tc, node);
            } else {
                mul_mat(tc, node);
            }
            break;
        case Op::MulMatId:
            if (phase == 0) {
                int32_t bad = 0;
                if (!mul_mat_id_group(tc, node, &bad)) {
                    failed_node = &node;
                    failed_id = bad;
                    failed.store(true, std::memory_order_release);
                }
            } else if (phase == 1) {
                mul_mat_id_convert(tc, node);
            } else {
                mul_mat_id(tc, node);
            }
            break;
        case Op::Add: add(tc, node); break;
        case Op::Mul: mul(tc, node); break;
        case Op::Div: div(tc, node); break;
        case Op::Scale: scale(tc, node); break;
        case Op::RmsNorm: rms_norm(tc, node); break;
        case Op::Rope: rope(tc, node); break;
        case Op::SoftMax: soft_max(tc, node); break;
        case Op::Silu: silu(tc, node); break;
        case Op::Gelu: gelu(tc, node); break;
        case Op::Tanh: tanh(tc, node); break;
        case Op::Swiglu: swiglu(tc, node); break;
        case Op::Cpy: cpy(tc, node); break;
        case Op::Cont: cont(tc, node); break;
        case Op::Argmax: argmax(tc, node); break;
        case Op::TopK: top_k(tc, node); break;
        case Op::SumRows: sum_rows(tc, node); break;
        default: break;  // excluded by supports_op
    }
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
        if (node->op == Op::MulMatId) shared = std::max(shared, align_up(mul_mat_id_shared_size(*node, kernels)));
        local = std::max(local, align_up(local_size(*node, kernels)));
        run_.push_back(node);
    }
    if (run_.empty()) return;
    reserve(shared + local * static_cast<size_t>(n_threads_));

    // The steps: one per node, two for mul_mat (convert the activations, then the products),
    // three for mul_mat_id (check and group the ids, convert, the products).
    steps_.clear();
    for (Tensor* node : run_) {
        if (node->op == Op::MulMat) {
            steps_.push_back({node, 0, n_threads_});
            steps_.push_back({node, 1, n_threads_ * kMulMatChunksPerThread});
        } else if (node->op == Op::MulMatId) {
            steps_.push_back({node, 0, 1});
            steps_.push_back({node, 1, n_threads_});
            steps_.push_back({node, 2, n_threads_ * kMulMatChunksPerThread});
        } else {
            steps_.push_back({node, 0, n_threads_});
        }
    }
    if (counters_size_ < steps_.size()) {
        counters_ = std::make_unique<StepCounters[]>(steps_.size());
        counters_size_ = steps_.size();
    }
    for (size_t i = 0; i < steps_.size(); ++i) {
        counters_[i].claimed.store(0, std::memory_order_relaxed);
        counters_[i].finished.store(0, std::memory_order_relaxed);
    }

    std::byte* const work = work_;
    const std::vector<Step>& steps = steps_;
    StepCounters* const counters = counters_.get();
    std::atomic<bool> failed{false};
    const Tensor* failed_node = nullptr;
    int32_t failed_id = 0;

    // Each thread walks the steps in order, takes chunks of the current one until none are
    // left, then waits until every chunk of it is finished. A chunk is ThreadCtx{ith = chunk,
    // nth = chunks}: the kernels' fixed split, so results do not depend on who ran what.
    pool_.run([&](int thread, int) {
        ThreadCtx tc;
        tc.shared = work;
        tc.local = work + shared + local * static_cast<size_t>(thread);
        tc.kernels = &kernels;

        for (size_t i = 0; i < steps.size(); ++i) {
            const Step& step = steps[i];
            Tensor& node = *step.node;
            tc.nth = step.chunks;
            for (int c; (c = ThreadPool::claim(counters[i].claimed)) < step.chunks;) {
                tc.ith = c;
                run_chunk(tc, node, step.phase, failed, failed_node, failed_id);
                pool_.finish(counters[i].finished);
            }
            pool_.wait_for(counters[i].finished, step.chunks);
            if (failed.load(std::memory_order_acquire)) return;  // every chunk of the step saw it
        }
    });

    if (failed_node != nullptr && failed_node->op == Op::MulMatId) {
        fail("mul_mat_id: expert id {} out of range [0, {}) in node '{}'", failed_id, failed_node->src[0]->ne[2],
             failed_node->name);
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
        case Op::MulMatId: return mul_mat_id_local_size(node);
        case Op::Rope: return rope_local_size(node);
        case Op::TopK: return top_k_local_size(node);
        default: return 0;
    }
}

std::unique_ptr<BackendReg> make_backend_reg() { return std::make_unique<CpuBackendReg>(); }

std::unique_ptr<Backend> make_backend(int n_threads) { return std::make_unique<CpuBackend>(n_threads); }

}  // namespace ember::cpu
