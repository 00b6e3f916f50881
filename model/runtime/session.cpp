#include "ember/session.h"

#include "core/error.h"
#include "core/utf8.h"
#include "model/runtime/model.h"

#include <algorithm>
#include <chrono>

namespace ember {
namespace {

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

namespace {
EngineParams engine_params(const SessionParams& p) {
    EngineParams e;
    e.n_ctx = p.n_ctx;
    e.n_seq = 1;
    e.n_batch = p.n_batch;
    e.n_threads = p.n_threads;
    e.kv_type = p.kv_type;
    e.backend = p.backend;
    e.device = p.device;
    e.n_gpu_layers = p.n_gpu_layers;
    return e;
}
}  // namespace

Session::Session(std::shared_ptr<const Model> model, const SessionParams& params)
    : model_(std::move(model)), params_(params) {
    if (!model_) fail("Session: no model");
    engine_ = std::make_shared<Engine>(model_, engine_params(params_));
    params_.n_ctx = engine_->n_ctx();
}

Session::Session(std::shared_ptr<Engine> engine, SeqId seq, const SessionParams& params) : engine_(std::move(engine)), seq_(seq) {
    if (!engine_) fail("Session: no engine");
    model_ = engine_->model_ptr();
    const EngineParams& e = engine_->params();
    params_ = {e.n_ctx, e.n_batch, e.n_threads, e.kv_type, params.ctx_shift, e.backend, e.device, e.n_gpu_layers};
    engine_->seq_rm(seq_);  // checks the id; the sequence starts empty
}

Session::~Session() {
    if (engine_) engine_->seq_rm(seq_);
}

uint32_t Session::n_ctx() const { return engine_->n_ctx(); }
uint32_t Session::n_past() const { return static_cast<uint32_t>(history_.size()); }
const std::vector<int32_t>& Session::history() const { return history_; }

std::vector<int32_t> Session::tokenize(std::string_view text, bool add_special, bool parse_special) const {
    return model_->vocab().tokenize(text, add_special, parse_special);
}

std::string Session::detokenize(std::span<const int32_t> tokens) const {
    return model_->vocab().detokenize(tokens, /*remove_special=*/false, /*unparse_special=*/false);
}

std::string Session::token_to_piece(int32_t token) const { return model_->vocab().token_to_piece(token, false); }

std::span<const float> Session::logits() const {
    if (logits_.n_rows() == 0) fail("no logits yet: decode some tokens first");
    return logits_.row(logits_.n_rows() - 1);
}

std::span<const float> Session::logits(size_t i) const {
    if (i >= logits_.n_rows()) fail("logits row {} requested, {} kept by the last decode", i, logits_.n_rows());
    return logits_.row(i);
}

void Session::clear() {
    engine_->seq_rm(seq_);
    history_.clear();
    logits_ = {};
}

void Session::decode(std::span<const int32_t> tokens, bool all_logits) {
    if (tokens.empty()) fail("decode: no tokens given");
    const uint32_t n_vocab = model_->hparams().n_vocab;
    for (int32_t t : tokens) {
        if (t < 0 || static_cast<uint32_t>(t) >= n_vocab) fail("token id {} is out of range [0, {})", t, n_vocab);
    }
    if (tokens.size() > engine_->n_free()) {
        if (!params_.ctx_shift || tokens.size() > n_ctx() / 2) {
            fail("{} more tokens do not fit: the context holds {} tokens and {} are used{}", tokens.size(), n_ctx(),
                 engine_->n_used(), params_.ctx_shift ? "" : " (a larger -c or --ctx-shift helps)");
        }
        shift_context(tokens.size());
    }
    Batch batch;
    const auto first = static_cast<int32_t>(history_.size());
    for (size_t i = 0; i < tokens.size(); ++i) {
        batch.add(tokens[i], first + static_cast<int32_t>(i), seq_, all_logits || i + 1 == tokens.size());
    }
    logits_ = {};
    logits_ = engine_->decode(batch);
    history_.insert(history_.end(), tokens.begin(), tokens.end());
}

// Drops the older half of the sequence (keeping a leading BOS) and moves what remains down
// in place: its keys are re-roped to their new positions (Engine::seq_shift), so positions stay
// contiguous from 0 without recomputing.
void Session::shift_context(size_t n_needed) {
    const Vocab& vocab = model_->vocab();
    const auto n_keep = static_cast<int32_t>((!history_.empty() && history_[0] == vocab.bos()) ? 1 : 0);
    const auto n_discard = static_cast<int32_t>((history_.size() - static_cast<size_t>(n_keep)) / 2);
    if (engine_->n_free() + static_cast<uint32_t>(n_discard) < n_needed) {
        fail("context shift cannot make room for {} tokens", n_needed);
    }
    engine_->seq_rm(seq_, n_keep, n_keep + n_discard);
    engine_->seq_shift(seq_, n_keep + n_discard, -1, -n_discard);
    history_.erase(history_.begin() + n_keep, history_.begin() + n_keep + n_discard);
}

GenerateResult Session::generate(std::string_view prompt, const GenerateParams& params, const TokenCallback& on_piece,
                                 const std::atomic<bool>* stop) {
    if (prompt.empty()) fail("the prompt is empty");
    if (const size_t bad = first_invalid_utf8(prompt); bad != std::string_view::npos) {
        fail("the prompt is not valid UTF-8 (byte {} of {})", bad, prompt.size());
    }
    return generate(std::span<const int32_t>(tokenize(prompt)), params, on_piece, stop);
}

GenerateResult Session::generate(std::span<const int32_t> prompt_tokens, const GenerateParams& params,
                                 const TokenCallback& on_piece, const std::atomic<bool>* stop) {
    if (prompt_tokens.empty()) fail("the prompt is empty");
    if (params.n_predict < -1) fail("n_predict must be -1 (unlimited) or >= 0, not {}", params.n_predict);
    GenerateResult result;
    result.n_prompt = prompt_tokens.size();
    if (prompt_tokens.size() > n_ctx()) {
        fail("the prompt is {} tokens, longer than the context of {} tokens", prompt_tokens.size(), n_ctx());
    }
    Sampler sampler(params.sampling);
    result.seed = sampler.seed();

    auto t0 = std::chrono::steady_clock::now();
    size_t reused = 0;
    if (params.reuse_prefix) {
        logits_ = {};
        const size_t own = std::min<size_t>(engine_->seq_common_prefix(seq_, prompt_tokens), prompt_tokens.size() - 1);
        if (own > 0) {
            engine_->seq_rm(seq_, static_cast<int32_t>(own), -1);
            reused = own;
        } else {
            reused = engine_->reuse_prefix(seq_, prompt_tokens);
        }
        history_.assign(prompt_tokens.begin(), prompt_tokens.begin() + static_cast<std::ptrdiff_t>(reused));
    } else {
        clear();
    }
    result.n_reused = reused;
    decode(prompt_tokens.subspan(reused));
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
        if (engine_->n_free() == 0 && !params_.ctx_shift && params.n_predict < 0) break;  // unlimited: stop at the end
        decode(std::span<const int32_t>(&token, 1));
    }
    emit(stream.flush());
    result.generate_ms = ms_since(t0);
    return result;
}

}  // namespace ember
