#include "model/runtime/session.h"

#include "core/error.h"
#include "core/graph.h"
#include "core/ops.h"
#include "core/scheduler.h"
#include "model/runtime/offload.h"
#include "model/tokenizer/utf8.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace ember {
namespace {

constexpr uint32_t kDefaultMaxContext = 4096;

// Offset of the first byte that does not start a valid UTF-8 sequence (overlong forms,
// surrogates and code points past U+10FFFF are invalid), or npos.
size_t first_invalid_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<uint8_t>(s[i]);
        size_t len = 0;
        uint32_t cp = 0, min = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return i;
        }
        if (i + len > s.size()) return i;
        for (size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<uint8_t>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += len;
    }
    return std::string_view::npos;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

const char* stop_reason_name(StopReason r) {
    switch (r) {
        case StopReason::Length: return "length";
        case StopReason::EndOfGeneration: return "end of generation";
        case StopReason::Callback: return "callback";
        case StopReason::StopFlag: return "stop flag";
    }
    return "?";
}

Session::Session(std::shared_ptr<const Model> model, const SessionParams& params)
    : model_(std::move(model)), params_(params) {
    if (!model_) fail("Session: no model");
    if (params_.n_batch == 0) fail("the batch size must be at least 1");
    const HParams& hp = model_->hparams();
    uint32_t n_ctx = params_.n_ctx;
    if (n_ctx == 0) n_ctx = std::min(hp.n_ctx_train, kDefaultMaxContext);

    // The chosen backend first, the CPU as the fallback for what it does not support.
    const BackendOptions options{params_.n_threads};
    if (params_.device < 0) fail("--device must be >= 0, not {}", params_.device);
    const Device& device = registry().get(params_.backend).device(static_cast<size_t>(params_.device));
    backends_.push_back(device.create_backend(options));
    if (params_.backend != "cpu") backends_.push_back(registry().get("cpu").device(0).create_backend(options));
    std::vector<Backend*> order;
    for (auto& b : backends_) order.push_back(b.get());
    scheduler_ = std::make_unique<Scheduler>(order);

    // A device backend that cannot read host memory gets copies of the weights and the KV
    // cache of the layers it computes; the scheduler runs the rest on the CPU.
    weights_ = &model_->weights();
    const BufferType& device_type = device.buffer_type();
    if (!device_type.is_host()) {
        const OffloadPlan plan = OffloadPlan::last_layers(params_.n_gpu_layers, hp.n_layer);
        const uint32_t n_off = plan.n_layers(hp.n_layer);
        const size_t kv_per_layer = 2 * row_size(params_.kv_type, hp.n_embd_kv()) * n_ctx;
        const size_t need = OffloadedWeights::planned_bytes(model_->weights(), model_->arch(), plan,
                                                            device_type.alignment()) +
                            kv_per_layer * n_off;
        const size_t have = device.info().memory_total;
        if (have != 0 && need > have) {
            fail("{}: {} layers{} need {:.0f} MiB of device memory (weights and KV cache) but {} has {:.0f} MiB: "
                 "use a smaller -ngl (or a smaller -c)",
                 model_->path(), n_off, plan.output ? " and the output" : "", static_cast<double>(need) / (1 << 20),
                 device.info().description, static_cast<double>(have) / (1 << 20));
        }
        offloaded_ = std::make_unique<OffloadedWeights>(model_->weights(), model_->arch(), plan, device_type);
        weights_ = &offloaded_->weights();
        cache_ = std::make_unique<KvCache>(hp, n_ctx, params_.kv_type, HostBufferType::instance(), &device_type,
                                           plan.first_layer);
    } else {
        cache_ = std::make_unique<KvCache>(hp, n_ctx, params_.kv_type, HostBufferType::instance());
    }
}

Session::~Session() = default;

std::vector<int32_t> Session::tokenize(std::string_view text, bool add_special, bool parse_special) const {
    return model_->vocab().tokenize(text, add_special, parse_special);
}

std::string Session::detokenize(std::span<const int32_t> tokens) const {
    return model_->vocab().detokenize(tokens, /*remove_special=*/false, /*unparse_special=*/false);
}

std::string Session::token_to_piece(int32_t token) const { return model_->vocab().token_to_piece(token, false); }

std::span<const float> Session::logits() const {
    if (n_logit_rows_ == 0) fail("no logits yet: decode some tokens first");
    const size_t n_vocab = model_->hparams().n_vocab;
    return {logits_.data() + (n_logit_rows_ - 1) * n_vocab, n_vocab};
}

std::span<const float> Session::logits(size_t i) const {
    if (i >= n_logit_rows_) fail("logits row {} requested, {} kept by the last decode", i, n_logit_rows_);
    const size_t n_vocab = model_->hparams().n_vocab;
    return {logits_.data() + i * n_vocab, n_vocab};
}

void Session::clear() {
    history_.clear();
    cache_->clear();
    logits_.clear();
    n_logit_rows_ = 0;
}

void Session::decode(std::span<const int32_t> tokens, bool all_logits) {
    if (tokens.empty()) fail("decode: no tokens given");
    const uint32_t n_vocab = model_->hparams().n_vocab;
    for (int32_t t : tokens) {
        if (t < 0 || static_cast<uint32_t>(t) >= n_vocab) fail("token id {} is out of range [0, {})", t, n_vocab);
    }
    if (history_.size() + tokens.size() > n_ctx()) {
        if (!params_.ctx_shift || tokens.size() > n_ctx() / 2) {
            fail("{} more tokens do not fit: the context holds {} tokens and {} are used{}", tokens.size(), n_ctx(),
                 history_.size(), params_.ctx_shift ? "" : " (a larger -c or --ctx-shift helps)");
        }
        shift_context(tokens.size());
    }
    logits_.clear();
    n_logit_rows_ = 0;
    for (size_t i = 0; i < tokens.size(); i += params_.n_batch) {
        const size_t n = std::min<size_t>(params_.n_batch, tokens.size() - i);
        decode_step(tokens.subspan(i, n), all_logits, i + n == tokens.size());
    }
}

// Drops the older half of the sequence (keeping a leading BOS) and recomputes the cache
// for what remains, so that positions stay contiguous from 0.
void Session::shift_context(size_t n_needed) {
    const Vocab& vocab = model_->vocab();
    const size_t n_keep = (!history_.empty() && history_[0] == vocab.bos()) ? 1 : 0;
    const size_t n_discard = (history_.size() - n_keep) / 2;
    std::vector<int32_t> kept(history_.begin(), history_.begin() + static_cast<std::ptrdiff_t>(n_keep));
    kept.insert(kept.end(), history_.begin() + static_cast<std::ptrdiff_t>(n_keep + n_discard), history_.end());
    if (kept.size() + n_needed > n_ctx()) fail("context shift cannot make room for {} tokens", n_needed);
    clear();
    for (size_t i = 0; i < kept.size(); i += params_.n_batch) {
        const size_t n = std::min<size_t>(params_.n_batch, kept.size() - i);
        decode_step(std::span<const int32_t>(kept).subspan(i, n), false, false);
    }
}

void Session::decode_step(std::span<const int32_t> tokens, bool all_logits, bool last_step) {
    const HParams& hp = model_->hparams();
    const auto T = static_cast<uint32_t>(tokens.size());
    GraphInputs in;
    in.n_tokens = T;
    in.kv_head = static_cast<uint32_t>(history_.size());
    in.n_kv = in.kv_head + T;

    // Graph metadata for one step: a few dozen tensors per layer.
    Context ctx(Context::tensor_overhead() * (64 * hp.n_layer + 64), /*no_alloc=*/true);
    in.tokens = ctx.new_tensor_1d(Type::I32, T);
    in.positions = ctx.new_tensor_1d(Type::I32, T);
    in.mask = ctx.new_tensor_2d(Type::F32, in.n_kv, T);
    const bool want_rows = all_logits || last_step;
    const uint32_t n_out = all_logits ? T : 1;
    if (!all_logits) in.out_ids = ctx.new_tensor_1d(Type::I32, 1);

    std::vector<Tensor*> ordered;
    GraphBuild build{ctx, hp, *weights_, *cache_, in, ordered};
    Tensor* logits = model_->arch().build(build);
    Graph graph;
    for (Tensor* t : ordered) graph.expand(*t);  // cache writes before the reads that follow them
    graph.expand(*logits);
    scheduler_->allocate(graph);

    std::vector<int32_t> positions(T);
    for (uint32_t i = 0; i < T; ++i) positions[i] = static_cast<int32_t>(in.kv_head + i);
    // Causal mask: token i (at position kv_head + i) sees cells 0 .. kv_head + i.
    std::vector<float> mask(static_cast<size_t>(in.n_kv) * T);
    for (uint32_t i = 0; i < T; ++i) {
        for (uint32_t j = 0; j < in.n_kv; ++j) mask[static_cast<size_t>(i) * in.n_kv + j] = j <= in.kv_head + i ? 0.0f : -INFINITY;
    }
    tensor_set(*in.tokens, tokens.data(), 0, T * sizeof(int32_t));
    tensor_set(*in.positions, positions.data(), 0, T * sizeof(int32_t));
    tensor_set(*in.mask, mask.data(), 0, mask.size() * sizeof(float));
    if (in.out_ids != nullptr) {
        const int32_t last = static_cast<int32_t>(T - 1);
        tensor_set(*in.out_ids, &last, 0, sizeof last);
    }

    scheduler_->compute(graph);
    history_.insert(history_.end(), tokens.begin(), tokens.end());
    cache_->set_used(static_cast<uint32_t>(history_.size()));

    if (want_rows) {
        const size_t n_vocab = hp.n_vocab;
        logits_.resize((n_logit_rows_ + n_out) * n_vocab);
        tensor_get(*logits, logits_.data() + n_logit_rows_ * n_vocab, 0, n_out * n_vocab * sizeof(float));
        n_logit_rows_ += n_out;
    }
}

GenerateResult Session::generate(std::string_view prompt, const GenerateParams& params, const TokenCallback& on_piece,
                                 const std::atomic<bool>* stop) {
    if (prompt.empty()) fail("the prompt is empty");
    if (const size_t bad = first_invalid_utf8(prompt); bad != std::string_view::npos) {
        fail("the prompt is not valid UTF-8 (byte {} of {})", bad, prompt.size());
    }
    if (params.n_predict < -1) fail("n_predict must be -1 (unlimited) or >= 0, not {}", params.n_predict);
    GenerateResult result;
    const std::vector<int32_t> prompt_tokens = tokenize(prompt);
    result.n_prompt = prompt_tokens.size();
    if (prompt_tokens.size() > n_ctx()) {
        fail("the prompt is {} tokens, longer than the context of {} tokens", prompt_tokens.size(), n_ctx());
    }
    Sampler sampler(params.sampling);
    result.seed = sampler.seed();

    clear();
    auto t0 = std::chrono::steady_clock::now();
    decode(prompt_tokens);
    for (int32_t t : prompt_tokens) sampler.accept(t);
    result.prompt_ms = ms_since(t0);

    const Vocab& vocab = model_->vocab();
    Utf8Stream stream;
    auto emit = [&](std::string_view piece) {
        result.text += piece;
        return !on_piece || piece.empty() || on_piece(piece);
    };
    t0 = std::chrono::steady_clock::now();
    for (int32_t n = 0; params.n_predict < 0 || n < params.n_predict; ++n) {
        if (stop != nullptr && stop->load()) {
            result.stop = StopReason::StopFlag;
            break;
        }
        const int32_t token = sampler.sample(logits());
        sampler.accept(token);
        if (vocab.is_eog(token)) {
            result.stop = StopReason::EndOfGeneration;
            break;
        }
        result.tokens.push_back(token);
        if (!emit(stream.push(token_to_piece(token)))) {
            result.stop = StopReason::Callback;
            break;
        }
        const bool more = params.n_predict < 0 || n + 1 < params.n_predict;
        if (!more) break;
        if (history_.size() >= n_ctx() && !params_.ctx_shift && params.n_predict < 0) break;  // unlimited: stop at the end
        decode(std::span<const int32_t>(&token, 1));
    }
    emit(stream.flush());
    result.generate_ms = ms_since(t0);
    return result;
}

}  // namespace ember
