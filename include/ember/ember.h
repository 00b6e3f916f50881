// ember's public API, in one include:
//
//   #include <ember/ember.h>
//
//   auto model = ember::Model::load("model.gguf");           // mmap, validated
//   ember::Session session(model, {.n_ctx = 512});           // one sequence, its own KV cache
//   session.generate("Once upon a time", {.n_predict = 32},  // streams complete UTF-8 pieces
//                    [](std::string_view piece) { std::fputs(std::string(piece).c_str(), stdout); return true; });
//
// Lower levels are public too: core/ (tensors, ops, graphs, backends, the scheduler),
// quant/ (block formats), model/gguf/gguf.h (GGUF reader and writer), model/tokenizer/vocab.h (tokenizers).
// Every error is an ember::Error (core/error.h).
#pragma once

#include "core/backend.h"
#include "core/error.h"
#include "core/version.h"
#include "model/gguf/gguf.h"
#include "model/eval/kl_divergence.h"
#include "model/runtime/model.h"
#include "model/eval/perplexity.h"
#include "model/quantize/quantize.h"
#include "model/runtime/sampler.h"
#include "model/runtime/session.h"
#include "model/tokenizer/vocab.h"
