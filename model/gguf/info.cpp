// The `ember info` report. Pure formatting over a validated gguf::File.
#include "model/gguf/info.h"

#include "core/utf8.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <iterator>
#include <map>
#include <string_view>

namespace ember::gguf {
namespace {

using Out = std::back_insert_iterator<fmt::memory_buffer>;

// Appends `s` escaped (control bytes, quote, backslash and invalid UTF-8 as \x.. escapes);
// stops after about max_bytes source bytes and returns how many were consumed.
size_t put_escaped(Out out, std::string_view s, size_t max_bytes) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const size_t n = s.size();
    size_t i = 0;
    while (i < n && i < max_bytes) {
        const unsigned char c = p[i];
        switch (c) {
            case '"': fmt::format_to(out, "\\\""); ++i; continue;
            case '\\': fmt::format_to(out, "\\\\"); ++i; continue;
            case '\n': fmt::format_to(out, "\\n"); ++i; continue;
            case '\r': fmt::format_to(out, "\\r"); ++i; continue;
            case '\t': fmt::format_to(out, "\\t"); ++i; continue;
            default: break;
        }
        const size_t len = c < 0x20 || c == 0x7F ? 0 : utf8_valid_length(s, i);
        if (len == 0) {
            fmt::format_to(out, "\\x{:02x}", c);
            ++i;
            continue;
        }
        for (size_t k = 0; k < len; ++k) *out++ = static_cast<char>(p[i + k]);
        i += len;
    }
    return i;
}

// Appends `s` quoted and escaped; a cut string is followed by "...(N bytes)".
void put_string(Out out, std::string_view s, size_t max_bytes) {
    *out++ = '"';
    const size_t consumed = put_escaped(out, s, max_bytes);
    *out++ = '"';
    if (consumed < s.size()) fmt::format_to(out, "...({} bytes)", s.size());
}

// A key or tensor name for display: as is when it is plain printable text, else quoted and escaped.
std::string display_name(std::string_view s) {
    fmt::memory_buffer b;
    put_escaped(std::back_inserter(b), s, s.size());
    const bool plain = std::string_view(b.data(), b.size()) == s &&
                       std::none_of(s.begin(), s.end(), [](char ch) { return ch == ' ' || ch == '"'; });
    if (plain) return std::string(s);
    fmt::memory_buffer q;
    put_string(std::back_inserter(q), s, s.size());
    return fmt::to_string(q);
}

void put_scalar(Out out, const Scalar& s, ValueType t, size_t max_string_bytes) {
    switch (t) {
        case ValueType::U8: case ValueType::U16: case ValueType::U32: case ValueType::U64:
            fmt::format_to(out, "{}", std::get<uint64_t>(s));
            return;
        case ValueType::I8: case ValueType::I16: case ValueType::I32: case ValueType::I64:
            fmt::format_to(out, "{}", std::get<int64_t>(s));
            return;
        case ValueType::F32:
            fmt::format_to(out, "{}", std::bit_cast<float>(double_to_f32_bits(std::get<double>(s))));
            return;
        case ValueType::F64: fmt::format_to(out, "{}", std::get<double>(s)); return;
        case ValueType::BOOL: fmt::format_to(out, "{}", std::get<bool>(s)); return;
        case ValueType::STRING: put_string(out, std::get<std::string>(s), max_string_bytes); return;
        case ValueType::ARRAY: break;
    }
    fmt::format_to(out, "?");
}

void put_value(Out out, const Value& v, size_t max_elements, size_t max_string_bytes) {
    if (v.type != ValueType::ARRAY) return put_scalar(out, v.scalar, v.type, max_string_bytes);
    *out++ = '[';
    const size_t shown = std::min(v.array.size(), max_elements);
    // Array strings are cut shorter: they are usually tokens, and there are many.
    const size_t elem_string_bytes = std::min<size_t>(max_string_bytes, 24);
    for (size_t i = 0; i < shown; ++i) {
        if (i > 0) fmt::format_to(out, ", ");
        put_scalar(out, v.array[i], v.element_type, elem_string_bytes);
    }
    if (shown < v.array.size()) fmt::format_to(out, "{}... {} more", shown > 0 ? ", " : "", v.array.size() - shown);
    *out++ = ']';
}

std::string shape_of(const TensorInfo& t) {
    std::string s = "[";
    for (uint32_t d = 0; d < t.n_dims; ++d) s += fmt::format("{}{}", d > 0 ? ", " : "", t.ne[d]);
    return s + "]";
}

// "1.23 M" style counts for parameters.
std::string format_count(uint64_t n) {
    if (n >= 1'000'000'000) return fmt::format("{:.2f} B", static_cast<double>(n) / 1e9);
    if (n >= 1'000'000) return fmt::format("{:.2f} M", static_cast<double>(n) / 1e6);
    if (n >= 1'000) return fmt::format("{:.2f} K", static_cast<double>(n) / 1e3);
    return fmt::format("{}", n);
}

void saturating_add(uint64_t& acc, uint64_t x) {
    if (__builtin_add_overflow(acc, x, &acc)) acc = UINT64_MAX;
}

}  // namespace

std::string format_bytes(uint64_t bytes) {
    constexpr std::array<const char*, 5> units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024) return fmt::format("{} B", bytes);
    double v = static_cast<double>(bytes) / 1024.0;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < units.size()) {
        v /= 1024.0;
        ++u;
    }
    return fmt::format("{:.2f} {}", v, units[u]);
}

std::string format_value(const Value& value, size_t max_array_elements, size_t max_string_bytes) {
    fmt::memory_buffer buf;
    put_value(std::back_inserter(buf), value, max_array_elements, max_string_bytes);
    return fmt::to_string(buf);
}

std::string format_info(const File& file, const InfoOptions& options) {
    fmt::memory_buffer buf;
    Out out = std::back_inserter(buf);

    // ---- header
    fmt::format_to(out, "file:          {}\n", file.path());
    fmt::format_to(out, "GGUF version:  {}\n", file.version());
    fmt::format_to(out, "file size:     {} bytes ({})\n", file.file_size(), format_bytes(file.file_size()));
    fmt::format_to(out, "alignment:     {}\n", file.alignment());
    if (file.tensors().empty()) {
        fmt::format_to(out, "data section:  none (no tensors)\n");
    } else {
        fmt::format_to(out, "data offset:   {} (0x{:x})\n", file.data_offset(), file.data_offset());
        fmt::format_to(out, "data size:     {} bytes ({})\n", file.data_size(), format_bytes(file.data_size()));
    }
    fmt::format_to(out, "metadata:      {} keys\n", file.metadata().size());
    fmt::format_to(out, "tensors:       {}\n", file.tensors().size());

    // ---- metadata
    if (options.show_metadata && !file.metadata().empty()) {
        size_t key_width = 0, type_width = 0;
        for (const KeyValue& kv : file.metadata()) {
            key_width = std::max(key_width, std::min<size_t>(kv.key.size(), 48));
            type_width = std::max(type_width, kv.value.type_name().size());
        }
        fmt::format_to(out, "\nmetadata:\n");
        for (const KeyValue& kv : file.metadata()) {
            const std::string key = display_name(kv.key);
            fmt::format_to(out, "  {:<{}}  {:<{}}  ", key, key_width, kv.value.type_name(), type_width);
            if (kv.value.is_array()) fmt::format_to(out, "{} elements: ", kv.value.array_size());
            put_value(out, kv.value, options.max_array_elements, options.max_string_bytes);
            *out++ = '\n';
        }
    }

    // ---- tensors
    struct PerType {
        uint64_t tensors = 0, params = 0, bytes = 0;
    };
    std::map<uint32_t, PerType> per_type;  // by type id, for a stable order
    uint64_t total_params = 0, total_bytes = 0;
    for (const TensorInfo& t : file.tensors()) {
        PerType& p = per_type[static_cast<uint32_t>(t.type)];
        p.tensors += 1;
        saturating_add(p.params, static_cast<uint64_t>(t.n_elements()));
        saturating_add(p.bytes, t.nbytes);
        saturating_add(total_params, static_cast<uint64_t>(t.n_elements()));
        saturating_add(total_bytes, t.nbytes);
    }

    if (options.show_tensors && !file.tensors().empty()) {
        size_t name_width = 4, shape_width = 5, type_width = 4;
        for (const TensorInfo& t : file.tensors()) {
            name_width = std::max(name_width, display_name(t.name).size());
            shape_width = std::max(shape_width, shape_of(t).size());
            type_width = std::max(type_width, std::string_view(type_name(t.type)).size());
        }
        const size_t index_width = fmt::formatted_size("{}", file.tensors().size() - 1);
        fmt::format_to(out, "\ntensors:\n");
        fmt::format_to(out, "  {:>{}}  {:<{}}  {:<{}}  {:<{}}  {:>12}  {:>12}\n", "#", index_width, "name", name_width,
                       "type", type_width, "shape", shape_width, "bytes", "offset");
        for (size_t i = 0; i < file.tensors().size(); ++i) {
            const TensorInfo& t = file.tensors()[i];
            const std::string name = display_name(t.name);
            fmt::format_to(out, "  {:>{}}  {:<{}}  {:<{}}  {:<{}}  {:>12}  {:>12}\n", i, index_width, name, name_width,
                           type_name(t.type), type_width, shape_of(t), shape_width, t.nbytes, t.offset);
        }
    }

    // ---- totals
    fmt::format_to(out, "\ntotals:\n");
    fmt::format_to(out, "  tensors:     {}\n", file.tensors().size());
    fmt::format_to(out, "  bytes:       {} ({})\n", total_bytes, format_bytes(total_bytes));
    fmt::format_to(out, "  parameters:  {} ({})\n", total_params, format_count(total_params));
    if (total_params > 0) {
        fmt::format_to(out, "  bits/param:  {:.3f}\n", 8.0 * static_cast<double>(total_bytes) / static_cast<double>(total_params));
    }
    if (!per_type.empty()) {
        fmt::format_to(out, "  by type:\n");
        fmt::format_to(out, "    {:<8}  {:>7}  {:>14}  {:>14}  {:>6}\n", "type", "tensors", "parameters", "bytes", "bytes%");
        for (const auto& [id, p] : per_type) {
            const double share = total_bytes > 0 ? 100.0 * static_cast<double>(p.bytes) / static_cast<double>(total_bytes) : 0.0;
            fmt::format_to(out, "    {:<8}  {:>7}  {:>14}  {:>14}  {:>5.1f}%\n", type_name(static_cast<Type>(id)),
                           p.tensors, p.params, p.bytes, share);
        }
    }
    return fmt::to_string(buf);
}

}  // namespace ember::gguf
