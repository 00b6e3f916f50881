// GGUF writer: the canonical layout (docs/FORMATS.md §1.5), so copy_of(File) reproduces files exactly.
#include "core/error.h"
#include "core/output_file.h"
#include "ember/gguf.h"

#include <fmt/format.h>

#include <bit>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>

namespace ember::gguf {

// ---- Value makers -------------------------------------------------------------------

namespace {
Value scalar_value(ValueType t, Scalar s) {
    Value v;
    v.type = t;
    v.scalar = std::move(s);
    return v;
}
}  // namespace

Value Value::u8(uint8_t v) { return scalar_value(ValueType::U8, uint64_t{v}); }
Value Value::i8(int8_t v) { return scalar_value(ValueType::I8, int64_t{v}); }
Value Value::u16(uint16_t v) { return scalar_value(ValueType::U16, uint64_t{v}); }
Value Value::i16(int16_t v) { return scalar_value(ValueType::I16, int64_t{v}); }
Value Value::u32(uint32_t v) { return scalar_value(ValueType::U32, uint64_t{v}); }
Value Value::i32(int32_t v) { return scalar_value(ValueType::I32, int64_t{v}); }
Value Value::u64(uint64_t v) { return scalar_value(ValueType::U64, v); }
Value Value::i64(int64_t v) { return scalar_value(ValueType::I64, v); }
Value Value::f32(float v) { return scalar_value(ValueType::F32, f32_bits_to_double(std::bit_cast<uint32_t>(v))); }
Value Value::f64(double v) { return scalar_value(ValueType::F64, v); }
Value Value::boolean(bool v) { return scalar_value(ValueType::BOOL, v); }
Value Value::string(std::string v) { return scalar_value(ValueType::STRING, std::move(v)); }

Value Value::array_of(ValueType element_type, std::vector<Scalar> elements) {
    if (element_type == ValueType::ARRAY) fail("GGUF arrays of arrays are not allowed");
    Value v;
    v.type = ValueType::ARRAY;
    v.element_type = element_type;
    v.scalar = uint64_t{0};
    v.array = std::move(elements);
    return v;
}

Value Value::string_array(std::vector<std::string> v) {
    std::vector<Scalar> elements;
    elements.reserve(v.size());
    for (std::string& s : v) elements.emplace_back(std::move(s));
    return array_of(ValueType::STRING, std::move(elements));
}

Value Value::f32_array(std::span<const float> v) {
    std::vector<Scalar> elements;
    elements.reserve(v.size());
    for (float f : v) elements.emplace_back(f32_bits_to_double(std::bit_cast<uint32_t>(f)));
    return array_of(ValueType::F32, std::move(elements));
}

Value Value::i32_array(std::span<const int32_t> v) {
    std::vector<Scalar> elements;
    elements.reserve(v.size());
    for (int32_t x : v) elements.emplace_back(int64_t{x});
    return array_of(ValueType::I32, std::move(elements));
}

Value Value::u32_array(std::span<const uint32_t> v) {
    std::vector<Scalar> elements;
    elements.reserve(v.size());
    for (uint32_t x : v) elements.emplace_back(uint64_t{x});
    return array_of(ValueType::U32, std::move(elements));
}

// ---- encoding -----------------------------------------------------------------------

namespace {

class Out {
public:
    explicit Out(std::vector<uint8_t>& buf) : buf_(buf) {}

    template <typename T>
    void put(T v) {
        const size_t at = buf_.size();
        buf_.resize(at + sizeof(T));
        std::memcpy(buf_.data() + at, &v, sizeof(T));
    }
    void put_bytes(const void* p, size_t n) {
        if (n == 0) return;
        const size_t at = buf_.size();
        buf_.resize(at + n);
        std::memcpy(buf_.data() + at, p, n);
    }
    void put_string(std::string_view s) {
        put<uint64_t>(s.size());
        put_bytes(s.data(), s.size());
    }
    void pad_to(size_t alignment) {
        const size_t rem = buf_.size() % alignment;
        if (rem != 0) buf_.resize(buf_.size() + (alignment - rem), 0);
    }

private:
    std::vector<uint8_t>& buf_;
};

// The alternative a Scalar of type `t` must hold, or throws naming `key`.
template <typename T>
const T& scalar_as(const Scalar& s, ValueType t, std::string_view key) {
    const T* p = std::get_if<T>(&s);
    if (p == nullptr) fail("GGUF writer: key '{}': a {} value holds the wrong kind of scalar", key, value_type_name(t));
    return *p;
}

template <typename Int>
void put_unsigned(Out& out, const Scalar& s, ValueType t, std::string_view key) {
    const uint64_t v = scalar_as<uint64_t>(s, t, key);
    if (v > std::numeric_limits<Int>::max()) fail("GGUF writer: key '{}': {} does not fit {}", key, v, value_type_name(t));
    out.put(static_cast<Int>(v));
}

template <typename Int>
void put_signed(Out& out, const Scalar& s, ValueType t, std::string_view key) {
    const int64_t v = scalar_as<int64_t>(s, t, key);
    if (v < std::numeric_limits<Int>::min() || v > std::numeric_limits<Int>::max()) {
        fail("GGUF writer: key '{}': {} does not fit {}", key, v, value_type_name(t));
    }
    out.put(static_cast<Int>(v));
}

void put_scalar(Out& out, const Scalar& s, ValueType t, std::string_view key) {
    switch (t) {
        case ValueType::U8: return put_unsigned<uint8_t>(out, s, t, key);
        case ValueType::U16: return put_unsigned<uint16_t>(out, s, t, key);
        case ValueType::U32: return put_unsigned<uint32_t>(out, s, t, key);
        case ValueType::U64: return put_unsigned<uint64_t>(out, s, t, key);
        case ValueType::I8: return put_signed<int8_t>(out, s, t, key);
        case ValueType::I16: return put_signed<int16_t>(out, s, t, key);
        case ValueType::I32: return put_signed<int32_t>(out, s, t, key);
        case ValueType::I64: return put_signed<int64_t>(out, s, t, key);
        case ValueType::F32: return out.put<uint32_t>(double_to_f32_bits(scalar_as<double>(s, t, key)));
        case ValueType::F64: return out.put<uint64_t>(std::bit_cast<uint64_t>(scalar_as<double>(s, t, key)));
        case ValueType::BOOL: return out.put<uint8_t>(scalar_as<bool>(s, t, key) ? 1 : 0);
        case ValueType::STRING: return out.put_string(scalar_as<std::string>(s, t, key));
        case ValueType::ARRAY: break;
    }
    fail("GGUF writer: key '{}': invalid scalar type {}", key, static_cast<uint32_t>(t));
}

void put_value(Out& out, const Value& v, std::string_view key) {
    out.put<uint32_t>(static_cast<uint32_t>(v.type));
    if (v.type != ValueType::ARRAY) return put_scalar(out, v.scalar, v.type, key);
    out.put<uint32_t>(static_cast<uint32_t>(v.element_type));
    out.put<uint64_t>(v.array.size());
    for (const Scalar& s : v.array) put_scalar(out, s, v.element_type, key);
}

size_t checked_alignment(uint64_t a) {
    if (a == 0 || !std::has_single_bit(a) || a > std::numeric_limits<uint32_t>::max()) {
        fail("GGUF writer: alignment {} is not a non-zero power of two that fits U32", a);
    }
    return static_cast<size_t>(a);
}

size_t pad(size_t x, size_t alignment) { return (x + alignment - 1) & ~(alignment - 1); }

}  // namespace

// ---- Writer -------------------------------------------------------------------------

Writer::Writer(uint32_t version) : version_(version) {
    if (version != 2 && version != 3) fail("GGUF writer: version {} is not supported (2 or 3)", version);
}

void Writer::set_alignment(size_t alignment) {
    alignment_ = checked_alignment(alignment);
    for (KeyValue& kv : kv_) {
        if (kv.key == "general.alignment") {
            kv.value = Value::u32(static_cast<uint32_t>(alignment));
            return;
        }
    }
    keys_.insert("general.alignment");
    kv_.push_back({"general.alignment", Value::u32(static_cast<uint32_t>(alignment))});
}

void Writer::add(std::string key, Value value) {
    if (key.empty()) fail("GGUF writer: empty metadata key");
    if (keys_.contains(key)) fail("GGUF writer: duplicate metadata key '{}'", key);
    if (static_cast<uint32_t>(value.type) >= kValueTypeCount) fail("GGUF writer: key '{}': invalid value type", key);
    if (value.type == ValueType::ARRAY &&
        (value.element_type == ValueType::ARRAY || static_cast<uint32_t>(value.element_type) >= kValueTypeCount)) {
        fail("GGUF writer: key '{}': invalid array element type", key);
    }
    // Check the payload now (encoding into a scratch buffer), so errors surface at add().
    std::vector<uint8_t> scratch;
    Out out(scratch);
    put_value(out, value, key);
    if (key == "general.alignment") {
        if (value.type != ValueType::U32) fail("GGUF writer: key 'general.alignment' must be U32, not {}", value.type_name());
        alignment_ = checked_alignment(std::get<uint64_t>(value.scalar));
    }
    keys_.insert(key);
    kv_.push_back({std::move(key), std::move(value)});
}

TensorInfo Writer::checked_tensor_info(std::string name, Type type, std::span<const int64_t> ne) const {
    if (name.empty() || name.size() > kMaxNameBytes || name.find('\0') != std::string::npos) {
        fail("GGUF writer: invalid tensor name '{}' (must be 1 to {} bytes, without NUL)", name, kMaxNameBytes);
    }
    if (tensor_names_.contains(name)) fail("GGUF writer: duplicate tensor name '{}'", name);
    if (ne.empty() || ne.size() > kMaxDims) fail("GGUF writer: tensor '{}' has {} dimensions (1 to 4)", name, ne.size());
    const TypeTraits& tr = type_traits(type);  // throws for invalid types

    TensorInfo info;
    info.name = std::move(name);
    info.type = type;
    info.n_dims = static_cast<uint32_t>(ne.size());
    for (size_t d = 0; d < ne.size(); ++d) {
        if (ne[d] < 0) fail("GGUF writer: tensor '{}' has negative ne[{}]", info.name, d);
        info.ne[d] = ne[d];
    }
    if (info.ne[0] % tr.block_size != 0) {
        fail("GGUF writer: tensor '{}': ne[0] = {} is not a multiple of the {} block size {}", info.name, info.ne[0],
             tr.name, tr.block_size);
    }
    int64_t elements = 1;
    uint64_t expected = static_cast<uint64_t>(info.ne[0] / tr.block_size);
    bool overflow = __builtin_mul_overflow(expected, static_cast<uint64_t>(tr.type_size), &expected);
    for (int d = 0; d < 4; ++d) {
        overflow = overflow || __builtin_mul_overflow(elements, info.ne[d], &elements);
        if (d > 0) overflow = overflow || __builtin_mul_overflow(expected, static_cast<uint64_t>(info.ne[d]), &expected);
    }
    if (overflow) fail("GGUF writer: tensor '{}': size overflows", info.name);
    info.nbytes = static_cast<size_t>(expected);
    return info;
}

void Writer::add_tensor(std::string name, Type type, std::span<const int64_t> ne, const void* data, size_t nbytes) {
    TensorInfo info = checked_tensor_info(std::move(name), type, ne);
    const TypeTraits& tr = type_traits(type);
    const uint64_t expected = info.nbytes;
    if (expected != nbytes) {
        fail("GGUF writer: tensor '{}' is {} bytes as {} {}x{}x{}x{}, but {} bytes were given", info.name, expected,
             tr.name, info.ne[0], info.ne[1], info.ne[2], info.ne[3], nbytes);
    }
    if (data == nullptr && nbytes > 0) fail("GGUF writer: tensor '{}' has no data", info.name);
    info.nbytes = nbytes;
    tensor_names_.insert(info.name);
    tensors_.push_back({std::move(info), data});
}

void Writer::declare_tensor(std::string name, Type type, std::span<const int64_t> ne) {
    TensorInfo info = checked_tensor_info(std::move(name), type, ne);
    tensor_names_.insert(info.name);
    tensors_.push_back({std::move(info), nullptr, /*declared=*/true});
}

std::vector<TensorInfo> Writer::tensor_infos() const {
    std::vector<TensorInfo> infos;
    infos.reserve(tensors_.size());
    for (const PendingTensor& t : tensors_) infos.push_back(t.info);
    return infos;
}

std::vector<uint8_t> Writer::header_bytes() const {
    std::vector<uint8_t> buf;
    Out out(buf);
    out.put<uint32_t>(0x46554747u);  // "GGUF"
    out.put<uint32_t>(version_);
    out.put<int64_t>(static_cast<int64_t>(tensors_.size()));
    out.put<int64_t>(static_cast<int64_t>(kv_.size()));
    for (const KeyValue& kv : kv_) {
        out.put_string(kv.key);
        put_value(out, kv.value, kv.key);
    }
    size_t offset = 0;
    for (const PendingTensor& t : tensors_) {
        out.put_string(t.info.name);
        out.put<uint32_t>(t.info.n_dims);
        for (uint32_t d = 0; d < t.info.n_dims; ++d) out.put<int64_t>(t.info.ne[d]);
        out.put<uint32_t>(static_cast<uint32_t>(t.info.type));
        out.put<uint64_t>(offset);
        offset += pad(t.info.nbytes, alignment_);
    }
    if (!tensors_.empty()) out.pad_to(alignment_);  // a file without tensors ends after its records
    return buf;
}

std::vector<uint8_t> Writer::to_bytes() const {
    size_t data_bytes = 0;
    for (const PendingTensor& t : tensors_) {
        if (t.declared) fail("GGUF writer: tensor '{}' was declared for streaming: write it with a StreamWriter", t.info.name);
        data_bytes += pad(t.info.nbytes, alignment_);
    }
    std::vector<uint8_t> buf = header_bytes();
    if (tensors_.empty()) return buf;  // no data section, no padding
    buf.reserve(buf.size() + data_bytes);
    Out out(buf);
    for (const PendingTensor& t : tensors_) {
        if (t.info.nbytes > 0) out.put_bytes(t.data, t.info.nbytes);
        out.pad_to(alignment_);
    }
    return buf;
}

void Writer::write(const std::string& path) const {
    const std::vector<uint8_t> bytes = to_bytes();
    OutputFile out(path);
    out.write(bytes.data(), bytes.size());
    out.commit();
}

Writer Writer::copy_of(const File& file) {
    Writer w(file.version());
    for (const KeyValue& kv : file.metadata()) w.add(kv.key, kv.value);
    for (const TensorInfo& t : file.tensors()) {
        w.add_tensor(t.name, t.type, std::span<const int64_t>(t.ne.data(), t.n_dims), t.data, t.nbytes);
    }
    return w;
}

}  // namespace ember::gguf
