// ember's public API, in one include (the installed headers are include/ember/*.h only):
//
//   #include <ember/ember.h>
//
//   auto model = ember::Model::load("model.gguf");           // mmap, validated
//   ember::Session session(model, {.n_ctx = 512});           // one sequence, its own KV cache
//   session.generate("Once upon a time", {.n_predict = 32},  // streams complete UTF-8 pieces
//                    [](std::string_view piece) { std::fputs(std::string(piece).c_str(), stdout); return true; });
//
// Every error is an ember::Error (error.h). gguf.h reads and writes GGUF files; backends.h lists
// the compute backends and devices a Session can run on; engine.h runs many sequences at once.
#pragma once

#include "ember/backends.h"
#include "ember/engine.h"
#include "ember/parallel.h"
#include "ember/error.h"
#include "ember/gguf.h"
#include "ember/model.h"
#include "ember/sampler.h"
#include "ember/session.h"
#include "ember/type.h"
#include "ember/version.h"
