// Every template x case of tests/data/templates (real chat templates, copied from the reference
// data with PROVENANCE.md) rendered by jinja/ and compared with what python3-jinja2 rendered
// (expected.json): "ok" byte-identical, "raised" the same raise_exception message, "failed" an
// error of any kind. One test per render.
#include "jinja/json.h"
#include "jinja/template.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using ember::jinja::Value;

std::string data_dir() { return std::string(EMBER_TEST_DATA) + "/templates"; }

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

struct Render {
    std::string template_name, case_name;
};

struct Data {
    Value templates, cases, expected;
    Data() {
        templates = ember::jinja::parse_json(read_file(data_dir() + "/templates.json"));
        cases = ember::jinja::parse_json(read_file(data_dir() + "/cases.json"));
        expected = ember::jinja::parse_json(read_file(data_dir() + "/expected.json"));
    }
};

const Data& data() {
    static const Data d;
    return d;
}

const Value& get(const Value& dict, const std::string& key) {
    static const Value missing;
    const Value* v = dict.is_dict() ? dict.dict->find(std::string_view(key)) : nullptr;
    return v ? *v : missing;
}

std::vector<Render> all_renders() {
    std::vector<Render> out;
    try {
        for (const auto& [tname, tinfo] : data().templates.dict->items)
            for (const Value& c : data().cases.list->items) out.push_back({tname.s, get(c, "name").s});
    } catch (const std::exception&) {
        // a missing data file: the count test below fails
    }
    return out;
}

// The context the reference made: messages, add_generation_prompt, tools, documents = None,
// bos/eos from templates.json when not null, then the case's kwargs.
Value make_context(const Value& tinfo, const Value& c) {
    Value ctx = Value::make_dict();
    ctx.dict->set(Value::string("messages"), get(c, "messages"));
    ctx.dict->set(Value::string("add_generation_prompt"), get(c, "add_generation_prompt"));
    ctx.dict->set(Value::string("tools"), get(c, "tools"));
    ctx.dict->set(Value::string("documents"), Value::none());
    for (const char* k : {"bos_token", "eos_token"})
        if (get(tinfo, k).is_string()) ctx.dict->set(Value::string(k), get(tinfo, k));
    const Value& kwargs = get(c, "kwargs");
    if (kwargs.is_dict())
        for (const auto& [k, v] : kwargs.dict->items) ctx.dict->set(k, v);
    return ctx;
}

class JinjaTemplates : public testing::TestWithParam<Render> {};

TEST_P(JinjaTemplates, MatchesJinja2) {
    const Render& r = GetParam();
    const Value& tinfo = get(data().templates, r.template_name);
    const Value* c = nullptr;
    for (const Value& x : data().cases.list->items)
        if (get(x, "name").s == r.case_name) c = &x;
    ASSERT_NE(c, nullptr);
    const Value& expected = get(get(get(data().expected, "results"), r.template_name), r.case_name);
    const std::string status = get(expected, "status").s;
    const std::string source = read_file(data_dir() + "/templates/" + get(tinfo, "file").s);
    ASSERT_FALSE(source.empty());
    try {
        auto t = ember::jinja::Template::parse(source);
        std::string out = t.render(make_context(tinfo, *c));
        ASSERT_EQ(status, "ok") << "rendered, but Jinja2 gave " << status << ": " << get(expected, "error").s;
        EXPECT_EQ(out, get(expected, "output").s);
    } catch (const ember::jinja::TemplateError& e) {
        if (status == "ok") FAIL() << "Jinja2 rendered it; we failed: " << e.what();
        if (status == "raised") {
            EXPECT_EQ(e.kind(), ember::jinja::ErrorKind::Raised) << e.what();
            EXPECT_EQ(e.message(), get(expected, "error").s);
        }
    }
}

std::string test_name(const testing::TestParamInfo<Render>& info) {
    std::string name = info.param.template_name + "__" + info.param.case_name;
    for (char& ch : name)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return name;
}

INSTANTIATE_TEST_SUITE_P(Reference, JinjaTemplates, testing::ValuesIn(all_renders()), test_name);

TEST(JinjaTemplatesData, AllRendersPresent) {
    EXPECT_EQ(all_renders().size(), 342u);
    const Value& counts = get(data().expected, "counts");
    EXPECT_TRUE(counts.is_dict());
}

}  // namespace
