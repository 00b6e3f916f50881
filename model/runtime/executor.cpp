#include "model/runtime/executor.h"

#include "core/backend.h"
#include "core/error.h"
#include "core/graph.h"
#include "core/scheduler.h"
#include "model/runtime/kv_cache.h"
#include "model/runtime/model.h"
#include "model/runtime/offload.h"

namespace ember {

Executor::Executor(const Model& model, const ExecutorParams& params, size_t kv_bytes_per_layer) : model_(model) {
    // The chosen backend first, the CPU as the fallback for what it does not support.
    const BackendOptions options{params.n_threads};
    if (params.device < 0) fail("--device must be >= 0, not {}", params.device);
    const Device& device = registry().get(params.backend).device(static_cast<size_t>(params.device));
    backends_.push_back(device.create_backend(options));
    if (params.backend != "cpu") backends_.push_back(registry().get("cpu").device(0).create_backend(options));
    std::vector<Backend*> order;
    for (auto& b : backends_) order.push_back(b.get());
    scheduler_ = std::make_unique<Scheduler>(order);

    // A device backend that cannot read host memory gets copies of the weights and the KV
    // cache of the layers it computes; the scheduler runs the rest on the CPU.
    weights_ = &model.weights();
    const BufferType& device_type = device.buffer_type();
    if (device_type.is_host()) return;
    const HParams& hp = model.hparams();
    const OffloadPlan plan = OffloadPlan::last_layers(params.n_gpu_layers, hp.n_layer);
    const uint32_t n_off = plan.n_layers(hp.n_layer);
    const size_t need =
        OffloadedWeights::planned_bytes(model.weights(), model.arch(), plan, device_type.alignment()) +
        kv_bytes_per_layer * n_off;
    const size_t have = device.info().memory_total;
    if (have != 0 && need > have) {
        fail("{}: {} layers{} need {:.0f} MiB of device memory (weights and KV cache) but {} has {:.0f} MiB: "
             "use a smaller -ngl (or a smaller -c)",
             model.path(), n_off, plan.output ? " and the output" : "", static_cast<double>(need) / (1 << 20),
             device.info().description, static_cast<double>(have) / (1 << 20));
    }
    offloaded_ = std::make_unique<OffloadedWeights>(model.weights(), model.arch(), plan, device_type);
    weights_ = &offloaded_->weights();
    device_type_ = &device_type;
    first_device_layer_ = plan.first_layer;
}

Executor::~Executor() = default;

std::unique_ptr<KvCache> Executor::create_kv_cache(uint32_t n_ctx, Type type) const {
    return std::make_unique<KvCache>(model_.hparams(), n_ctx, type, HostBufferType::instance(), device_type_,
                                     first_device_layer_);
}

void Executor::allocate(Graph& graph) { scheduler_->allocate(graph); }

void Executor::compute(Graph& graph) { scheduler_->compute(graph); }

}  // namespace ember
