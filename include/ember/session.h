// ember::Session: runs one sequence of a Model: tokenize, decode (prompt and generated tokens,
// in batches), logits, generate with a sampler. It is one sequence of an Engine (engine.h):
// an Engine of its own (the first constructor), or one shared with other Sessions (the second),
// which then share the Engine's backends, thread pool and KV cache. Sessions may share one Model
// and run on several threads at once.
//
//   auto model = ember::Model::load("stories260K.gguf");
//   ember::Session session(model, {.n_ctx = 256});
//   session.generate("Once upon a time", {.n_predict = 64}, [](std::string_view piece) {
//       std::cout << piece << std::flush;
//       return true;  // false stops early
//   });
#pragma once

#include "ember/engine.h"
#include "ember/model.h"
#include "ember/sampler.h"
#include "ember/type.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ember {

struct SessionParams {
    uint32_t n_ctx = 0;        // context length in tokens; 0: the model's, capped at 4096
    uint32_t n_batch = 512;    // tokens per forward step when processing a prompt
    int n_threads = 0;         // 0: all hardware threads
    Type kv_type = Type::F16;  // F16 (as the reference) or F32
    bool ctx_shift = false;    // at a full context drop the older half instead of failing
    std::string backend = "cpu";
    int device = 0;           // which device of `backend` (see `ember devices`)
    int n_gpu_layers = -1;    // device backends: the last n layers (and the output when n covers
                              // all of them) compute on the device; -1: all. Ignored on the CPU.
};

struct GenerateParams {
    int32_t n_predict = 128;  // tokens to generate; -1: until end of generation or a full context
    SamplerParams sampling;
    // Keep the cells of the sequence's tokens that begin the prompt (a chat resending its
    // history), or on a shared engine take another sequence's (Engine::reuse_prefix), and
    // compute only the rest. Off: every generate starts from an empty sequence.
    bool reuse_prefix = false;
};

enum class StopReason { Length, EndOfGeneration, Callback, StopFlag };
const char* stop_reason_name(StopReason r);

struct GenerateResult {
    std::string text;                // the generated text (not the prompt)
    std::vector<int32_t> tokens;     // the generated tokens
    size_t n_prompt = 0;             // prompt tokens (with BOS)
    size_t n_reused = 0;             // of which were already in the cache (reuse_prefix)
    StopReason stop = StopReason::Length;
    double prompt_ms = 0;            // processing the prompt
    double generate_ms = 0;          // sampling and decoding the generated tokens
    uint32_t seed = 0;               // the sampler's seed (the random one, if it was random)
};

// Called with each complete piece of UTF-8 text as it is generated; return false to stop.
using TokenCallback = std::function<bool(std::string_view piece)>;

class Session {
public:
    // An Engine of its own with one sequence of n_ctx cells.
    explicit Session(std::shared_ptr<const Model> model, const SessionParams& params = {});
    // Sequence `seq` of a shared engine (its cells are emptied now and when the Session ends).
    // The engine's parameters apply; of `params` only ctx_shift is used.
    Session(std::shared_ptr<Engine> engine, SeqId seq, const SessionParams& params = {});
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    const Model& model() const { return *model_; }
    const SessionParams& params() const { return params_; }
    uint32_t n_ctx() const;                       // the engine's KV cells
    uint32_t n_past() const;                     // tokens in the sequence
    const std::vector<int32_t>& history() const;  // the tokens in the sequence, in order

    // Text <-> tokens with the model's vocabulary. add_special adds BOS/EOS as the model asks.
    std::vector<int32_t> tokenize(std::string_view text, bool add_special = true, bool parse_special = false) const;
    std::string detokenize(std::span<const int32_t> tokens) const;
    std::string token_to_piece(int32_t token) const;

    // Appends tokens to the sequence, computing them in steps of n_batch. Keeps the logits
    // of every token when all_logits is set, else only of the last one. Throws when the
    // tokens do not fit in the context (after a shift, if enabled) or an id is out of range.
    void decode(std::span<const int32_t> tokens, bool all_logits = false);

    // Logits of the last decoded token (n_vocab floats).
    std::span<const float> logits() const;
    // Logits of token i of the last decode(…, all_logits = true).
    std::span<const float> logits(size_t i) const;

    // Empties the sequence (the KV cache).
    void clear();

    // Tokenizes the prompt (with BOS as the model asks), starts a fresh sequence, and samples
    // up to n_predict tokens, streaming complete UTF-8 text to on_piece. `stop` (optional) is
    // polled between tokens, so another thread can end generation.
    GenerateResult generate(std::string_view prompt, const GenerateParams& params, const TokenCallback& on_piece = {},
                            const std::atomic<bool>* stop = nullptr);
    // The same from prompt tokens (e.g. a chat template's render tokenized with its special tokens).
    GenerateResult generate(std::span<const int32_t> prompt_tokens, const GenerateParams& params,
                            const TokenCallback& on_piece = {}, const std::atomic<bool>* stop = nullptr);

    Engine& engine() const { return *engine_; }
    SeqId seq() const { return seq_; }

private:
    void shift_context(size_t n_needed);

    std::shared_ptr<const Model> model_;
    SessionParams params_;
    std::shared_ptr<Engine> engine_;
    SeqId seq_ = 0;
    std::vector<int32_t> history_;  // the sequence's tokens, position i at index i
    BatchLogits logits_;            // of the last decode
};

}  // namespace ember
