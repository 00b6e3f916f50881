// Element types, with the ids GGUF files use (ggml's enum), and one traits table.
// The table knows block geometry only; the kernels for each format live in quant/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ember {

enum class Type : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
};

inline constexpr uint32_t kTypeIdCount = 39;  // ids >= this are invalid

struct TypeTraits {
    const char* name;      // "Q4_K"; nullptr for removed / unassigned ids
    int64_t block_size;    // elements per block (1 for plain types)
    size_t type_size;      // bytes per block
    bool quantized;        // block-quantized format
    bool computable;       // ember has kernels for it (others can still be read and listed)
};

// Traits of a type. Throws ember::Error for an id that is not a valid type.
const TypeTraits& type_traits(Type type);

// The Type for a raw id from a file, or nullopt for invalid or removed ids.
std::optional<Type> type_from_id(uint32_t id);

// The Type named `name` ("q4_k" or "Q4_K"), or nullopt.
std::optional<Type> type_from_name(std::string_view name);

inline const char* type_name(Type t) { return type_traits(t).name; }
inline int64_t block_size(Type t) { return type_traits(t).block_size; }
inline size_t type_size(Type t) { return type_traits(t).type_size; }
inline bool is_quantized(Type t) { return type_traits(t).quantized; }

// Bytes of one row of `ne0` elements. Throws if ne0 is not a multiple of the block size.
size_t row_size(Type t, int64_t ne0);

}  // namespace ember
