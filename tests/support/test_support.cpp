#include "support/test_support.h"

#include <gtest/gtest.h>

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

}  // namespace ember::test
