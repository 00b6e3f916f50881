// libFuzzer target for the GGUF reader, the info report and the writer.
//
// Any input either fails with ember::Error or parses; a parsed file is then used in full
// (every value, every getter, every tensor byte, the info report), and writing it back must
// reproduce the input: byte for byte up to the end of the data section, with a final blob's
// missing padding written as zeros (bytes past the data section are not part of the file).
// Anything else (another exception type, a sanitizer report, a mismatch) is a finding.
#include "core/error.h"
#include "ember/gguf.h"
#include "model/gguf/info.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace {

using namespace ember::gguf;

[[noreturn]] void finding(const char* what) {
    std::fprintf(stderr, "gguf_fuzz: %s\n", what);
    std::abort();
}

template <typename Fn>
void expect_error(Fn&& fn, const char* what) {
    try {
        fn();
    } catch (const ember::Error&) {
        return;
    }
    finding(what);
}

uint64_t touch_scalar(const Scalar& s) {
    if (const auto* u = std::get_if<uint64_t>(&s)) return *u;
    if (const auto* i = std::get_if<int64_t>(&s)) return static_cast<uint64_t>(*i);
    if (const auto* d = std::get_if<double>(&s)) return double_to_f32_bits(*d);
    if (const auto* b = std::get_if<bool>(&s)) return *b ? 1 : 0;
    const std::string& str = std::get<std::string>(s);
    return str.size() + (str.empty() ? 0 : static_cast<uint8_t>(str.back()));
}

// Calls the typed getter that matches the stored type, and one that does not (must throw).
void exercise_getters(const File& f, const KeyValue& kv) {
    const std::string_view key = kv.key;
    if (f.find(key) != &kv.value) finding("find() does not return the record");
    switch (kv.value.type) {
        case ValueType::U32:
            (void)f.get_u32(key);
            (void)f.get_u32_opt(key);
            expect_error([&] { (void)f.get_i32(key); }, "get_i32 accepted a U32");
            break;
        case ValueType::I32:
            (void)f.get_i32(key);
            expect_error([&] { (void)f.get_u32(key); }, "get_u32 accepted an I32");
            break;
        case ValueType::U64: (void)f.get_u64(key); break;
        case ValueType::F32:
            (void)f.get_f32(key);
            (void)f.get_f32_opt(key);
            expect_error([&] { (void)f.get_string(key); }, "get_string accepted an F32");
            break;
        case ValueType::BOOL:
            (void)f.get_bool(key);
            (void)f.get_bool(key, false);
            break;
        case ValueType::STRING:
            (void)f.get_string(key);
            (void)f.get_string_opt(key);
            expect_error([&] { (void)f.get_f32(key); }, "get_f32 accepted a STRING");
            break;
        case ValueType::ARRAY:
            (void)f.get_array(key, kv.value.element_type);
            if (kv.value.element_type == ValueType::STRING) (void)f.get_string_array(key);
            if (kv.value.element_type == ValueType::F32) (void)f.get_f32_array(key);
            if (kv.value.element_type == ValueType::I32) (void)f.get_i32_array(key);
            expect_error([&] { (void)f.get_u32(key); }, "get_u32 accepted an ARRAY");
            break;
        default:
            expect_error([&] { (void)f.get_string(key); }, "get_string accepted a number");
            break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> input(data, size);
    std::optional<File> parsed;
    try {
        parsed.emplace(File::parse(input, "fuzz"));
    } catch (const ember::Error&) {
        return 0;  // rejected cleanly
    }
    const File& f = *parsed;

    // Every metadata value.
    volatile uint64_t sink = 0;
    for (const KeyValue& kv : f.metadata()) {
        if (kv.value.is_array()) {
            for (const Scalar& s : kv.value.array) sink = sink + touch_scalar(s);
        } else {
            sink = sink + touch_scalar(kv.value.scalar);
        }
        (void)format_value(kv.value);
        exercise_getters(f, kv);
    }
    expect_error([&] { (void)f.get_u32("\x01no such key"); }, "get_u32 found a missing key");

    // Every tensor, every byte of its data.
    for (const TensorInfo& t : f.tensors()) {
        if (f.find_tensor(t.name) != &t) finding("find_tensor() does not return the tensor");
        if (t.nbytes > 0 && (t.data < input.data() || t.data + t.nbytes > input.data() + input.size())) {
            finding("tensor data outside the input");
        }
        for (uint8_t b : t.bytes()) sink = sink + b;
        sink = sink + static_cast<uint64_t>(t.n_elements()) + t.offset;
    }
    if (f.alignment() == 0 || (f.alignment() & (f.alignment() - 1)) != 0) finding("bad alignment accepted");

    // The report, with default and tiny limits.
    (void)format_info(f);
    InfoOptions tiny;
    tiny.max_array_elements = 1;
    tiny.max_string_bytes = 1;
    (void)format_info(f, tiny);

    // Writing back reproduces the input.
    const std::vector<uint8_t> out = Writer::copy_of(f).to_bytes();
    const size_t canonical_end = f.tensors().empty() ? out.size() : f.data_offset() + f.data_size();
    if (out.size() != canonical_end) finding("writer output size differs from the file's canonical size");
    const size_t common = std::min(out.size(), input.size());
    if (!std::equal(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(common), input.begin())) {
        finding("writer output differs from the input");
    }
    if (!std::all_of(out.begin() + static_cast<std::ptrdiff_t>(common), out.end(), [](uint8_t b) { return b == 0; })) {
        finding("writer output extends the input with non-zero bytes");
    }
    // And the written image is itself a fixed point.
    const File again = File::parse(out, "rewritten");
    if (Writer::copy_of(again).to_bytes() != out) finding("rewritten file does not reproduce itself");
    (void)sink;
    return 0;
}
