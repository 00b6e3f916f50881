// ember::Error: the one exception type every library error is. Its message names the problem
// and what it concerns ("model.gguf: tensor 'blk.0.attn_q.weight' has type Q4_K, expected ...").
#pragma once

#include <stdexcept>
#include <string>

namespace ember {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace ember
