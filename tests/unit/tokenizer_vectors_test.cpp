// The reference tokenizer test vectors (docs/FORMATS.md §5.7): every string of each .inp file must
// tokenize (add_special = false, parse_special = false) to exactly the ids of the .out line.
#include "ember/gguf.h"
#include "model/tokenizer/vocab.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace ember {
namespace {

struct Case {
    std::string text;
    std::vector<int32_t> ids;
};

std::vector<Case> read_cases(const std::string& vocab_file) {
    const std::vector<uint8_t> inp = test::read_file(test::data_path("vocab/" + vocab_file + ".inp"));
    const std::vector<uint8_t> out = test::read_file(test::data_path("vocab/" + vocab_file + ".out"));
    const std::string inputs(inp.begin(), inp.end());
    const std::string outputs(out.begin(), out.end());

    // Each test string is followed by this separator; the remainder after the last is empty.
    const std::string sep = "\n__ggml_vocab_test__\n";
    std::vector<std::string> texts;
    for (size_t pos = 0; pos < inputs.size();) {
        const size_t end = inputs.find(sep, pos);
        if (end == std::string::npos) {
            texts.push_back(inputs.substr(pos));
            break;
        }
        texts.push_back(inputs.substr(pos, end - pos));
        pos = end + sep.size();
    }

    std::vector<Case> cases;
    std::istringstream lines(outputs);
    std::string line;
    for (const std::string& text : texts) {
        if (!std::getline(lines, line)) {
            ADD_FAILURE() << vocab_file << ".out has fewer lines than there are inputs";
            break;
        }
        Case c{text, {}};
        std::istringstream ids(line);
        for (int32_t id; ids >> id;) c.ids.push_back(id);
        cases.push_back(std::move(c));
    }
    return cases;
}

std::string join(const std::vector<int32_t>& ids) {
    std::string s;
    for (const int32_t id : ids) {
        s += ' ';
        s += std::to_string(id);
    }
    return s;
}

// Tokenizes every case and reports each mismatch with the input and both id lists.
void check_vectors(const std::string& vocab_file, size_t expected_cases) {
    const gguf::File file = gguf::File::open(test::data_path("vocab/" + vocab_file));
    const Vocab vocab = Vocab::from_gguf(file);
    const std::vector<Case> cases = read_cases(vocab_file);
    ASSERT_EQ(cases.size(), expected_cases);
    size_t passed = 0;
    for (const Case& c : cases) {
        const std::vector<int32_t> got = vocab.tokenize(c.text, /*add_special=*/false, /*parse_special=*/false);
        if (got == c.ids) {
            ++passed;
            continue;
        }
        ADD_FAILURE() << vocab_file << ": input '" << c.text << "'\n  expected:" << join(c.ids)
                      << "\n  got:     " << join(got);
    }
    EXPECT_EQ(passed, cases.size()) << vocab_file;
}

TEST(Tokenizer, LlamaSpmVectors) { check_vectors("ggml-vocab-llama-spm.gguf", 46); }
TEST(Tokenizer, Phi3Vectors) { check_vectors("ggml-vocab-phi-3.gguf", 46); }
TEST(Tokenizer, Gpt2Vectors) { check_vectors("ggml-vocab-gpt-2.gguf", 46); }
TEST(Tokenizer, DeepseekLlmVectors) { check_vectors("ggml-vocab-deepseek-llm.gguf", 46); }
TEST(Tokenizer, FalconVectors) { check_vectors("ggml-vocab-falcon.gguf", 46); }
TEST(Tokenizer, StarcoderVectors) { check_vectors("ggml-vocab-starcoder.gguf", 46); }
TEST(Tokenizer, Llama3Vectors) { check_vectors("ggml-vocab-llama3.gguf", 46); }
TEST(Tokenizer, Qwen3Vectors) { check_vectors("ggml-vocab-qwen3.gguf", 46); }
TEST(Tokenizer, DeepseekV3Vectors) { check_vectors("ggml-vocab-deepseek-v3.gguf", 46); }
TEST(Tokenizer, Gemma3Vectors) { check_vectors("ggml-vocab-gemma3.gguf", 46); }

}  // namespace
}  // namespace ember
