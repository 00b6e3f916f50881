// Tokenizer throughput: ~1 MB of generated text (words, punctuation, numbers, newlines, some
// accented, Cyrillic, CJK and emoji text) tokenized with the reference vocabs from tests/data.
// Reports input bytes per second; the label gives the token count.
//
// Vocab files are found under $EMBER_TEST_DATA/vocab, else next to this source file.
#include "ember/gguf.h"
#include "model/tokenizer/vocab.h"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>

namespace {

constexpr size_t kTextBytes = 1 << 20;

std::string data_dir() {
    if (const char* env = std::getenv("EMBER_TEST_DATA")) return env;
    return (std::filesystem::path(__FILE__).parent_path().parent_path() / "tests" / "data").string();
}

const ember::Vocab& vocab(const std::string& name) {
    static std::map<std::string, std::unique_ptr<ember::Vocab>> cache;
    auto& v = cache[name];
    if (!v) {
        const auto file = ember::gguf::File::open(data_dir() + "/vocab/ggml-vocab-" + name + ".gguf");
        v = std::make_unique<ember::Vocab>(ember::Vocab::from_gguf(file));
    }
    return *v;
}

// Deterministic prose-like text of about `bytes` bytes.
std::string generated_text(size_t bytes) {
    static const char* const words[] = {
        "the", "of", "and", "to", "in", "is", "was", "that", "for", "it", "with", "as", "on", "be", "at",
        "tokenizer", "language", "model", "inference", "quantization", "matrix", "Llama", "GGUF", "ember",
        "don't", "it's", "we've", "they'll", "café", "naïve", "Führer", "нещо", "Български", "我想", "工作",
        "🦙", "🚀", "(normal)", "x=42;", "3.14159", "2024", "1,000,000", "---", "...", "C++", "e-mail"};
    static const char* const seps[] = {" ", " ", " ", " ", " ", ", ", ". ", "\n", "  ", "\t", "! ", "? "};
    std::mt19937 rng(12345);
    std::string text;
    text.reserve(bytes + 64);
    while (text.size() < bytes) {
        text += words[rng() % std::size(words)];
        text += seps[rng() % std::size(seps)];
    }
    return text;
}

void run(benchmark::State& state, const ember::Vocab& v, const std::string& text) {
    size_t n_tokens = 0;
    for (auto _ : state) {
        const std::vector<int32_t> ids = v.tokenize(text, /*add_special=*/false);
        n_tokens = ids.size();
        benchmark::DoNotOptimize(ids.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
    state.SetLabel(std::to_string(text.size()) + " bytes -> " + std::to_string(n_tokens) + " tokens");
}

void BM_Tokenize(benchmark::State& state, const char* name) {
    static const std::string text = generated_text(kTextBytes);
    run(state, vocab(name), text);
}

// One 1 MB fragment without spaces: SPM merges the whole text in one queue.
void BM_TokenizeNoSpaces(benchmark::State& state, const char* name) {
    std::string text;
    std::mt19937 rng(7);
    while (text.size() < kTextBytes) text += static_cast<char>('a' + rng() % 26);
    run(state, vocab(name), text);
}

void BM_Detokenize(benchmark::State& state, const char* name) {
    static const std::string text = generated_text(kTextBytes);
    const ember::Vocab& v = vocab(name);
    const std::vector<int32_t> ids = v.tokenize(text, false);
    for (auto _ : state) benchmark::DoNotOptimize(v.detokenize(ids));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
}

BENCHMARK_CAPTURE(BM_Tokenize, llama_spm, "llama-spm")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Tokenize, gpt_2, "gpt-2")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Tokenize, deepseek_llm, "deepseek-llm")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_TokenizeNoSpaces, llama_spm, "llama-spm")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_TokenizeNoSpaces, gpt_2, "gpt-2")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Detokenize, llama_spm, "llama-spm")->Unit(benchmark::kMillisecond);

}  // namespace
