// GGUF files: a validating reader over a memory map, and a writer (part of the public API;
// the streaming writer for files larger than memory is model/gguf/stream_writer.h).
//
// The reader checks every count, length, size and offset against the file size
// (overflow-safe) before it is used; any violation throws ember::Error whose message
// starts with the file's path and names the key, tensor or offset at fault.
// Tensor data is never copied: TensorInfo::data points into the mapping.
//
// The reader accepts exactly the canonical layout (docs/FORMATS.md §1): versions 2 and 3,
// tensor blobs back to back in record order, each padded to the alignment with zeros,
// bools stored as 0 or 1. Bytes past the end of the data section are ignored. So reading
// a file and writing it back with Writer::copy_of reproduces it byte for byte.
#pragma once

#include "ember/type.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <variant>
#include <vector>

namespace ember::gguf {

inline constexpr size_t kDefaultAlignment = 32;
inline constexpr size_t kMaxNameBytes = 63;  // tensor names are < 64 bytes (GGML_MAX_NAME)
inline constexpr uint32_t kMaxDims = 4;

enum class ValueType : uint32_t {
    U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
    STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};
inline constexpr uint32_t kValueTypeCount = 13;
const char* value_type_name(ValueType t);  // "U32", "STRING", ...

// One scalar: unsigned integers as uint64_t, signed as int64_t, F32/F64 as double
// (an F32 is held exactly, NaN payloads included), bool, string (raw bytes).
using Scalar = std::variant<uint64_t, int64_t, double, bool, std::string>;

// One metadata value. Scalars are kept in their stored type; arrays keep their element type.
struct Value {
    ValueType type = ValueType::U8;
    ValueType element_type = ValueType::U8;  // meaningful when type == ARRAY
    Scalar scalar;                           // meaningful when type != ARRAY
    std::vector<Scalar> array;               // the elements (as scalars of element_type) when type == ARRAY

    size_t array_size() const { return array.size(); }
    bool is_array() const { return type == ValueType::ARRAY; }

    // Makers for each stored type.
    static Value u8(uint8_t v);
    static Value i8(int8_t v);
    static Value u16(uint16_t v);
    static Value i16(int16_t v);
    static Value u32(uint32_t v);
    static Value i32(int32_t v);
    static Value u64(uint64_t v);
    static Value i64(int64_t v);
    static Value f32(float v);
    static Value f64(double v);
    static Value boolean(bool v);
    static Value string(std::string v);
    // An array of `element_type` (not ARRAY). Each element must hold the variant alternative that
    // element_type uses (uint64_t for U*, int64_t for I*, double for F*, bool, std::string) and fit it.
    static Value array_of(ValueType element_type, std::vector<Scalar> elements);
    static Value string_array(std::vector<std::string> v);
    static Value f32_array(std::span<const float> v);
    static Value i32_array(std::span<const int32_t> v);
    static Value u32_array(std::span<const uint32_t> v);

    // Human-readable type: "U32", "ARRAY[STRING]".
    std::string type_name() const;
};

struct KeyValue {
    std::string key;
    Value value;
};

struct TensorInfo {
    std::string name;
    Type type = Type::F32;
    uint32_t n_dims = 1;
    std::array<int64_t, 4> ne{1, 1, 1, 1};  // elements, innermost first; missing dims are 1
    uint64_t offset = 0;                    // relative to the data section
    size_t nbytes = 0;
    const uint8_t* data = nullptr;  // into the mapping (nullptr for a file being written)

    int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }  // validated to fit
    std::span<const uint8_t> bytes() const { return {data, data ? nbytes : 0}; }
};

class File {
public:
    // Memory-maps and validates `path`. Throws ember::Error ("PATH: problem").
    static File open(const std::string& path);
    // Validates an in-memory image (the bytes must outlive the File). `label` names it in errors.
    static File parse(std::span<const uint8_t> bytes, std::string label = "<memory>");

    File(File&&) noexcept;
    File& operator=(File&&) noexcept;
    ~File();

    const std::string& path() const;
    uint32_t version() const;
    size_t alignment() const;
    size_t data_offset() const;  // file offset of the data section
    size_t data_size() const;    // bytes of the data section, padding included (0 without tensors)
    size_t file_size() const;

    const std::vector<KeyValue>& metadata() const;
    const Value* find(std::string_view key) const;  // nullptr when absent

    // Strictly typed getters: throw when the key is absent (unless the _opt form or a fallback
    // is used) or stored with another type ("PATH: key 'K' has type I32, expected U32").
    std::string get_string(std::string_view key) const;
    std::optional<std::string> get_string_opt(std::string_view key) const;
    uint32_t get_u32(std::string_view key) const;
    std::optional<uint32_t> get_u32_opt(std::string_view key) const;
    int32_t get_i32(std::string_view key) const;
    std::optional<int32_t> get_i32_opt(std::string_view key) const;
    uint64_t get_u64(std::string_view key) const;
    float get_f32(std::string_view key) const;
    std::optional<float> get_f32_opt(std::string_view key) const;
    bool get_bool(std::string_view key) const;
    bool get_bool(std::string_view key, bool fallback) const;

    // Arrays: the key must be an ARRAY of exactly that element type.
    const Value& get_array(std::string_view key, ValueType element_type) const;
    const Value* get_array_opt(std::string_view key, ValueType element_type) const;
    std::vector<std::string> get_string_array(std::string_view key) const;
    std::vector<float> get_f32_array(std::string_view key) const;
    std::vector<int32_t> get_i32_array(std::string_view key) const;

    const std::vector<TensorInfo>& tensors() const;
    const TensorInfo* find_tensor(std::string_view name) const;  // nullptr when absent

private:
    struct Impl;
    explicit File(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Builds a GGUF file in the canonical layout: records in insertion order, then (if there are
// tensors) zero padding to the alignment and the tensor blobs back to back in record order,
// each padded to the alignment with zeros. A file without tensors ends after its last record.
class Writer {
public:
    explicit Writer(uint32_t version = 3);  // 2 or 3

    // Sets the alignment (a power of two) and records it as the U32 key "general.alignment"
    // (replacing an existing record in place). Adding "general.alignment" directly does the same.
    void set_alignment(size_t alignment);
    size_t alignment() const { return alignment_; }

    // Appends a record. Throws on an empty or duplicate key, or an inconsistent value.
    void add(std::string key, Value value);
    // `data` must stay valid until to_bytes()/write(); nbytes must equal the tensor's byte size.
    void add_tensor(std::string name, Type type, std::span<const int64_t> ne, const void* data, size_t nbytes);

    std::vector<uint8_t> to_bytes() const;
    void write(const std::string& path) const;

    // Streaming, for files larger than memory (see StreamWriter): declares a tensor whose data
    // is written later. A writer with declared tensors cannot to_bytes() or write().
    void declare_tensor(std::string name, Type type, std::span<const int64_t> ne);
    // Everything before the first tensor's data: the records, the tensor infos and (when there
    // are tensors) the padding to the alignment.
    std::vector<uint8_t> header_bytes() const;
    // The tensors added or declared so far, in file order (nbytes set, data as given).
    std::vector<TensorInfo> tensor_infos() const;

    // A writer that reproduces `file` exactly (metadata, tensor order, data). The tensor data
    // is referenced, not copied: `file` must outlive the writer's use.
    static Writer copy_of(const File& file);

private:
    struct PendingTensor {
        TensorInfo info;
        const void* data;
        bool declared = false;  // data comes later, through a StreamWriter
    };
    TensorInfo checked_tensor_info(std::string name, Type type, std::span<const int64_t> ne) const;
    uint32_t version_;
    size_t alignment_ = kDefaultAlignment;
    std::vector<KeyValue> kv_;
    std::vector<PendingTensor> tensors_;
    std::unordered_set<std::string> keys_;          // for the duplicate checks
    std::unordered_set<std::string> tensor_names_;
};

// Exact conversions between an F32's bits and the double a Value holds (NaN payloads kept).
double f32_bits_to_double(uint32_t bits);
uint32_t double_to_f32_bits(double value);

}  // namespace ember::gguf
