#include "ember/type.h"

#include "core/error.h"

#include <array>
#include <cctype>
#include <string>

namespace ember {
namespace {

// Indexed by ggml type id. Sizes from the GGUF type table (docs/FORMATS.md §2.1).
constexpr std::array<TypeTraits, kTypeIdCount> kTraits = {{
    /*  0 */ {"F32", 1, 4, false, true},
    /*  1 */ {"F16", 1, 2, false, true},
    /*  2 */ {"Q4_0", 32, 18, true, true},
    /*  3 */ {"Q4_1", 32, 20, true, true},
    /*  4 */ {nullptr, 0, 0, false, false},
    /*  5 */ {nullptr, 0, 0, false, false},
    /*  6 */ {"Q5_0", 32, 22, true, true},
    /*  7 */ {"Q5_1", 32, 24, true, true},
    /*  8 */ {"Q8_0", 32, 34, true, true},
    /*  9 */ {"Q8_1", 32, 36, true, true},
    /* 10 */ {"Q2_K", 256, 84, true, false},
    /* 11 */ {"Q3_K", 256, 110, true, false},
    /* 12 */ {"Q4_K", 256, 144, true, true},
    /* 13 */ {"Q5_K", 256, 176, true, true},
    /* 14 */ {"Q6_K", 256, 210, true, true},
    /* 15 */ {"Q8_K", 256, 292, true, true},
    /* 16 */ {"IQ2_XXS", 256, 66, true, false},
    /* 17 */ {"IQ2_XS", 256, 74, true, false},
    /* 18 */ {"IQ3_XXS", 256, 98, true, false},
    /* 19 */ {"IQ1_S", 256, 50, true, false},
    /* 20 */ {"IQ4_NL", 32, 18, true, false},
    /* 21 */ {"IQ3_S", 256, 110, true, false},
    /* 22 */ {"IQ2_S", 256, 82, true, false},
    /* 23 */ {"IQ4_XS", 256, 136, true, false},
    /* 24 */ {"I8", 1, 1, false, false},
    /* 25 */ {"I16", 1, 2, false, false},
    /* 26 */ {"I32", 1, 4, false, true},
    /* 27 */ {"I64", 1, 8, false, false},
    /* 28 */ {"F64", 1, 8, false, false},
    /* 29 */ {"IQ1_M", 256, 56, true, false},
    /* 30 */ {"BF16", 1, 2, false, true},
    /* 31 */ {nullptr, 0, 0, false, false},
    /* 32 */ {nullptr, 0, 0, false, false},
    /* 33 */ {nullptr, 0, 0, false, false},
    /* 34 */ {"TQ1_0", 256, 54, true, false},
    /* 35 */ {"TQ2_0", 256, 66, true, false},
    /* 36 */ {nullptr, 0, 0, false, false},
    /* 37 */ {nullptr, 0, 0, false, false},
    /* 38 */ {nullptr, 0, 0, false, false},
}};

}  // namespace

const TypeTraits& type_traits(Type type) {
    const auto id = static_cast<uint32_t>(type);
    if (id >= kTypeIdCount || kTraits[id].name == nullptr) fail("invalid tensor type id {}", id);
    return kTraits[id];
}

std::optional<Type> type_from_id(uint32_t id) {
    if (id >= kTypeIdCount || kTraits[id].name == nullptr) return std::nullopt;
    return static_cast<Type>(id);
}

std::optional<Type> type_from_name(std::string_view name) {
    std::string upper(name);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (uint32_t id = 0; id < kTypeIdCount; ++id) {
        if (kTraits[id].name != nullptr && upper == kTraits[id].name) return static_cast<Type>(id);
    }
    return std::nullopt;
}

size_t row_size(Type t, int64_t ne0) {
    const TypeTraits& tr = type_traits(t);
    if (ne0 < 0 || ne0 % tr.block_size != 0) {
        fail("row of {} elements is not a multiple of the {} block size {}", ne0, tr.name, tr.block_size);
    }
    return static_cast<size_t>(ne0 / tr.block_size) * tr.type_size;
}

}  // namespace ember
