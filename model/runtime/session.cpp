#include "ember/session.h"

#include "core/error.h"
#include "core/graph.h"
#include "core/ops.h"
#include "model/runtime/executor.h"
#include "model/runtime/kv_cache.h"
#include "model/runtime/model.h"
#include "core/utf8.h"

#include <algorithm>
#include <chrono>

namespace ember {
namespace {

constexpr uint32_t kDefaultMaxContext = 4096;

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
    const size_t kv_bytes_per_layer = 2 * row_size(params_.kv_type, hp.n_embd_kv()) * n_ctx;
    executor_ = std::make_unique<Executor>(
        *model_, ExecutorParams{params_.backend, params_.device, params_.n_threads, params_.n_gpu_layers},
        kv_bytes_per_layer);
    cache_ = executor_->create_kv_cache(n_ctx, params_.kv_type);
}

Session::~Session() = default;

uint32_t Session::n_ctx() const { return cache_->capacity(); }
uint32_t Session::n_past() const { return cache_->used(); }
const std::vector<int32_t>& Session::history() const { return cache_->tokens(); }

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
    if (tokens.size() > cache_->n_free()) {
        if (!params_.ctx_shift || tokens.size() > n_ctx() / 2) {
            fail("{} more tokens do not fit: the context holds {} tokens and {} are used{}", tokens.size(), n_ctx(),
                 n_past(), params_.ctx_shift ? "" : " (a larger -c or --ctx-shift helps)");
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
    const std::vector<int32_t>& history = cache_->tokens();
    const size_t n_keep = (!history.empty() && history[0] == vocab.bos()) ? 1 : 0;
    const size_t n_discard = (history.size() - n_keep) / 2;
    std::vector<int32_t> kept(history.begin(), history.begin() + static_cast<std::ptrdiff_t>(n_keep));
    kept.insert(kept.end(), history.begin() + static_cast<std::ptrdiff_t>(n_keep + n_discard), history.end());
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
    in.kv_head = cache_->used();
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
    GraphBuild build{ctx, hp, executor_->weights(), *cache_, in, ordered};
    Tensor* logits = model_->arch().build(build);
    Graph graph;
    for (Tensor* t : ordered) graph.expand(*t);  // cache writes before the reads that follow them
    graph.expand(*logits);
    executor_->allocate(graph);

    const std::vector<int32_t> positions = cache_->next_positions(T);
    const std::vector<float> mask = cache_->causal_mask(T);
    tensor_set(*in.tokens, tokens.data(), 0, T * sizeof(int32_t));
    tensor_set(*in.positions, positions.data(), 0, T * sizeof(int32_t));
    tensor_set(*in.mask, mask.data(), 0, mask.size() * sizeof(float));
    if (in.out_ids != nullptr) {
        const int32_t last = static_cast<int32_t>(T - 1);
        tensor_set(*in.out_ids, &last, 0, sizeof last);
    }

    executor_->compute(graph);
    cache_->append(tokens);

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
        if (cache_->n_free() == 0 && !params_.ctx_shift && params.n_predict < 0) break;  // unlimited: stop at the end
        decode(std::span<const int32_t>(&token, 1));
    }
    emit(stream.flush());
    result.generate_ms = ms_since(t0);
    return result;
}

}  // namespace ember
