// Helpers shared by every test executable.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ember::test {

// Absolute path of a file under tests/data. Fails the test (never skips) when it is missing.
std::string data_path(const std::string& relative);

// Whole file contents. Throws std::runtime_error when it cannot be read.
std::vector<uint8_t> read_file(const std::string& path);

// Float32 little-endian file contents.
std::vector<float> read_f32_file(const std::string& path);

// Minimal readers for the flat reference JSON files: the value of "key" as a string,
// an integer, an array of integers or of numbers. Throw std::runtime_error when the key is missing.
std::string json_string(const std::string& json, const std::string& key);
int64_t json_int(const std::string& json, const std::string& key);
std::vector<int32_t> json_int_array(const std::string& json, const std::string& key);
std::vector<double> json_double_array(const std::string& json, const std::string& key);

// Whole file as text.
std::string read_text(const std::string& path);

// The message of the ember::Error that `f` throws, or "(no error)".
std::string error_of(const std::function<void()>& f);

}  // namespace ember::test
