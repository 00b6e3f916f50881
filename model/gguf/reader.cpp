// GGUF reader: validates the whole container before anything is used (docs/FORMATS.md §1).
//
// Parsing walks the bytes once with a bounds-checked Cursor. Every count is checked
// against the bytes that remain before anything is allocated, every size product and
// sum is overflow-checked, and the tensor offsets must follow the canonical sequence
// (each blob padded to the alignment, in record order), so blobs can never overlap.
#include "core/error.h"
#include "ember/gguf.h"
#include "model/gguf/mapped_file.h"

#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <utility>

namespace ember::gguf {

static_assert(std::endian::native == std::endian::little, "the GGUF reader assumes a little-endian host");

const char* value_type_name(ValueType t) {
    switch (t) {
        case ValueType::U8: return "U8";
        case ValueType::I8: return "I8";
        case ValueType::U16: return "U16";
        case ValueType::I16: return "I16";
        case ValueType::U32: return "U32";
        case ValueType::I32: return "I32";
        case ValueType::F32: return "F32";
        case ValueType::BOOL: return "BOOL";
        case ValueType::STRING: return "STRING";
        case ValueType::ARRAY: return "ARRAY";
        case ValueType::U64: return "U64";
        case ValueType::I64: return "I64";
        case ValueType::F64: return "F64";
    }
    return "INVALID";
}

std::string Value::type_name() const {
    if (type == ValueType::ARRAY) return fmt::format("ARRAY[{}]", value_type_name(element_type));
    return value_type_name(type);
}

double f32_bits_to_double(uint32_t bits) {
    const bool is_nan = (bits & 0x7F800000u) == 0x7F800000u && (bits & 0x007FFFFFu) != 0;
    if (!is_nan) return static_cast<double>(std::bit_cast<float>(bits));  // exact
    // NaN: move the payload by hand (a hardware conversion would quiet a signalling NaN).
    const uint64_t d = (static_cast<uint64_t>(bits >> 31) << 63) | (uint64_t{0x7FF} << 52) |
                       (static_cast<uint64_t>(bits & 0x007FFFFFu) << 29);
    return std::bit_cast<double>(d);
}

uint32_t double_to_f32_bits(double value) {
    const uint64_t d = std::bit_cast<uint64_t>(value);
    const uint32_t sign = static_cast<uint32_t>(d >> 63) << 31;
    if (std::isnan(value)) {
        uint32_t payload = static_cast<uint32_t>(d >> 29) & 0x007FFFFFu;
        if (payload == 0) payload = 0x00400000u;  // keep it a NaN
        return sign | 0x7F800000u | payload;
    }
    // Values at or beyond the rounding boundary above FLT_MAX become infinity (IEEE
    // round-to-nearest); converting them with a cast would be undefined behaviour.
    if (std::fabs(value) >= 0x1.ffffffp127) return sign | 0x7F800000u;
    return std::bit_cast<uint32_t>(static_cast<float>(value));
}

namespace {

// Rounds x up to a multiple of the power of two `align`; false on overflow.
bool pad_checked(uint64_t x, uint64_t align, uint64_t* out) {
    uint64_t sum = 0;
    if (__builtin_add_overflow(x, align - 1, &sum)) return false;
    *out = sum & ~(align - 1);
    return true;
}

size_t fixed_size(ValueType t) {
    switch (t) {
        case ValueType::U8: case ValueType::I8: case ValueType::BOOL: return 1;
        case ValueType::U16: case ValueType::I16: return 2;
        case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
        case ValueType::U64: case ValueType::I64: case ValueType::F64: return 8;
        case ValueType::STRING: case ValueType::ARRAY: return 0;
    }
    return 0;
}

// A bounds-checked little-endian reader over the file bytes. Every read names what it
// was reading, so a truncated file says where and what.
class Cursor {
public:
    Cursor(std::span<const uint8_t> bytes, const std::string& label) : bytes_(bytes), label_(label) {}

    size_t pos() const { return pos_; }
    size_t remaining() const { return bytes_.size() - pos_; }

    // Throws unless n more bytes are available.
    void need(size_t n, std::string_view what) const {
        if (n > remaining()) {
            fail("{}: file truncated: {} needs {} bytes at offset {}, but only {} remain (file size {})", label_,
                 what, n, pos_, remaining(), bytes_.size());
        }
    }

    template <typename T>
    T read(std::string_view what) {
        need(sizeof(T), what);
        T v;
        std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }

    std::string read_string(std::string_view what) {
        const uint64_t len = read<uint64_t>(what);
        if (len > remaining()) {
            fail("{}: {}: string length {} at offset {} runs past the end of the file ({} bytes remain)", label_,
                 what, len, pos_ - 8, remaining());
        }
        std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), static_cast<size_t>(len));
        pos_ += static_cast<size_t>(len);
        return s;
    }

private:
    std::span<const uint8_t> bytes_;
    const std::string& label_;
    size_t pos_ = 0;
};

}  // namespace

struct File::Impl {
    std::string path;
    MappedFile map;  // empty for parse()d images
    std::span<const uint8_t> bytes;
    uint32_t version = 0;
    size_t alignment = kDefaultAlignment;
    size_t data_offset = 0;
    size_t data_size = 0;
    std::vector<KeyValue> kv;
    std::map<std::string, size_t, std::less<>> kv_index;
    std::vector<TensorInfo> tensors;
    std::map<std::string, size_t, std::less<>> tensor_index;

    void parse();

    // The stored value of `key` checked to be of type `t` (throws when absent or mistyped).
    const Value& require(std::string_view key, ValueType t) const;
    const Value* require_opt(std::string_view key, ValueType t) const;

private:
    void parse_header(Cursor& c, int64_t* n_tensors, int64_t* n_kv);
    void parse_kv(Cursor& c, int64_t index);
    Scalar read_scalar(Cursor& c, ValueType t, const std::string& what);
    void parse_tensor_info(Cursor& c, int64_t index);
    void place_tensors(size_t info_end);
    void check_zero_padding(size_t begin, size_t end, std::string_view what) const;
};

void File::Impl::parse_header(Cursor& c, int64_t* n_tensors, int64_t* n_kv) {
    if (bytes.empty()) fail("{}: empty file (not a GGUF file)", path);
    if (bytes.size() < 4) fail("{}: file too short ({} bytes) for the GGUF magic", path, bytes.size());
    if (std::memcmp(bytes.data(), "GGUF", 4) != 0) {
        fail("{}: not a GGUF file: bad magic {:02x} {:02x} {:02x} {:02x} (expected 47 47 55 46, \"GGUF\")", path,
             bytes[0], bytes[1], bytes[2], bytes[3]);
    }
    c.read<uint32_t>("magic");
    version = c.read<uint32_t>("header version");
    if (version == 1) fail("{}: GGUF version 1 is no longer supported (only versions 2 and 3)", path);
    if (version != 2 && version != 3) {
        const uint32_t swapped = __builtin_bswap32(version);
        if ((version & 0xFFFFu) == 0 && (swapped == 2 || swapped == 3)) {
            fail("{}: GGUF version field 0x{:08x} looks byte-swapped: big-endian GGUF files are not supported", path,
                 version);
        }
        fail("{}: unsupported GGUF version {} (only versions 2 and 3)", path, version);
    }
    *n_tensors = c.read<int64_t>("header tensor count");
    *n_kv = c.read<int64_t>("header metadata count");
    if (*n_tensors < 0) fail("{}: negative tensor count {} in the header", path, *n_tensors);
    if (*n_kv < 0) fail("{}: negative metadata count {} in the header", path, *n_kv);
    // A KV record needs >= 13 bytes (key length, type, one value byte); a tensor-info record >= 24.
    const uint64_t rem = c.remaining();
    if (static_cast<uint64_t>(*n_kv) > rem / 13) {
        fail("{}: metadata count {} in the header is impossible: each record needs at least 13 bytes, only {} "
             "bytes remain (corrupt count or truncated file)", path, *n_kv, rem);
    }
    if (static_cast<uint64_t>(*n_tensors) > rem / 24) {
        fail("{}: tensor count {} in the header is impossible: each tensor record needs at least 24 bytes, only {} "
             "bytes remain (corrupt count or truncated file)", path, *n_tensors, rem);
    }
    if (static_cast<uint64_t>(*n_kv) * 13 + static_cast<uint64_t>(*n_tensors) * 24 > rem) {
        fail("{}: header counts ({} metadata records, {} tensors) need more bytes than the file has ({} remain)",
             path, *n_kv, *n_tensors, rem);
    }
}

Scalar File::Impl::read_scalar(Cursor& c, ValueType t, const std::string& what) {
    switch (t) {
        case ValueType::U8: return uint64_t{c.read<uint8_t>(what)};
        case ValueType::I8: return int64_t{c.read<int8_t>(what)};
        case ValueType::U16: return uint64_t{c.read<uint16_t>(what)};
        case ValueType::I16: return int64_t{c.read<int16_t>(what)};
        case ValueType::U32: return uint64_t{c.read<uint32_t>(what)};
        case ValueType::I32: return int64_t{c.read<int32_t>(what)};
        case ValueType::U64: return c.read<uint64_t>(what);
        case ValueType::I64: return c.read<int64_t>(what);
        case ValueType::F32: return f32_bits_to_double(c.read<uint32_t>(what));
        case ValueType::F64: return std::bit_cast<double>(c.read<uint64_t>(what));
        case ValueType::BOOL: {
            const size_t at = c.pos();
            const uint8_t b = c.read<uint8_t>(what);
            if (b > 1) fail("{}: {}: BOOL byte {} at offset {} is neither 0 nor 1", path, what, b, at);
            return b == 1;
        }
        case ValueType::STRING: return c.read_string(what);
        case ValueType::ARRAY: break;
    }
    fail("{}: {}: no scalar of type {}", path, what, value_type_name(t));
}

void File::Impl::parse_kv(Cursor& c, int64_t index) {
    const size_t record_at = c.pos();
    std::string key = c.read_string(fmt::format("key of metadata record #{}", index));
    if (key.empty()) fail("{}: metadata record #{} at offset {} has an empty key", path, index, record_at);
    if (kv_index.contains(key)) fail("{}: duplicate metadata key '{}' (record #{} at offset {})", path, key, index, record_at);

    const std::string what = fmt::format("value of key '{}'", key);
    const size_t type_at = c.pos();
    const uint32_t type_id = c.read<uint32_t>(what);
    if (type_id >= kValueTypeCount) fail("{}: key '{}' has invalid value type {} (at offset {})", path, key, type_id, type_at);

    Value value;
    value.type = static_cast<ValueType>(type_id);
    if (value.type == ValueType::ARRAY) {
        const size_t elem_at = c.pos();
        const uint32_t elem_id = c.read<uint32_t>(what);
        if (elem_id == static_cast<uint32_t>(ValueType::ARRAY)) {
            fail("{}: key '{}' is a nested array (array of arrays at offset {}), which GGUF does not allow", path, key, elem_at);
        }
        if (elem_id >= kValueTypeCount) {
            fail("{}: key '{}' has an array of invalid value type {} (at offset {})", path, key, elem_id, elem_at);
        }
        value.element_type = static_cast<ValueType>(elem_id);
        const size_t count_at = c.pos();
        const uint64_t count = c.read<uint64_t>(what);
        // Check the count against the bytes left before allocating anything.
        const size_t min_elem = value.element_type == ValueType::STRING ? 8 : fixed_size(value.element_type);
        if (count > c.remaining() / min_elem) {
            fail("{}: key '{}': array count {} at offset {} is impossible: each {} element needs at least {} "
                 "bytes, only {} remain", path, key, count, count_at, value_type_name(value.element_type), min_elem,
                 c.remaining());
        }
        value.array.reserve(static_cast<size_t>(count));
        for (uint64_t i = 0; i < count; ++i) value.array.push_back(read_scalar(c, value.element_type, what));
        value.scalar = uint64_t{0};
    } else {
        value.scalar = read_scalar(c, value.type, what);
    }

    if (key == "general.alignment") {
        if (value.type != ValueType::U32) {
            fail("{}: key 'general.alignment' has type {}, expected U32", path, value.type_name());
        }
        const uint64_t a = std::get<uint64_t>(value.scalar);
        if (a == 0 || !std::has_single_bit(a)) {
            fail("{}: key 'general.alignment' is {}, expected a non-zero power of two", path, a);
        }
        alignment = static_cast<size_t>(a);
    }
    kv_index.emplace(key, kv.size());
    kv.push_back({std::move(key), std::move(value)});
}

void File::Impl::parse_tensor_info(Cursor& c, int64_t index) {
    const size_t record_at = c.pos();
    TensorInfo t;
    t.name = c.read_string(fmt::format("name of tensor #{}", index));
    if (t.name.empty()) fail("{}: tensor #{} (record at offset {}) has an empty name", path, index, record_at);
    if (t.name.size() > kMaxNameBytes) {
        fail("{}: tensor #{} name is {} bytes long (at most {} allowed): '{:.63}...'", path, index, t.name.size(),
             kMaxNameBytes, t.name);
    }
    if (t.name.find('\0') != std::string::npos) {
        fail("{}: tensor #{} name contains a NUL byte (record at offset {})", path, index, record_at);
    }
    if (tensor_index.contains(t.name)) fail("{}: duplicate tensor name '{}' (tensor #{})", path, t.name, index);

    const std::string what = fmt::format("tensor '{}' (#{})", t.name, index);
    t.n_dims = c.read<uint32_t>(what);
    if (t.n_dims < 1 || t.n_dims > kMaxDims) {
        fail("{}: tensor '{}' has n_dims {}, expected 1 to {}", path, t.name, t.n_dims, kMaxDims);
    }
    for (uint32_t d = 0; d < t.n_dims; ++d) {
        t.ne[d] = c.read<int64_t>(what);
        if (t.ne[d] < 0) fail("{}: tensor '{}' has negative ne[{}] = {}", path, t.name, d, t.ne[d]);
    }
    const size_t type_at = c.pos();
    const uint32_t type_id = c.read<uint32_t>(what);
    const std::optional<Type> type = type_from_id(type_id);
    if (!type) {
        if (type_id < kTypeIdCount) {
            fail("{}: tensor '{}' has removed tensor type id {} (at offset {})", path, t.name, type_id, type_at);
        }
        fail("{}: tensor '{}' has invalid tensor type id {} (at offset {})", path, t.name, type_id, type_at);
    }
    t.type = *type;
    t.offset = c.read<uint64_t>(what);

    // Sizes: the element count must fit int64 and the byte size size_t. Multiplying with
    // overflow builtins needs no division, so ne == 0 needs no special case.
    const TypeTraits& tr = type_traits(t.type);
    int64_t elements = 1;
    for (int d = 0; d < 4; ++d) {
        if (__builtin_mul_overflow(elements, t.ne[d], &elements)) {
            fail("{}: tensor '{}': element count {} x {} x {} x {} overflows int64", path, t.name, t.ne[0], t.ne[1],
                 t.ne[2], t.ne[3]);
        }
    }
    if (t.ne[0] % tr.block_size != 0) {
        fail("{}: tensor '{}': ne[0] = {} is not a multiple of the {} block size {}", path, t.name, t.ne[0], tr.name,
             tr.block_size);
    }
    uint64_t nbytes = static_cast<uint64_t>(t.ne[0] / tr.block_size);
    bool overflow = __builtin_mul_overflow(nbytes, static_cast<uint64_t>(tr.type_size), &nbytes);
    for (int d = 1; d < 4 && !overflow; ++d) {
        overflow = __builtin_mul_overflow(nbytes, static_cast<uint64_t>(t.ne[d]), &nbytes);
    }
    if (overflow || nbytes > std::numeric_limits<size_t>::max()) {
        fail("{}: tensor '{}': byte size of {} x {} x {} x {} {} overflows", path, t.name, t.ne[0], t.ne[1], t.ne[2],
             t.ne[3], tr.name);
    }
    t.nbytes = static_cast<size_t>(nbytes);

    tensor_index.emplace(t.name, tensors.size());
    tensors.push_back(std::move(t));
}

void File::Impl::check_zero_padding(size_t begin, size_t end, std::string_view what) const {
    for (size_t i = begin; i < end; ++i) {
        if (bytes[i] != 0) fail("{}: non-zero padding byte 0x{:02x} at offset {} ({})", path, bytes[i], i, what);
    }
}

void File::Impl::place_tensors(size_t info_end) {
    uint64_t data_start = 0;
    if (!pad_checked(info_end, alignment, &data_start)) fail("{}: data offset overflows", path);
    data_offset = static_cast<size_t>(data_start);
    data_size = 0;
    if (tensors.empty()) return;  // vocab-only files may end right after the records, unpadded

    const uint64_t file_size = bytes.size();
    if (data_start > file_size) {
        fail("{}: data section would start at offset {} (after {} tensor records, aligned to {}), past the end of "
             "the file (size {})", path, data_start, tensors.size(), alignment, file_size);
    }
    check_zero_padding(info_end, data_offset, "before the data section");

    uint64_t expected = 0;  // canonical offset of the next tensor, relative to the data section
    for (size_t i = 0; i < tensors.size(); ++i) {
        TensorInfo& t = tensors[i];
        if (t.offset != expected) {
            if (t.offset < expected && i > 0) {
                fail("{}: tensor '{}' at data offset {} overlaps tensor '{}' (which occupies data offsets {} to {}); "
                     "expected offset {}", path, t.name, t.offset, tensors[i - 1].name, tensors[i - 1].offset,
                     tensors[i - 1].offset + tensors[i - 1].nbytes, expected);
            }
            fail("{}: tensor '{}' has data offset {}, expected {} (tensor data must be stored in record order, each "
                 "blob padded to {} bytes)", path, t.name, t.offset, expected, alignment);
        }
        // data_start + offset + nbytes <= file size, without overflow.
        uint64_t begin = 0, end = 0;
        if (__builtin_add_overflow(data_start, t.offset, &begin) || __builtin_add_overflow(begin, t.nbytes, &end) ||
            end > file_size) {
            fail("{}: tensor '{}' data ({} bytes at file offset {} + {}) runs past the end of the file (size {})",
                 path, t.name, t.nbytes, data_start, t.offset, file_size);
        }
        uint64_t padded = 0;
        if (!pad_checked(t.nbytes, alignment, &padded) || __builtin_add_overflow(expected, padded, &expected)) {
            fail("{}: tensor '{}': data section size overflows", path, t.name);
        }
        // Padding after the blob: zeros, as far as the file reaches (trailing bytes are ignored).
        const uint64_t pad_end = std::min<uint64_t>(data_start + expected, file_size);
        check_zero_padding(static_cast<size_t>(end), static_cast<size_t>(pad_end),
                           fmt::format("after tensor '{}'", t.name));
        t.data = bytes.data() + begin;
    }
    data_size = static_cast<size_t>(expected);
}

void File::Impl::parse() {
    Cursor c(bytes, path);
    int64_t n_tensors = 0, n_kv = 0;
    parse_header(c, &n_tensors, &n_kv);
    kv.reserve(static_cast<size_t>(n_kv));
    for (int64_t i = 0; i < n_kv; ++i) parse_kv(c, i);
    tensors.reserve(static_cast<size_t>(n_tensors));
    for (int64_t i = 0; i < n_tensors; ++i) parse_tensor_info(c, i);
    place_tensors(c.pos());
}

const Value* File::Impl::require_opt(std::string_view key, ValueType t) const {
    const auto it = kv_index.find(key);
    if (it == kv_index.end()) return nullptr;
    const Value& v = kv[it->second].value;
    if (v.type != t) fail("{}: key '{}' has type {}, expected {}", path, key, v.type_name(), value_type_name(t));
    return &v;
}

const Value& File::Impl::require(std::string_view key, ValueType t) const {
    const Value* v = require_opt(key, t);
    if (v == nullptr) fail("{}: key '{}' not found", path, key);
    return *v;
}

// ---- File -------------------------------------------------------------------------

File::File(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
File::File(File&&) noexcept = default;
File& File::operator=(File&&) noexcept = default;
File::~File() = default;

File File::open(const std::string& path) {
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->map = MappedFile::open(path);
    impl->bytes = impl->map.bytes();
    impl->parse();
    return File(std::move(impl));
}

File File::parse(std::span<const uint8_t> bytes, std::string label) {
    auto impl = std::make_unique<Impl>();
    impl->path = std::move(label);
    impl->bytes = bytes;
    impl->parse();
    return File(std::move(impl));
}

const std::string& File::path() const { return impl_->path; }
uint32_t File::version() const { return impl_->version; }
size_t File::alignment() const { return impl_->alignment; }
size_t File::data_offset() const { return impl_->data_offset; }
size_t File::data_size() const { return impl_->data_size; }
size_t File::file_size() const { return impl_->bytes.size(); }
const std::vector<KeyValue>& File::metadata() const { return impl_->kv; }
const std::vector<TensorInfo>& File::tensors() const { return impl_->tensors; }

const Value* File::find(std::string_view key) const {
    const auto it = impl_->kv_index.find(key);
    return it == impl_->kv_index.end() ? nullptr : &impl_->kv[it->second].value;
}

const TensorInfo* File::find_tensor(std::string_view name) const {
    const auto it = impl_->tensor_index.find(name);
    return it == impl_->tensor_index.end() ? nullptr : &impl_->tensors[it->second];
}

std::string File::get_string(std::string_view key) const {
    return std::get<std::string>(impl_->require(key, ValueType::STRING).scalar);
}
std::optional<std::string> File::get_string_opt(std::string_view key) const {
    const Value* v = impl_->require_opt(key, ValueType::STRING);
    if (v == nullptr) return std::nullopt;
    return std::get<std::string>(v->scalar);
}
uint32_t File::get_u32(std::string_view key) const {
    return static_cast<uint32_t>(std::get<uint64_t>(impl_->require(key, ValueType::U32).scalar));
}
std::optional<uint32_t> File::get_u32_opt(std::string_view key) const {
    const Value* v = impl_->require_opt(key, ValueType::U32);
    if (v == nullptr) return std::nullopt;
    return static_cast<uint32_t>(std::get<uint64_t>(v->scalar));
}
int32_t File::get_i32(std::string_view key) const {
    return static_cast<int32_t>(std::get<int64_t>(impl_->require(key, ValueType::I32).scalar));
}
std::optional<int32_t> File::get_i32_opt(std::string_view key) const {
    const Value* v = impl_->require_opt(key, ValueType::I32);
    if (v == nullptr) return std::nullopt;
    return static_cast<int32_t>(std::get<int64_t>(v->scalar));
}
uint64_t File::get_u64(std::string_view key) const {
    return std::get<uint64_t>(impl_->require(key, ValueType::U64).scalar);
}
float File::get_f32(std::string_view key) const {
    return std::bit_cast<float>(double_to_f32_bits(std::get<double>(impl_->require(key, ValueType::F32).scalar)));
}
std::optional<float> File::get_f32_opt(std::string_view key) const {
    const Value* v = impl_->require_opt(key, ValueType::F32);
    if (v == nullptr) return std::nullopt;
    return std::bit_cast<float>(double_to_f32_bits(std::get<double>(v->scalar)));
}
bool File::get_bool(std::string_view key) const {
    return std::get<bool>(impl_->require(key, ValueType::BOOL).scalar);
}
bool File::get_bool(std::string_view key, bool fallback) const {
    const Value* v = impl_->require_opt(key, ValueType::BOOL);
    return v == nullptr ? fallback : std::get<bool>(v->scalar);
}

const Value* File::get_array_opt(std::string_view key, ValueType element_type) const {
    const Value* v = impl_->require_opt(key, ValueType::ARRAY);
    if (v != nullptr && v->element_type != element_type) {
        fail("{}: key '{}' has type {}, expected ARRAY[{}]", impl_->path, key, v->type_name(),
             value_type_name(element_type));
    }
    return v;
}
const Value& File::get_array(std::string_view key, ValueType element_type) const {
    const Value* v = get_array_opt(key, element_type);
    if (v == nullptr) fail("{}: key '{}' not found", impl_->path, key);
    return *v;
}
std::vector<std::string> File::get_string_array(std::string_view key) const {
    const Value& v = get_array(key, ValueType::STRING);
    std::vector<std::string> out;
    out.reserve(v.array.size());
    for (const Scalar& s : v.array) out.push_back(std::get<std::string>(s));
    return out;
}
std::vector<float> File::get_f32_array(std::string_view key) const {
    const Value& v = get_array(key, ValueType::F32);
    std::vector<float> out;
    out.reserve(v.array.size());
    for (const Scalar& s : v.array) out.push_back(std::bit_cast<float>(double_to_f32_bits(std::get<double>(s))));
    return out;
}
std::vector<int32_t> File::get_i32_array(std::string_view key) const {
    const Value& v = get_array(key, ValueType::I32);
    std::vector<int32_t> out;
    out.reserve(v.array.size());
    for (const Scalar& s : v.array) out.push_back(static_cast<int32_t>(std::get<int64_t>(s)));
    return out;
}

}  // namespace ember::gguf
