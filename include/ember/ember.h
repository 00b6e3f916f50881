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
// quant/ (block formats), model/gguf.h (GGUF reader and writer), model/vocab.h (tokenizers).
// Every error is an ember::Error (core/error.h).
#pragma once

#include "core/backend.h"
#include "core/error.h"
#include "core/version.h"
#include "model/gguf.h"
#include "model/kl_divergence.h"
#include "model/model.h"
#include "model/perplexity.h"
#include "model/quantize.h"
#include "model/sampler.h"
#include "model/session.h"
#include "model/vocab.h"
