#include "backend/op_harness.h"

#include "core/error.h"
#include "core/graph.h"
#include "core/scheduler.h"
#include "quant/bf16.h"
#include "quant/f16.h"
#include "quant/quant.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <unordered_set>

namespace ember::test {
namespace {

const char* at(const Tensor& t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    return static_cast<const char*>(t.data) + i0 * static_cast<int64_t>(t.nb[0]) + i1 * static_cast<int64_t>(t.nb[1]) +
           i2 * static_cast<int64_t>(t.nb[2]) + i3 * static_cast<int64_t>(t.nb[3]);
}

double decode(Type type, const char* p) {
    switch (type) {
        case Type::F32: {
            float v;
            std::memcpy(&v, p, 4);
            return v;
        }
        case Type::F16: {
            uint16_t h;
            std::memcpy(&h, p, 2);
            return quant::fp16_to_fp32(h);
        }
        case Type::BF16: {
            uint16_t h;
            std::memcpy(&h, p, 2);
            return quant::bf16_to_fp32(h);
        }
        case Type::I32: {
            int32_t v;
            std::memcpy(&v, p, 4);
            return v;
        }
        default: fail("test harness: cannot read elements of type {}", type_name(type));
    }
}

// Moves every tensor of the graph into one buffer of the backend's buffer type, keeping
// the data. Views are re-pointed at their storage owner's new place.
std::unique_ptr<Buffer> place_in_buffer(Backend& backend, const Graph& graph) {
    std::vector<Tensor*> all(graph.leafs().begin(), graph.leafs().end());
    all.insert(all.end(), graph.nodes().begin(), graph.nodes().end());
    // Sources outside the graph's lists (none expected, but be safe).
    std::unordered_set<Tensor*> seen(all.begin(), all.end());
    for (size_t i = 0; i < all.size(); ++i) {
        for (Tensor* s : all[i]->src) {
            if (s != nullptr && seen.insert(s).second) all.push_back(s);
        }
        if (all[i]->view_src != nullptr && seen.insert(all[i]->view_src).second) all.push_back(all[i]->view_src);
    }

    const BufferType& type = backend.buffer_type();
    const size_t align = type.alignment();
    std::vector<Tensor*> owners;
    std::vector<size_t> offsets;
    size_t total = 0;
    for (Tensor* t : all) {
        if (t->view_src != nullptr) continue;
        owners.push_back(t);
        offsets.push_back(total);
        total += (t->nbytes() + align - 1) / align * align;
    }
    std::unique_ptr<Buffer> buffer = type.allocate(total == 0 ? align : total);
    auto* base = static_cast<char*>(buffer->base());
    for (size_t i = 0; i < owners.size(); ++i) {
        Tensor* t = owners[i];
        const void* host = t->data;
        t->data = base + offsets[i];
        t->buffer = buffer.get();
        if (host != nullptr && t->nbytes() > 0) buffer->set(*t, host, 0, t->nbytes());
    }
    for (Tensor* t : all) {
        if (t->view_src == nullptr) continue;
        t->data = static_cast<char*>(t->view_src->data) + t->view_offs;
        t->buffer = buffer.get();
    }
    return buffer;
}

// As a model's weights are placed: each leaf whose every user `backend` supports moves into a
// buffer of its own of the backend's type (keeping the data), with the views of it; the rest
// stay in host memory. Nodes are left to the scheduler.
std::vector<std::unique_ptr<Buffer>> place_leaves_for(Backend& backend, const Graph& graph) {
    std::vector<std::unique_ptr<Buffer>> buffers;
    for (Tensor* leaf : graph.leafs()) {
        if (leaf->view_src != nullptr || leaf->data == nullptr) continue;
        bool all_supported = true;
        bool used = false;
        for (const Tensor* node : graph.nodes()) {
            if (op_is_view(node->op)) continue;
            for (const Tensor* s : node->src) {
                if (s == nullptr || (s != leaf && s->view_src != leaf)) continue;
                used = true;
                all_supported = all_supported && backend.supports_op(*node);
            }
        }
        if (!used || !all_supported) continue;
        std::unique_ptr<Buffer> buffer = backend.buffer_type().allocate(std::max<size_t>(leaf->nbytes(), 1));
        const void* host = leaf->data;
        leaf->data = buffer->base();
        leaf->buffer = buffer.get();
        if (leaf->nbytes() > 0) buffer->set(*leaf, host, 0, leaf->nbytes());
        for (Tensor* node : graph.nodes()) {
            if (node->view_src != leaf) continue;
            node->data = static_cast<char*>(leaf->data) + node->view_offs;
            node->buffer = buffer.get();
        }
        buffers.push_back(std::move(buffer));
    }
    return buffers;
}

// The output's elements in logical order, read back from wherever it lives.
std::vector<double> read_output(const Tensor& out) {
    const Tensor* owner = out.view_src != nullptr ? out.view_src : &out;
    std::vector<char> bytes(owner->nbytes());
    if (!bytes.empty()) tensor_get(*owner, bytes.data(), 0, bytes.size());
    Tensor host = out;  // same shape and strides, data pointing into the copy
    host.data = bytes.data() + (out.view_src != nullptr ? out.view_offs : 0);
    host.buffer = nullptr;
    return all_values(host);
}

}  // namespace

Tensor* random_tensor(Context& ctx, Rng& rng, Type type, std::array<int64_t, 4> ne, float lo, float hi) {
    Tensor* t = ctx.new_tensor(type, ne);
    if (is_quantized(type)) {
        const quant::QuantTraits& q = quant::quant_traits(type);
        std::vector<float> row(static_cast<size_t>(ne[0]));
        for (int64_t r = 0; r < t->nrows(); ++r) {
            for (float& v : row) v = rng.uniform(lo, hi);
            q.from_float(row.data(), static_cast<char*>(t->data) + r * t->nb[1], ne[0]);
        }
        return t;
    }
    for (int64_t i3 = 0; i3 < ne[3]; ++i3)
        for (int64_t i2 = 0; i2 < ne[2]; ++i2)
            for (int64_t i1 = 0; i1 < ne[1]; ++i1)
                for (int64_t i0 = 0; i0 < ne[0]; ++i0) {
                    const double v = type == Type::I32 ? rng.integer(static_cast<int32_t>(lo), static_cast<int32_t>(hi))
                                                       : rng.uniform(lo, hi);
                    set_value(*t, v, i0, i1, i2, i3);
                }
    return t;
}

void set_value(Tensor& t, double v, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    char* p = const_cast<char*>(at(t, i0, i1, i2, i3));
    switch (t.type) {
        case Type::F32: {
            const auto f = static_cast<float>(v);
            std::memcpy(p, &f, 4);
            break;
        }
        case Type::F16: {
            const uint16_t h = quant::fp32_to_fp16(static_cast<float>(v));
            std::memcpy(p, &h, 2);
            break;
        }
        case Type::BF16: {
            const uint16_t h = quant::fp32_to_bf16(static_cast<float>(v));
            std::memcpy(p, &h, 2);
            break;
        }
        case Type::I32: {
            const auto i = static_cast<int32_t>(v);
            std::memcpy(p, &i, 4);
            break;
        }
        default: fail("test harness: cannot write elements of type {}", type_name(t.type));
    }
}

double value(const Tensor& t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    return decode(t.type, at(t, i0, i1, i2, i3));
}

std::vector<float> row_values(const Tensor& t, int64_t i1, int64_t i2, int64_t i3) {
    std::vector<float> out(static_cast<size_t>(t.ne[0]));
    if (is_quantized(t.type)) {
        quant::quant_traits(t.type).to_float(at(t, 0, i1, i2, i3), out.data(), t.ne[0]);
    } else {
        for (int64_t i0 = 0; i0 < t.ne[0]; ++i0) out[i0] = static_cast<float>(value(t, i0, i1, i2, i3));
    }
    return out;
}

std::vector<double> all_values(const Tensor& t) {
    std::vector<double> out;
    out.reserve(static_cast<size_t>(t.nelements()));
    for (int64_t i3 = 0; i3 < t.ne[3]; ++i3)
        for (int64_t i2 = 0; i2 < t.ne[2]; ++i2)
            for (int64_t i1 = 0; i1 < t.ne[1]; ++i1) {
                if (is_quantized(t.type)) {
                    for (float v : row_values(t, i1, i2, i3)) out.push_back(v);
                } else {
                    for (int64_t i0 = 0; i0 < t.ne[0]; ++i0) out.push_back(value(t, i0, i1, i2, i3));
                }
            }
    return out;
}

std::vector<float> round_trip(Type type, const std::vector<float>& x) {
    const quant::QuantTraits& q = quant::quant_traits(type);
    const auto n = static_cast<int64_t>(x.size());
    std::vector<char> packed(row_size(type, n));
    std::vector<float> out(x.size());
    q.from_float(x.data(), packed.data(), n);
    q.to_float(packed.data(), out.data(), n);
    return out;
}

double nmse(const std::vector<double>& got, const std::vector<double>& want) {
    if (got.size() != want.size()) return std::numeric_limits<double>::infinity();
    double err = 0.0, ref = 0.0;
    for (size_t i = 0; i < got.size(); ++i) {
        const double d = got[i] - want[i];
        if (std::isnan(got[i]) != std::isnan(want[i])) return std::numeric_limits<double>::infinity();
        if (std::isnan(got[i])) continue;
        if (std::isinf(got[i]) || std::isinf(want[i])) {
            if (got[i] != want[i]) return std::numeric_limits<double>::infinity();
            continue;
        }
        err += d * d;
        ref += want[i] * want[i];
    }
    return ref > 0.0 ? err / ref : err;  // all-zero reference: plain squared error
}

namespace {

// Compares the output with each check's reference, reporting failures.
void check_output(const std::string& who, const OpCase& c, const std::vector<Check>& checks,
                  const std::vector<std::vector<double>>& wants, const RunOptions& options, CaseResult& result) {
    for (size_t i = 0; i < checks.size(); ++i) {
        const Check& check = checks[i];
        const double e = nmse(result.got, wants[i]);
        result.nmse.push_back(e);
        const double limit = check.max_nmse * options.nmse_scale;
        const bool ok = check.max_nmse == 0.0 ? (e == 0.0) : (e <= limit);
        if (!ok) {
            ADD_FAILURE() << who << ": case " << c.name << ", " << check.what << ": NMSE " << e << " above " << limit
                          << " (" << result.got.size() << " values)";
        }
    }
}

// Builds the case in ctx and evaluates its references into `wants` first: ops like cpy
// write into their inputs' storage.
Built build_case(Context& ctx, const OpCase& c, const RunOptions& options, std::vector<std::vector<double>>& wants) {
    Rng rng(options.seed);
    Built built = c.build(ctx, rng);
    if (built.out == nullptr) fail("case {}: build returned no output", c.name);
    for (const Check& check : built.checks) wants.push_back(check.reference());
    return built;
}

}  // namespace

CaseResult run_case(Backend& backend, const OpCase& c, const RunOptions& options) {
    Context ctx(c.ctx_bytes);
    std::vector<std::vector<double>> wants;
    const Built built = build_case(ctx, c, options, wants);
    Graph graph({built.out});
    std::unique_ptr<Buffer> buffer;
    if (options.force_buffer || !backend.supports_buffer(HostBufferType::instance())) {
        buffer = place_in_buffer(backend, graph);
    }
    CaseResult result;
    if (options.skip_unsupported) {
        for (const Tensor* node : graph.nodes()) {
            if (!op_is_view(node->op) && !backend.supports_op(*node)) {
                result.skipped = true;
                return result;
            }
        }
    }
    backend.compute(graph.nodes());
    backend.synchronize();

    result.got = read_output(*built.out);
    check_output(backend.name(), c, built.checks, wants, options, result);
    return result;
}

CaseResult run_case_scheduled(const std::vector<Backend*>& backends, const OpCase& c, const RunOptions& options) {
    Context ctx(c.ctx_bytes);
    std::vector<std::vector<double>> wants;
    const Built built = build_case(ctx, c, options, wants);
    Graph graph({built.out});
    std::vector<std::unique_ptr<Buffer>> buffers;
    if (options.force_buffer) buffers = place_leaves_for(*backends.front(), graph);
    // Results get their memory from the scheduler, on the backend that computes them.
    for (Tensor* node : graph.nodes()) {
        if (node->view_src == nullptr) node->data = nullptr;
    }
    for (Tensor* node : graph.nodes()) {
        if (node->view_src != nullptr && node->view_src->op != Op::None) node->data = nullptr;
    }
    Scheduler sched(backends);
    sched.compute(graph);

    CaseResult result;
    for (const Tensor* node : graph.nodes()) {
        if (!op_is_view(node->op)) result.placed.emplace_back(node->op, sched.backend_of(*node));
    }
    result.got = read_output(*built.out);
    check_output("scheduler", c, built.checks, wants, options, result);
    return result;
}

int run_cases(Backend& backend, const std::vector<OpCase>& cases, const RunOptions& options) {
    int skipped = 0;
    for (const OpCase& c : cases) {
        SCOPED_TRACE(c.name);
        if (run_case(backend, c, options).skipped) ++skipped;
    }
    return skipped;
}

}  // namespace ember::test
