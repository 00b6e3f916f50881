// quant/ against the reference implementation's own outputs:
//  (a) dequantizing tensors of the tiny-*.gguf models reproduces the reference
//      dequantization (tests/data/reference/dequant/*.f32) bit for bit;
//  (b) re-quantizing tiny-f16.gguf reproduces, block for block, the bytes llama-quantize
//      wrote into tiny-{Q8_0,Q4_K_M,Q5_K_M}.gguf.
#include "ember/type.h"
#include "ember/gguf.h"
#include "quant/quant.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ember {
namespace {

// ---- index.json ------------------------------------------------------------------------
// The index is an object of objects whose values are strings, integers or arrays of
// integers. A small scanner over exactly that shape is enough; it fails loudly on
// anything else.

struct IndexEntry {
    std::string file;    // the .f32 file name (the entry's key)
    std::string model;   // e.g. tiny-Q4_K_M.gguf
    std::string tensor;  // tensor name in the model
    std::string type;    // type name, e.g. Q6_K
    int64_t rows = -1;
    int64_t row_len = -1;
};

class JsonScanner {
public:
    explicit JsonScanner(std::string text) : s_(std::move(text)) {}

    void skip_ws() {
        while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
    }
    bool peek(char c) {
        skip_ws();
        return i_ < s_.size() && s_[i_] == c;
    }
    void expect(char c) {
        if (!peek(c)) throw std::runtime_error(std::string("index.json: expected '") + c + "' at offset " + std::to_string(i_));
        ++i_;
    }
    std::string string() {
        expect('"');
        std::string out;
        while (i_ < s_.size() && s_[i_] != '"') {
            if (s_[i_] == '\\') ++i_;  // keys and values here have no escapes worth decoding
            if (i_ < s_.size()) out += s_[i_++];
        }
        expect('"');
        return out;
    }
    int64_t integer() {
        skip_ws();
        size_t used = 0;
        const int64_t v = std::stoll(s_.substr(i_), &used);
        i_ += used;
        return v;
    }
    // A value we do not need: string, integer or array of those.
    void skip_value() {
        if (peek('"')) {
            string();
        } else if (peek('[')) {
            expect('[');
            while (!peek(']')) {
                skip_value();
                if (peek(',')) expect(',');
            }
            expect(']');
        } else {
            integer();
        }
    }

private:
    std::string s_;
    size_t i_ = 0;
};

std::vector<IndexEntry> read_index(const std::string& path) {
    const std::vector<uint8_t> bytes = test::read_file(path);
    JsonScanner js(std::string(bytes.begin(), bytes.end()));
    std::vector<IndexEntry> entries;
    js.expect('{');
    while (!js.peek('}')) {
        IndexEntry e;
        e.file = js.string();
        js.expect(':');
        js.expect('{');
        while (!js.peek('}')) {
            const std::string key = js.string();
            js.expect(':');
            if (key == "model") e.model = js.string();
            else if (key == "tensor") e.tensor = js.string();
            else if (key == "type") e.type = js.string();
            else if (key == "rows") e.rows = js.integer();
            else if (key == "row_len") e.row_len = js.integer();
            else js.skip_value();
            if (js.peek(',')) js.expect(',');
        }
        js.expect('}');
        entries.push_back(e);
        if (js.peek(',')) js.expect(',');
    }
    js.expect('}');
    return entries;
}

// ---- (a) dequantization ----------------------------------------------------------------

TEST(QuantReference, DequantizeMatchesReferenceBitForBit) {
    const auto entries = read_index(test::data_path("reference/dequant/index.json"));
    ASSERT_FALSE(entries.empty());
    std::map<std::string, gguf::File> models;
    for (const IndexEntry& e : entries) {
        SCOPED_TRACE(e.file);
        ASSERT_FALSE(e.model.empty());
        ASSERT_GT(e.rows, 0);
        ASSERT_GT(e.row_len, 0);
        if (!models.count(e.model)) models.emplace(e.model, gguf::File::open(test::data_path("models/" + e.model)));
        const gguf::TensorInfo* t = models.at(e.model).find_tensor(e.tensor);
        ASSERT_NE(t, nullptr) << e.tensor;
        ASSERT_STREQ(type_name(t->type), e.type.c_str());
        ASSERT_EQ(t->ne[0], e.row_len);
        ASSERT_LE(e.rows, t->n_elements() / t->ne[0]);

        const std::vector<float> want = test::read_f32_file(test::data_path("reference/dequant/" + e.file));
        const size_t n = static_cast<size_t>(e.rows * e.row_len);
        ASSERT_EQ(want.size(), n);

        std::vector<float> got(n);
        const size_t rs = row_size(t->type, e.row_len);
        for (int64_t r = 0; r < e.rows; ++r) {
            quant::quant_traits(t->type).to_float(t->data + rs * r, got.data() + r * e.row_len, e.row_len);
        }
        size_t mismatches = 0;
        for (size_t i = 0; i < n; ++i) {
            uint32_t a = 0, b = 0;
            std::memcpy(&a, &got[i], 4);
            std::memcpy(&b, &want[i], 4);
            if (a != b && mismatches++ < 5) {
                ADD_FAILURE() << "element " << i << ": got 0x" << std::hex << a << " want 0x" << b << std::dec;
            }
        }
        EXPECT_EQ(mismatches, 0u) << "of " << n << " elements (" << e.type << ")";
    }
}

// ---- (b) re-quantization ---------------------------------------------------------------

struct BlockTally {
    uint64_t identical = 0;
    uint64_t total = 0;
};

TEST(QuantReference, RequantizeF16MatchesLlamaQuantize) {
    const gguf::File src = gguf::File::open(test::data_path("models/tiny-f16.gguf"));
    std::map<std::string, BlockTally> tally;  // by target type name

    for (const char* target_name : {"tiny-Q8_0.gguf", "tiny-Q4_K_M.gguf", "tiny-Q5_K_M.gguf"}) {
        const gguf::File dst = gguf::File::open(test::data_path(std::string("models/") + target_name));
        ASSERT_EQ(dst.tensors().size(), src.tensors().size()) << target_name;
        for (const gguf::TensorInfo& s : src.tensors()) {
            SCOPED_TRACE(std::string(target_name) + ": " + s.name);
            const gguf::TensorInfo* d = dst.find_tensor(s.name);
            ASSERT_NE(d, nullptr);
            ASSERT_EQ(d->ne, s.ne);
            const int64_t n = s.n_elements();
            BlockTally& t = tally[type_name(d->type)];

            if (d->type == s.type) {  // kept as is (F32 norms; an F16 tensor left F16)
                ASSERT_EQ(d->nbytes, s.nbytes);
                const size_t unit = type_size(d->type);
                for (size_t off = 0; off < s.nbytes; off += unit) {
                    t.identical += std::memcmp(s.data + off, d->data + off, unit) == 0;
                    ++t.total;
                }
                continue;
            }

            // llama-quantize converts the source to F32 first, then quantizes row by row;
            // blocks never straddle rows, so one call over the whole tensor is the same.
            std::vector<float> f(static_cast<size_t>(n));
            quant::quant_traits(s.type).to_float(s.data, f.data(), n);
            std::vector<uint8_t> q(row_size(d->type, s.ne[0]) * static_cast<size_t>(n / s.ne[0]));
            ASSERT_EQ(q.size(), d->nbytes);
            quant::quant_traits(d->type).from_float(f.data(), q.data(), n);

            const size_t bsz = type_size(d->type);
            uint64_t differing = 0;
            for (size_t off = 0; off < q.size(); off += bsz) {
                const bool same = std::memcmp(q.data() + off, d->data + off, bsz) == 0;
                t.identical += same;
                ++t.total;
                if (!same && differing++ < 3) ADD_FAILURE() << type_name(d->type) << " block " << off / bsz << " differs";
            }
        }
    }

    std::ostringstream summary;
    for (const auto& [type, t] : tally) {
        const double share = t.total ? 100.0 * static_cast<double>(t.identical) / static_cast<double>(t.total) : 0.0;
        summary << type << ": " << t.identical << "/" << t.total << " (" << std::fixed << std::setprecision(3) << share
                << "%) identical; ";
        RecordProperty("identical_" + type, std::to_string(t.identical) + "/" + std::to_string(t.total));
        EXPECT_EQ(t.identical, t.total) << type;
    }
    std::cout << "[ re-quantization ] " << summary.str() << std::endl;
    // The three targets must exercise every type the mixes produce here.
    for (const char* needed : {"Q8_0", "Q4_K", "Q5_K", "Q6_K"}) EXPECT_TRUE(tally.count(needed)) << needed;
}

}  // namespace
}  // namespace ember
