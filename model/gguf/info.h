// The report behind `ember info`: a GGUF file's header, metadata, tensor table and totals.
#pragma once

#include "ember/gguf.h"

#include <cstddef>
#include <string>

namespace ember::gguf {

struct InfoOptions {
    size_t max_array_elements = 8;  // array elements shown before "..."
    size_t max_string_bytes = 64;   // longer strings are cut (at a UTF-8 boundary) and marked "..."
    bool show_metadata = true;
    bool show_tensors = true;       // the per-tensor table (totals are always shown)
};

// The whole report, as printed by `ember info`.
std::string format_info(const File& file, const InfoOptions& options = {});

// One value as the report shows it: `"text"`, `42`, `[1, 2, 3, ...]`. Strings are quoted, with
// control characters, quotes and invalid UTF-8 escaped.
std::string format_value(const Value& value, size_t max_array_elements = 8, size_t max_string_bytes = 64);

// "8.01 MiB", "512 B".
std::string format_bytes(uint64_t bytes);

}  // namespace ember::gguf
