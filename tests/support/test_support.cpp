#include "support/test_support.h"

#include "core/error.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace ember::test {

std::string data_path(const std::string& relative) {
    const std::filesystem::path path = std::filesystem::path(EMBER_TEST_DATA) / relative;
    if (!std::filesystem::exists(path)) {
        ADD_FAILURE() << "test data missing: " << path.string();
        throw std::runtime_error("test data missing: " + path.string());
    }
    return path.string();
}

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<float> read_f32_file(const std::string& path) {
    const std::vector<uint8_t> bytes = read_file(path);
    if (bytes.size() % sizeof(float) != 0) throw std::runtime_error(path + ": size is not a multiple of 4");
    std::vector<float> out(bytes.size() / sizeof(float));
    std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
}

std::string read_text(const std::string& path) {
    const std::vector<uint8_t> bytes = read_file(path);
    return std::string(bytes.begin(), bytes.end());
}

namespace {
// Position just after `"key":` and any spaces.
size_t value_start(const std::string& json, const std::string& key) {
    const std::string quoted = "\"" + key + "\"";
    size_t pos = json.find(quoted);
    if (pos == std::string::npos) throw std::runtime_error("json key missing: " + key);
    pos = json.find(':', pos + quoted.size());
    if (pos == std::string::npos) throw std::runtime_error("json key without value: " + key);
    ++pos;
    while (pos < json.size() && std::isspace(static_cast<unsigned char>(json[pos]))) ++pos;
    return pos;
}
}  // namespace

std::string json_string(const std::string& json, const std::string& key) {
    size_t pos = value_start(json, key);
    if (pos >= json.size() || json[pos] != '"') throw std::runtime_error("json value is not a string: " + key);
    auto append_utf8 = [](std::string& out, uint32_t cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    };
    std::string out;
    for (++pos; pos < json.size() && json[pos] != '"'; ++pos) {
        if (json[pos] != '\\') {
            out += json[pos];
            continue;
        }
        const char e = json.at(++pos);
        switch (e) {
            case 'n': out += '\n'; break;
            case 't': out += '\t'; break;
            case 'r': out += '\r'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'u': {
                uint32_t cp = std::stoul(json.substr(pos + 1, 4), nullptr, 16);
                pos += 4;
                // A high surrogate pairs with the \\uDC00..DFFF that follows it.
                if (cp >= 0xD800 && cp < 0xDC00 && json.compare(pos + 1, 2, "\\u") == 0) {
                    const uint32_t lo = std::stoul(json.substr(pos + 3, 4), nullptr, 16);
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    pos += 6;
                }
                append_utf8(out, cp);
                break;
            }
            default: out += e; break;  // \" \\ \/
        }
    }
    return out;
}

int64_t json_int(const std::string& json, const std::string& key) {
    return std::stoll(json.substr(value_start(json, key), 32));
}

std::vector<double> json_double_array(const std::string& json, const std::string& key) {
    size_t pos = value_start(json, key);
    if (pos >= json.size() || json[pos] != '[') throw std::runtime_error("json value is not an array: " + key);
    const size_t end = json.find(']', pos);
    std::vector<double> out;
    std::string number;
    for (size_t i = pos + 1; i <= end; ++i) {
        const char c = json[i];
        if (c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' || std::isdigit(static_cast<unsigned char>(c))) {
            number += c;
        } else if (!number.empty()) {
            out.push_back(std::stod(number));
            number.clear();
        }
    }
    return out;
}

std::vector<int32_t> json_int_array(const std::string& json, const std::string& key) {
    std::vector<int32_t> out;
    for (double v : json_double_array(json, key)) out.push_back(static_cast<int32_t>(v));
    return out;
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace ember::test
