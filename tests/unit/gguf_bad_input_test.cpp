// Hostile GGUF input: every file of the bad-input corpus fails with an ember::Error that names
// the file and the problem; truncated and corrupted images never crash; edge cases that are
// valid (zero-sized tensors, unpadded vocab files, trailing bytes) are accepted.
#include "core/error.h"
#include "ember/gguf.h"
#include "model/gguf/info.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace ember::gguf {
namespace {

using ember::test::data_path;
using ember::test::read_file;

struct BadCase {
    std::string file;
    std::string expected;
};

std::vector<BadCase> load_manifest() {
    std::ifstream in(data_path("bad_gguf/expected.tsv"));
    std::vector<BadCase> cases;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const size_t tab = line.find('\t');
        if (tab == std::string::npos) {
            ADD_FAILURE() << "malformed manifest line: " << line;
            continue;
        }
        cases.push_back({line.substr(0, tab), line.substr(tab + 1)});
    }
    return cases;
}

using test::error_of;

TEST(GgufBadInput, ManifestCoversEveryFile) {
    const std::vector<BadCase> cases = load_manifest();
    EXPECT_GE(cases.size(), 60u);
    std::set<std::string> listed;
    for (const BadCase& c : cases) EXPECT_TRUE(listed.insert(c.file).second) << "listed twice: " << c.file;
    const std::filesystem::path dir = std::filesystem::path(data_path("bad_gguf"));
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() == ".gguf") {
            EXPECT_TRUE(listed.contains(entry.path().filename().string())) << "not in expected.tsv: " << entry.path();
        }
    }
}

TEST(GgufBadInput, EveryFileFailsWithItsMessage) {
    for (const BadCase& c : load_manifest()) {
        SCOPED_TRACE(c.file);
        const std::string path = data_path("bad_gguf/" + c.file);
        const std::string msg = error_of([&] { File::open(path); });
        EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << "message does not start with the path: " << msg;
        EXPECT_NE(msg.find(c.expected), std::string::npos) << "expected '" << c.expected << "' in: " << msg;

        // The same bytes parsed from memory fail the same way under their label.
        const std::vector<uint8_t> bytes = read_file(path);
        const std::string mem = error_of([&] { File::parse(bytes, "mem"); });
        EXPECT_EQ(mem, "mem" + msg.substr(path.size()));
    }
}

TEST(GgufBadInput, MissingFileAndDirectory) {
    EXPECT_NE(error_of([] { File::open("/nonexistent/x.gguf"); }).find("/nonexistent/x.gguf: cannot open"),
              std::string::npos);
    const std::string dir = data_path("bad_gguf");
    EXPECT_NE(error_of([&] { File::open(dir); }).find("not a regular file"), std::string::npos);
}

// A rich valid image: every value type, tensors of several types, alignment 64.
std::vector<uint8_t> rich_image(std::vector<float>& f32, std::vector<uint8_t>& q8) {
    Writer w(3);
    w.add("general.architecture", Value::string("llama"));
    w.add("u8", Value::u8(1));
    w.add("i16", Value::i16(-2));
    w.add("u64", Value::u64(3));
    w.add("f32", Value::f32(0.25f));
    w.add("f64", Value::f64(0.125));
    w.add("b", Value::boolean(true));
    w.add("tokens", Value::string_array({"<s>", "hello", ""}));
    w.add("scores", Value::f32_array(std::vector<float>{1, 2, 3}));
    w.add("flags", Value::array_of(ValueType::BOOL, {true, false}));
    w.set_alignment(64);
    f32.assign(10, 1.5f);
    q8.assign(34 * 3, 7);
    const int64_t ne_f32[] = {5, 2};
    const int64_t ne_q8[] = {96};
    w.add_tensor("t.f32", Type::F32, ne_f32, f32.data(), f32.size() * 4);
    w.add_tensor("t.q8", Type::Q8_0, ne_q8, q8.data(), q8.size());
    return w.to_bytes();
}

// Writing an accepted file back gives its bytes: exactly up to the end of the data section
// (bytes past it are ignored), and a final blob's padding missing from the file comes back as zeros.
bool rewrites_exactly(const File& f, std::span<const uint8_t> input) {
    const std::vector<uint8_t> out = Writer::copy_of(f).to_bytes();
    const size_t common = std::min(out.size(), input.size());
    if (!std::equal(out.begin(), out.begin() + static_cast<ptrdiff_t>(common), input.begin())) return false;
    return std::all_of(out.begin() + static_cast<ptrdiff_t>(common), out.end(), [](uint8_t b) { return b == 0; });
}

TEST(GgufBadInput, EveryTruncationFailsCleanly) {
    std::vector<float> f32;
    std::vector<uint8_t> q8;
    const std::vector<uint8_t> full = rich_image(f32, q8);
    const File whole = File::parse(full);
    // Where the last tensor's data ends: any shorter prefix must be rejected.
    const TensorInfo& last = whole.tensors().back();
    const size_t needed = whole.data_offset() + last.offset + last.nbytes;
    for (size_t n = 0; n < full.size(); ++n) {
        const std::vector<uint8_t> prefix(full.begin(), full.begin() + static_cast<ptrdiff_t>(n));
        if (n < needed) {
            EXPECT_THROW(File::parse(prefix, "prefix"), ember::Error) << "prefix of " << n << " bytes";
        } else {
            // Only the final blob's zero padding is missing: still a valid file.
            EXPECT_TRUE(rewrites_exactly(File::parse(prefix, "prefix"), prefix)) << "prefix of " << n << " bytes";
        }
    }
}

TEST(GgufBadInput, EveryByteCorruptionIsHandled) {
    std::vector<float> f32;
    std::vector<uint8_t> q8;
    const std::vector<uint8_t> full = rich_image(f32, q8);
    const File whole = File::parse(full);
    size_t rejected = 0;
    for (size_t i = 0; i < whole.data_offset(); ++i) {
        for (uint8_t x : {uint8_t{0x00}, uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xFF}}) {
            std::vector<uint8_t> bad = full;
            if (bad[i] == x) continue;
            bad[i] = x;
            try {
                const File f = File::parse(bad, "corrupt");
                // Accepted: then it must describe itself and round-trip exactly.
                (void)format_info(f);
                EXPECT_TRUE(rewrites_exactly(f, bad)) << "byte " << i << " = " << int(x);
            } catch (const ember::Error&) {
                ++rejected;
            }
        }
    }
    EXPECT_GT(rejected, 0u);
}

TEST(GgufBadInput, ValidEdgeCasesAreAccepted) {
    // ne == 0 next to huge dimensions: zero elements, zero bytes, no overflow.
    {
        Writer w;
        const int64_t ne[] = {0, int64_t{1} << 62, int64_t{1} << 62, 7};
        w.add_tensor("empty", Type::F32, ne, nullptr, 0);
        const std::vector<uint8_t> bytes = w.to_bytes();
        const File f = File::parse(bytes);
        EXPECT_EQ(f.tensors()[0].nbytes, 0u);
        EXPECT_EQ(f.tensors()[0].n_elements(), 0);
    }
    // Bytes after the data section are ignored.
    {
        std::vector<float> f32;
        std::vector<uint8_t> q8;
        std::vector<uint8_t> bytes = rich_image(f32, q8);
        const size_t canonical = bytes.size();
        bytes.insert(bytes.end(), {1, 2, 3, 4, 5});
        const File f = File::parse(bytes);
        EXPECT_EQ(f.data_offset() + f.data_size(), canonical);
        const std::vector<uint8_t> again = Writer::copy_of(f).to_bytes();
        EXPECT_EQ(again, std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(canonical)));
    }
    // A file without tensors needs no padding, and may end right after its records.
    {
        Writer w(2);
        w.add("tokenizer.ggml.model", Value::string("gpt2"));
        const std::vector<uint8_t> bytes = w.to_bytes();
        EXPECT_NE(bytes.size() % 32, 0u);
        EXPECT_NO_THROW(File::parse(bytes));
    }
}

}  // namespace
}  // namespace ember::gguf
