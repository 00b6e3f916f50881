// Generates the bad-input GGUF corpus in tests/data/bad_gguf/ and the valid fuzz seeds.
//
//   make_bad_gguf write DIR    writes every bad file plus expected.tsv (file <TAB> error substring)
//   make_bad_gguf check DIR    exits 1 unless DIR holds exactly what `write` would produce
//   make_bad_gguf seeds DIR    writes small valid GGUF files (fuzzing seeds)
//
// The bytes are assembled by hand here, independently of ember's writer, so a bug in the
// writer cannot hide the same bug in the reader. Each case is a valid file with one defect.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

// GGUF value type ids (docs/FORMATS.md §1.3) and tensor type ids (§2.1) used below.
enum : uint32_t { U8 = 0, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 };
enum : uint32_t { T_F32 = 0, T_F16 = 1, T_Q4_0 = 2, T_Q8_0 = 8, T_Q4_K = 12, T_Q6_K = 14, T_F64 = 28 };

class B {
public:
    std::vector<uint8_t> v;

    B& u8(uint8_t x) { return put(&x, 1); }
    B& u16(uint16_t x) { return put(&x, 2); }
    B& u32(uint32_t x) { return put(&x, 4); }
    B& i32(int32_t x) { return put(&x, 4); }
    B& u64(uint64_t x) { return put(&x, 8); }
    B& i64(int64_t x) { return put(&x, 8); }
    B& f32(float x) { return put(&x, 4); }
    B& f64(double x) { return put(&x, 8); }
    B& raw(std::string_view s) { return put(s.data(), s.size()); }
    B& str(std::string_view s) { return u64(s.size()).raw(s); }
    B& fill(size_t n, uint8_t byte) {
        v.insert(v.end(), n, byte);
        return *this;
    }
    B& align(size_t a) { return fill((a - v.size() % a) % a, 0); }

    B& header(uint32_t version, int64_t n_tensors, int64_t n_kv) { return raw("GGUF").u32(version).i64(n_tensors).i64(n_kv); }
    B& kv_u32(std::string_view key, uint32_t x) { return str(key).u32(U32).u32(x); }
    B& kv_i32(std::string_view key, int32_t x) { return str(key).u32(I32).i32(x); }
    B& kv_str(std::string_view key, std::string_view s) { return str(key).u32(STRING).str(s); }
    B& tensor(std::string_view name, std::vector<int64_t> ne, uint32_t type, uint64_t offset) {
        str(name).u32(static_cast<uint32_t>(ne.size()));
        for (int64_t n : ne) i64(n);
        return u32(type).u64(offset);
    }

private:
    B& put(const void* p, size_t n) {
        const auto* b = static_cast<const uint8_t*>(p);
        v.insert(v.end(), b, b + n);
        return *this;
    }
};

struct Case {
    std::string name;      // file name without ".gguf"
    std::string expected;  // substring of the error message (no ';', no tab)
    std::vector<uint8_t> bytes;
};

// The valid two-tensor file every tensor case starts from: "a" F32 [8] (32 bytes) at 0,
// "b" Q8_0 [32, 2] (68 bytes, padded to 96) at 32; alignment 32.
struct Model {
    uint32_t version = 3;
    std::vector<std::pair<std::string, std::vector<uint8_t>>> extra_kv;  // raw records appended after the name
    std::string name_a = "a", name_b = "b";
    std::vector<int64_t> ne_a = {8}, ne_b = {32, 2};
    uint32_t type_a = T_F32, type_b = T_Q8_0;
    uint64_t off_a = 0, off_b = 32;
    size_t data_a = 32, data_b = 68;  // blob bytes written
    uint8_t header_pad = 0, pad_a = 0, pad_b = 0;

    std::vector<uint8_t> build() const {
        B b;
        b.header(version, 2, 1 + static_cast<int64_t>(extra_kv.size()));
        b.kv_str("general.name", "bad-gguf");
        for (const auto& [key, rec] : extra_kv) b.v.insert(b.v.end(), rec.begin(), rec.end());
        b.tensor(name_a, ne_a, type_a, off_a);
        b.tensor(name_b, ne_b, type_b, off_b);
        b.fill((32 - b.v.size() % 32) % 32, header_pad);
        for (size_t i = 0; i < data_a; ++i) b.u8(static_cast<uint8_t>(i + 1));
        b.fill((32 - data_a % 32) % 32, pad_a);
        for (size_t i = 0; i < data_b; ++i) b.u8(static_cast<uint8_t>(3 * i + 7));
        b.fill((32 - data_b % 32) % 32, pad_b);
        return b.v;
    }
};

std::vector<uint8_t> with_kv(std::vector<uint8_t> record) {
    Model m;
    m.extra_kv.push_back({"", std::move(record)});
    return m.build();
}

// Header with one metadata record and no tensors.
std::vector<uint8_t> one_kv(const B& record, size_t trailing_zeros = 0) {
    B b;
    b.header(3, 0, 1);
    b.v.insert(b.v.end(), record.v.begin(), record.v.end());
    b.fill(trailing_zeros, 0);
    return b.v;
}

std::vector<Case> bad_cases() {
    std::vector<Case> cases;
    auto add = [&](std::string name, std::string expected, std::vector<uint8_t> bytes) {
        cases.push_back({std::move(name), std::move(expected), std::move(bytes)});
    };

    // ---- header
    add("empty", "empty file", {});
    add("short_magic", "too short", B().raw("GG").v);
    add("bad_magic", "bad magic", B().raw("GGUX").u32(3).i64(0).i64(0).v);
    add("version_1", "version 1 is no longer supported", B().header(1, 0, 0).v);
    add("version_0", "unsupported GGUF version 0", B().header(0, 0, 0).v);
    add("version_4", "unsupported GGUF version 4", B().header(4, 0, 0).v);
    add("version_big_endian", "big-endian", B().raw("GGUF").u32(0x03000000u).i64(0).i64(0).v);
    add("truncated_header", "file truncated: header tensor count", B().raw("GGUF").u32(3).u32(0).v);
    add("truncated_header_kv_count", "file truncated: header metadata count", B().raw("GGUF").u32(3).i64(0).u16(0).v);
    add("huge_n_kv", "metadata count 1152921504606846976 in the header is impossible",
        B().header(3, 0, int64_t{1} << 60).fill(64, 0).v);
    add("huge_n_tensors", "tensor count 1099511627776 in the header is impossible",
        B().header(3, int64_t{1} << 40, 0).fill(64, 0).v);
    add("max_n_kv", "metadata count 9223372036854775807 in the header is impossible",
        B().header(3, 0, INT64_MAX).fill(64, 0).v);
    add("negative_n_kv", "negative metadata count -1", B().header(3, 0, -1).v);
    add("negative_n_tensors", "negative tensor count -5", B().header(3, -5, 0).v);
    add("counts_exceed_file", "header counts (2 metadata records, 2 tensors) need more bytes",
        B().header(3, 2, 2).fill(60, 0).v);

    // ---- metadata records
    add("key_length_past_eof", "key of metadata record #0: string length 1000 at offset 24 runs past the end",
        one_kv(B().u64(1000).fill(20, 'k')));
    add("key_length_huge", "key of metadata record #0: string length 18446744073709551615",
        one_kv(B().u64(UINT64_MAX).fill(20, 'k')));
    add("empty_key", "metadata record #0 at offset 24 has an empty key", one_kv(B().str("").u32(U8).u8(1)));
    add("string_value_past_eof", "value of key 'general.name': string length 4611686018427387904",
        one_kv(B().str("general.name").u32(STRING).u64(uint64_t{1} << 62).raw("tiny")));
    add("unknown_value_type", "key 'x' has invalid value type 13", one_kv(B().str("x").u32(13).u32(0)));
    add("unknown_value_type_huge", "key 'x' has invalid value type 4294967295",
        one_kv(B().str("x").u32(0xFFFFFFFFu).u32(0)));
    add("nested_array", "key 'nested' is a nested array",
        one_kv(B().str("nested").u32(ARRAY).u32(ARRAY).u64(1).u32(U8).u64(1).u8(0)));
    add("array_element_type_invalid", "key 'arr' has an array of invalid value type 42",
        one_kv(B().str("arr").u32(ARRAY).u32(42).u64(1).u32(0)));
    add("array_count_past_eof", "key 'arr': array count 1099511627776 at offset 43 is impossible",
        one_kv(B().str("arr").u32(ARRAY).u32(U32).u64(uint64_t{1} << 40).u32(1).u32(2)));
    add("array_count_max", "key 'arr': array count 18446744073709551615",
        one_kv(B().str("arr").u32(ARRAY).u32(U8).u64(UINT64_MAX).u32(1)));
    add("string_array_count_past_eof", "key 'tokens': array count 1000",
        one_kv(B().str("tokens").u32(ARRAY).u32(STRING).u64(1000).str("a").str("b")));
    add("string_in_array_past_eof", "value of key 'tokens': string length 999",
        one_kv(B().str("tokens").u32(ARRAY).u32(STRING).u64(2).str("ok").u64(999).raw("short")));
    add("truncated_value", "file truncated: value of key 'n' needs 8 bytes",
        one_kv(B().str("n").u32(U64).raw("abc")));
    add("truncated_value_type", "file truncated: value of key 'key-without-type' needs 4 bytes",
        one_kv(B().str("key-without-type").u16(0)));
    add("bool_not_0_or_1", "key 'flag': BOOL byte 2 at offset 40 is neither 0 nor 1",
        one_kv(B().str("flag").u32(BOOL).u8(2)));
    add("bool_array_not_0_or_1", "value of key 'flags': BOOL byte 255",
        one_kv(B().str("flags").u32(ARRAY).u32(BOOL).u64(3).u8(1).u8(0).u8(255)));
    add("duplicate_key", "duplicate metadata key 'general.name'",
        with_kv(B().kv_str("general.name", "again").v));
    add("alignment_not_power_of_two", "key 'general.alignment' is 48, expected a non-zero power of two",
        with_kv(B().kv_u32("general.alignment", 48).v));
    add("alignment_zero", "key 'general.alignment' is 0, expected a non-zero power of two",
        with_kv(B().kv_u32("general.alignment", 0).v));
    add("alignment_wrong_type", "key 'general.alignment' has type I32, expected U32",
        with_kv(B().kv_i32("general.alignment", 32).v));
    add("alignment_u64", "key 'general.alignment' has type U64, expected U32",
        with_kv(B().str("general.alignment").u32(U64).u64(32).v));
    add("alignment_array", "key 'general.alignment' has type ARRAY[U32], expected U32",
        with_kv(B().str("general.alignment").u32(ARRAY).u32(U32).u64(1).u32(32).v));

    // ---- tensor-info records
    {
        B b;
        b.header(3, 1, 0).str("tensor").u32(2).i64(8);  // ne[1], type and offset missing
        b.fill(2, 0);
        add("truncated_tensor_info", "file truncated: tensor 'tensor' (#0) needs 8 bytes", b.v);
    }
    {
        Model m;
        m.name_b = "a";
        add("duplicate_tensor_name", "duplicate tensor name 'a' (tensor #1)", m.build());
    }
    {
        Model m;
        m.name_a = "";
        add("empty_tensor_name", "tensor #0 (record at offset 64) has an empty name", m.build());
    }
    {
        Model m;
        m.name_b = std::string(64, 'n');
        add("long_tensor_name", "tensor #1 name is 64 bytes long (at most 63 allowed)", m.build());
    }
    {
        Model m;
        m.name_a = std::string("a\0b", 3);
        add("nul_in_tensor_name", "tensor #0 name contains a NUL byte", m.build());
    }
    {
        Model m;
        m.ne_a = {1, 8, 1, 1, 1};
        add("n_dims_5", "tensor 'a' has n_dims 5, expected 1 to 4", m.build());
    }
    {
        Model m;
        m.ne_a = {};
        add("n_dims_0", "tensor 'a' has n_dims 0, expected 1 to 4", m.build());
    }
    {
        B b;
        b.header(3, 1, 0).str("t").u32(0xFFFFFFFFu).fill(40, 0);
        add("n_dims_huge", "tensor 't' has n_dims 4294967295", b.v);
    }
    {
        Model m;
        m.ne_b = {32, -2};
        add("negative_ne", "tensor 'b' has negative ne[1] = -2", m.build());
    }
    {
        Model m;
        m.type_b = 39;
        add("invalid_type_id", "tensor 'b' has invalid tensor type id 39", m.build());
    }
    {
        Model m;
        m.type_b = 0xFFFFFFFFu;
        add("invalid_type_id_huge", "tensor 'b' has invalid tensor type id 4294967295", m.build());
    }
    {
        Model m;
        m.type_a = 4;
        add("removed_type_id", "tensor 'a' has removed tensor type id 4", m.build());
    }
    {
        Model m;
        m.type_b = 31;  // Q4_0_4_4, runtime repacking only
        add("removed_type_id_31", "tensor 'b' has removed tensor type id 31", m.build());
    }
    {
        Model m;
        m.type_b = T_Q4_0;
        m.ne_b = {33, 2};
        add("ne0_not_block_multiple", "tensor 'b': ne[0] = 33 is not a multiple of the Q4_0 block size 32", m.build());
    }
    {
        Model m;
        m.type_b = T_Q4_K;
        m.ne_b = {128, 1};
        add("ne0_not_k_block_multiple", "tensor 'b': ne[0] = 128 is not a multiple of the Q4_K block size 256",
            m.build());
    }
    {
        Model m;
        m.ne_b = {int64_t{1} << 32, int64_t{1} << 32};
        add("ne_product_overflow", "tensor 'b': element count 4294967296 x 4294967296 x 1 x 1 overflows int64",
            m.build());
    }
    {
        Model m;
        m.ne_b = {INT64_MAX, 1, 1, 2};
        add("ne_product_overflow_4d", "tensor 'b': element count 9223372036854775807 x 1 x 1 x 2 overflows int64",
            m.build());
    }
    {
        Model m;
        m.type_b = T_F64;
        m.ne_b = {int64_t{1} << 62};
        add("nbytes_overflow", "tensor 'b': byte size of 4611686018427387904 x 1 x 1 x 1 F64 overflows", m.build());
    }
    {
        Model m;
        m.type_a = T_F32;
        m.ne_a = {int64_t{1} << 61, 2};  // 2^62 elements fit int64; 2^64 bytes do not fit
        add("nbytes_overflow_rows", "tensor 'a': byte size of 2305843009213693952 x 2 x 1 x 1 F32 overflows", m.build());
    }

    // ---- placement
    {
        Model m;
        m.off_b = 0;
        add("overlapping_tensors", "tensor 'b' at data offset 0 overlaps tensor 'a'", m.build());
    }
    {
        Model m;
        m.off_b = 16;
        add("overlapping_tensors_partial", "tensor 'b' at data offset 16 overlaps tensor 'a'", m.build());
    }
    {
        Model m;
        m.off_b = 64;
        add("tensor_offset_gap", "tensor 'b' has data offset 64, expected 32", m.build());
    }
    {
        Model m;
        m.off_a = 32;
        m.off_b = 0;
        add("tensor_order_swapped", "tensor 'a' has data offset 32, expected 0", m.build());
    }
    {
        Model m;
        m.off_b = UINT64_MAX - 15;
        add("tensor_offset_huge", "tensor 'b' has data offset 18446744073709551600, expected 32", m.build());
    }
    {
        std::vector<uint8_t> bytes = Model().build();
        bytes.resize(bytes.size() - 64);  // cut inside tensor b's blob
        add("tensor_data_past_eof", "tensor 'b' data (68 bytes at file offset 160 + 32) runs past the end of the file",
            bytes);
    }
    {
        Model m;
        m.ne_b = {32, 1000};  // claims 34000 bytes; the file has 96
        add("tensor_data_too_large", "tensor 'b' data (34000 bytes at file offset 160 + 32) runs past the end", m.build());
    }
    {
        B b;
        b.header(3, 1, 0).tensor("zero", {0}, T_F32, 0);  // 0 bytes, but the padded data start is past the end
        add("data_start_past_eof", "data section would start at offset 64", b.v);
    }
    {
        Model m;
        m.header_pad = 0xAA;
        add("nonzero_header_padding", "non-zero padding byte 0xaa at offset 138 (before the data section)", m.build());
    }
    {
        Model m;
        m.pad_b = 0x01;
        add("nonzero_tensor_padding", "non-zero padding byte 0x01 at offset 260 (after tensor 'b')", m.build());
    }
    return cases;
}

// Small valid files: fuzzing seeds (and handy for manual tests).
std::vector<Case> seed_files() {
    std::vector<Case> seeds;
    {
        // Every value type, arrays of each, and tensors of several types; alignment 32.
        B b;
        b.header(3, 4, 27);
        b.kv_str("general.architecture", "llama");
        b.str("u8").u32(U8).u8(200);
        b.str("i8").u32(I8).u8(0x80);
        b.str("u16").u32(U16).u16(65000);
        b.str("i16").u32(I16).u16(0x8001);
        b.kv_u32("u32", 4000000000u);
        b.kv_i32("i32", -7);
        b.str("u64").u32(U64).u64(UINT64_MAX);
        b.str("i64").u32(I64).i64(INT64_MIN);
        b.str("f32").u32(F32).f32(1e-5f);
        b.str("f64").u32(F64).f64(3.141592653589793);
        b.str("bool").u32(BOOL).u8(1);
        b.kv_str("string", "h\xc3\xa9llo \"world\"\n");
        b.str("a.u8").u32(ARRAY).u32(U8).u64(3).u8(1).u8(2).u8(3);
        b.str("a.i8").u32(ARRAY).u32(I8).u64(2).u8(0xFF).u8(1);
        b.str("a.u16").u32(ARRAY).u32(U16).u64(1).u16(7);
        b.str("a.i16").u32(ARRAY).u32(I16).u64(1).u16(0xFFFF);
        b.str("a.u32").u32(ARRAY).u32(U32).u64(2).u32(1).u32(2);
        b.str("a.i32").u32(ARRAY).u32(I32).u64(2).i32(-1).i32(1);
        b.str("a.f32").u32(ARRAY).u32(F32).u64(2).f32(0.5f).u32(0x7F800001u);  // a signalling NaN
        b.str("a.bool").u32(ARRAY).u32(BOOL).u64(2).u8(0).u8(1);
        b.str("a.string").u32(ARRAY).u32(STRING).u64(3).str("<s>").str("").str("\xe2\x96\x81the");
        b.str("a.u64").u32(ARRAY).u32(U64).u64(1).u64(42);
        b.str("a.i64").u32(ARRAY).u32(I64).u64(1).i64(-42);
        b.str("a.f64").u32(ARRAY).u32(F64).u64(1).f64(-0.0);
        b.str("a.empty").u32(ARRAY).u32(STRING).u64(0);
        b.kv_u32("general.alignment", 32);
        b.tensor("norm.weight", {16}, T_F32, 0);              // 64 bytes
        b.tensor("w.q8", {32, 2}, T_Q8_0, 64);                // 68 -> 96
        b.tensor("w.f16", {3, 1, 1}, T_F16, 160);             // 6 -> 32
        b.tensor("w.q4k", {256, 1}, T_Q4_K, 192);             // 144 -> 160
        b.align(32);
        for (size_t i = 0; i < 64 + 96 + 32 + 160; ++i) b.u8(static_cast<uint8_t>(i * 13));
        // Padding must be zero: rewrite the pad ranges.
        const size_t data = b.v.size() - (64 + 96 + 32 + 160);
        for (size_t i = 68; i < 96; ++i) b.v[data + 64 + i] = 0;
        for (size_t i = 6; i < 32; ++i) b.v[data + 160 + i] = 0;
        for (size_t i = 144; i < 160; ++i) b.v[data + 192 + i] = 0;
        seeds.push_back({"seed_every_type", "", b.v});
    }
    {
        // Version 2, alignment 64, one tensor, last blob unpadded at the end of the file.
        B b;
        b.header(2, 1, 2).kv_u32("general.alignment", 64).kv_str("general.name", "v2");
        b.tensor("t", {4, 2}, T_F32, 0);
        b.align(64);
        for (int i = 0; i < 8; ++i) b.f32(static_cast<float>(i));
        seeds.push_back({"seed_v2_align64", "", b.v});
    }
    {
        // A vocab-like file without tensors (ends right after its records).
        B b;
        b.header(3, 0, 4).kv_str("tokenizer.ggml.model", "llama");
        b.str("tokenizer.ggml.tokens").u32(ARRAY).u32(STRING).u64(4).str("<unk>").str("<s>").str("</s>").str("\xe2\x96\x81" "a");
        b.str("tokenizer.ggml.scores").u32(ARRAY).u32(F32).u64(4).f32(0).f32(0).f32(0).f32(-1.5f);
        b.str("tokenizer.ggml.token_type").u32(ARRAY).u32(I32).u64(4).i32(2).i32(3).i32(3).i32(1);
        seeds.push_back({"seed_vocab", "", b.v});
    }
    return seeds;
}

std::string manifest(const std::vector<Case>& cases) {
    std::string s =
        "# Generated by make_bad_gguf.cpp: each file and a substring of the error ember must report.\n"
        "# file\texpected error substring\n";
    for (const Case& c : cases) s += c.name + ".gguf\t" + c.expected + "\n";
    return s;
}

bool write_file(const std::filesystem::path& path, const void* data, size_t size) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    return static_cast<bool>(out);
}

bool file_equals(const std::filesystem::path& path, const void* data, size_t size) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    const std::vector<char> have((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return have.size() == size && (size == 0 || std::memcmp(have.data(), data, size) == 0);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s write|check|seeds DIR\n", argv[0]);
        return 2;
    }
    const std::string mode = argv[1];
    const std::filesystem::path dir = argv[2];

    if (mode == "seeds") {
        std::filesystem::create_directories(dir);
        for (const Case& c : seed_files()) {
            if (!write_file(dir / (c.name + ".gguf"), c.bytes.data(), c.bytes.size())) return 1;
        }
        return 0;
    }

    const std::vector<Case> cases = bad_cases();
    const std::string list = manifest(cases);
    if (mode == "write") {
        std::filesystem::create_directories(dir);
        for (const Case& c : cases) {
            if (!write_file(dir / (c.name + ".gguf"), c.bytes.data(), c.bytes.size())) return 1;
        }
        return write_file(dir / "expected.tsv", list.data(), list.size()) ? 0 : 1;
    }
    if (mode == "check") {
        int bad = 0;
        std::set<std::string> known = {"expected.tsv"};
        for (const Case& c : cases) {
            known.insert(c.name + ".gguf");
            if (!file_equals(dir / (c.name + ".gguf"), c.bytes.data(), c.bytes.size())) {
                std::fprintf(stderr, "%s.gguf: missing or out of date\n", c.name.c_str());
                ++bad;
            }
        }
        if (!file_equals(dir / "expected.tsv", list.data(), list.size())) {
            std::fprintf(stderr, "expected.tsv: missing or out of date\n");
            ++bad;
        }
        for (const auto& entry : std::filesystem::directory_iterator(dir)) {
            const std::string name = entry.path().filename().string();
            if (entry.path().extension() == ".gguf" && !known.contains(name)) {
                std::fprintf(stderr, "%s: not produced by the generator\n", name.c_str());
                ++bad;
            }
        }
        if (bad > 0) std::fprintf(stderr, "regenerate with: make_bad_gguf write %s\n", dir.string().c_str());
        return bad == 0 ? 0 : 1;
    }
    std::fprintf(stderr, "unknown mode '%s'\n", mode.c_str());
    return 2;
}
