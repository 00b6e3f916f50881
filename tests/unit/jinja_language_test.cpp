// The Jinja2 language, feature by feature: each case's expected text is what python3-jinja2
// 3.1 renders with the chat-template settings (ImmutableSandboxedEnvironment, trim_blocks,
// lstrip_blocks, loopcontrols, Hugging Face's tojson). Then errors (line and column, kinds) and
// the render limits.
#include "jinja/json.h"
#include "jinja/template.h"

#include <gtest/gtest.h>

#include <string>

namespace {

using ember::jinja::ErrorKind;
using ember::jinja::RenderLimits;
using ember::jinja::Template;
using ember::jinja::TemplateError;

struct Case {
    const char* name;
    const char* source;
    const char* context;
    const char* expected;  // the output, or for kErrors Jinja2's "Type: message"
};

const Case kCases[] = {
    {"ws_trim_blocks", "{% if true %}\nyes\n{% endif %}\nend", "{}", "yes\nend"},
    {"ws_lstrip", "a\n    {% if true %}\n    b\n    {% endif %}\nc", "{}", "a\n    b\nc"},
    {"ws_minus", "a   {{- 'b' -}}   c\n  {%- if true %} d {% endif -%}  \n e", "{}", "abc d e"},
    {"ws_plus", "a\n    {%+ if true %}x{% endif %}\n", "{}", "a\n    x"},
    {"ws_comment", "a\n  {# c #}\nb {#- c -#} d", "{}", "a\nbd"},
    {"ws_raw", "{% raw %}{{ x }}{% endraw %}|", "{}", "{{ x }}|"},
    {"ws_crlf_trailing", "a\r\nb\r\n", "{}", "a\nb"},
    {"loop_vars", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}", "{}", "1032TrueFalse3;2121FalseFalse3;3210FalseTrue3;"},
    {"loop_prev_next", "{% for x in [1,2,3] %}{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }}|{% endfor %}", "{}", "<1>2|1<2>3|2<3>|"},
    {"loop_filter_else", "{% for x in range(10) if x is even %}{{ x }}{% else %}none{% endfor %}{% for x in [] %}{% else %}empty{% endfor %}", "{}", "02468empty"},
    {"loop_break_continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}", "{}", "0134"},
    {"loop_unpack_items", "{% for k, v in d.items() %}{{ k }}={{ v }},{% endfor %}{% for k, v in d|dictsort %}{{ k }}{% endfor %}", "{\"d\": {\"b\": 1, \"a\": 2}}", "b=1,a=2,ab"},
    {"loop_cycle_scope", "{% set x = 1 %}{% for i in [1,2] %}{{ loop.cycle('o','e') }}{% set x = i * 10 %}{{ x }}{% endfor %}{{ x }}", "{}", "o10e201"},
    {"loop_recursive", "{% for n in tree recursive %}{{ n.name }}{% if n.kids %}[{{ loop(n.kids) }}]{% endif %}{% endfor %}", "{\"tree\": [{\"name\": \"a\", \"kids\": [{\"name\": \"b\", \"kids\": []}, {\"name\": \"c\"}]}]}", "a[bc]"},
    {"slicing", "{{ 'hello'[::-1] }} {{ [1,2,3,4][1:] }} {{ [1,2,3,4][:-1] }} {{ [1,2,3,4][::2] }} {{ 'h\xc3""\xa9""llo'[1:3] }} {{ [1,2,3][-1] }} {{ [1,2,3][5:] }}", "{}", "olleh [2, 3, 4] [1, 2, 3] [1, 3] \xc3""\xa9""l 3 []"},
    {"item_attr", "{{ d.a }} {{ d['a'] }} {{ d.items|length if false else d.get('b', 'dflt') }} {{ l.0 }} {{ d.missing }}|", "{\"d\": {\"a\": 1}, \"l\": [7]}", "1 1 dflt 7 |"},
    {"namespace", "{% set ns = namespace(count=0, names=[]) %}{% for x in 'abc' %}{% set ns.count = ns.count + 1 %}{% endfor %}{{ ns.count }}", "{}", "3"},
    {"set_block", "{% set x %}  Hi {{ 1 }}  {% endset %}[{{ x }}]{% set y | upper | trim %} abc {% endset %}[{{ y }}]", "{}", "[  Hi 1  ][ABC]"},
    {"set_tuple", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t = (1,) %}{{ t }}{{ () }}{{ (1, 'a') }}", "{}", "12(1,)()(1, 'a')"},
    {"macro_defaults", "{% macro m(a, b='B', c=none) %}{{ a }}{{ b }}{{ c }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1) }}|{{ m(1, c=3) }}|{{ m(1, 2, 3, 4) }}", "{}", "1BNone(){}|1B3(){}|123(4,){}"},
    {"macro_call", "{% macro wrap(t) %}<{{ t }}:{{ caller(5) }}>{% endmacro %}{% call(n) wrap('x') %}n={{ n }}{% endcall %}", "{}", "<x:n=5>"},
    {"macro_recursion", "{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(5) }}", "{}", "54321"},
    {"filters_str", "{{ '  a b  '|trim }}|{{ 'abc'|upper }}|{{ 'ABC'|lower }}|{{ 'hello world'|title }}|{{ 'hELLO'|capitalize }}|{{ 'a-b'|replace('-', '+') }}|{{ 'one two three'|wordcount }}", "{}", "a b|ABC|abc|Hello World|Hello|a+b|3"},
    {"filters_list", "{{ [3,1,2]|sort }}{{ [3,1,2]|sort(reverse=true)|list }}{{ [1,2,2,3]|unique|list }}{{ [1,2]|reverse|list }}{{ [1,2,3]|first }}{{ [1,2,3]|last }}{{ [1,2,3]|sum }}{{ [1,5,3]|max }}{{ [4,2,8]|min }}{{ [1,2,3,4,5]|batch(2)|list }}", "{}", "[1, 2, 3][3, 2, 1][1, 2, 3][2, 1]13652[[1, 2], [3, 4], [5]]"},
    {"filters_select", "{{ l|selectattr('t', 'equalto', 'a')|map(attribute='n')|join(',') }}|{{ l|rejectattr('t', 'eq', 'a')|map(attribute='n')|list }}|{{ [0,1,2,3]|select('odd')|list }}|{{ [0,1,'',none]|reject|list }}|{{ ['a','B']|map('upper')|join }}", "{\"l\": [{\"t\": \"a\", \"n\": 1}, {\"t\": \"b\", \"n\": 2}, {\"t\": \"a\", \"n\": 3}]}", "1,3|[2]|[1, 3]|[0, '', None]|AB"},
    {"filters_default", "{{ x|default('d') }}{{ x|d('e') }}{{ ''|default('f', true) }}{{ none|default('g') }}{{ 0|default('h', boolean=true) }}", "{}", "defNoneh"},
    {"filters_num", "{{ '42'|int + 1 }} {{ '3.5'|int }} {{ 'x'|int(7) }} {{ '2.5'|float }} {{ -3|abs }} {{ 2.567|round(2) }} {{ 2.5|round }} {{ 3.5|round }} {{ 7|string ~ 'x' }} {{ 12.0|round(0, 'floor') }}", "{}", "43 3 7 2.5 3 2.57 2.0 4.0 7x 12.0"},
    {"filters_indent", "{{ 'a\nb\n\nc'|indent(2) }}|{{ 'a\nb'|indent(4, true) }}|{{ 'a\n\nb'|indent('> ', blank=true) }}", "{}", "a\n  b\n\n  c|    a\n    b|a\n> \n> b"},
    {"filters_items_count", "{% for k, v in d|items %}{{ k }}{{ v }}{% endfor %}{{ d|length }}{{ 'h\xc3""\xa9""llo'|count }}{{ d|list }}", "{\"d\": {\"x\": 1, \"y\": [2]}}", "x1y[2]25['x', 'y']"},
    {"tojson_formats", "{{ v|tojson }}\n{{ v|tojson(indent=2) }}\n{{ v|tojson(separators=(',', ':')) }}\n{{ v|tojson(sort_keys=true) }}\n{{ '\xc3""\xa9""\"\\\\\n\\t'|tojson }}\n{{ '\xc3""\xa9""'|tojson(ensure_ascii=true) }}\n{{ [] |tojson(indent=2) }}{{ {}|tojson }}", "{\"v\": {\"b\": [1, 2.5, 1e20, 0.1, true, null, \"x\"], \"a\": {\"c\": -0.0, \"d\": 12345678901234, \"e\": 1.5e-7}}}", "{\"b\": [1, 2.5, 1e+20, 0.1, true, null, \"x\"], \"a\": {\"c\": -0.0, \"d\": 12345678901234, \"e\": 1.5e-07}}\n{\n  \"b\": [\n    1,\n    2.5,\n    1e+20,\n    0.1,\n    true,\n    null,\n    \"x\"\n  ],\n  \"a\": {\n    \"c\": -0.0,\n    \"d\": 12345678901234,\n    \"e\": 1.5e-07\n  }\n}\n{\"b\":[1,2.5,1e+20,0.1,true,null,\"x\"],\"a\":{\"c\":-0.0,\"d\":12345678901234,\"e\":1.5e-07}}\n{\"a\": {\"c\": -0.0, \"d\": 12345678901234, \"e\": 1.5e-07}, \"b\": [1, 2.5, 1e+20, 0.1, true, null, \"x\"]}\n\"\xc3""\xa9""\\\"\\\\\\n\\t\"\n\"\\u00e9\"\n[]{}"},
    {"tests_is", "{{ x is defined }}{{ y is undefined }}{{ none is none }}{{ 'a' is string }}{{ 1 is number }}{{ 1.0 is integer }}{{ 1 is integer }}{{ {} is mapping }}{{ [] is sequence }}{{ 'a' is iterable }}{{ true is boolean }}{{ true is true }}{{ false is false }}{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 1 is equalto 1 }}{{ 2 is eq 3 }}{{ none is sameas none }}{{ x is not none }}", "{\"x\": 1}", "TrueTrueTrueTrueTrueFalseTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueFalseTrueTrue"},
    {"operators", "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 7 / 2 }} {{ 1 + 2 * 3 }} {{ 'a' ~ 1 ~ none }} {{ 'ab' * 3 }} {{ [1] + [2] }} {{ 1 < 2 < 3 }} {{ 'b' in 'abc' }} {{ 3 not in [1,2] }} {{ not true or false }} {{ 'y' if 0 else 'n' }} {{ 10 - 2 - 3 }} {{ 0.1 + 0.2 }} {{ 1e100 }} {{ 1/3 }} {{ 2**-1 }}", "{}", "3 -4 1 2 1024 3.5 7 a1None ababab [1, 2] True True True False n 5 0.30000000000000004 1e+100 0.3333333333333333 0.5"},
    {"literals", "{{ 'a\\'b' }} {{ \"x\\ty\" }} {{ '\\u00e9\\x41' }} {{ True }} {{ None }} {{ [1, 'a', none, true, 1.5] }} {{ {'k': 'v', 1: 2} }} {{ 1_000 }} {{ 'a' 'b' }}", "{}", "a'b x\ty \xc3""\xa9""A True None [1, 'a', None, True, 1.5] {'k': 'v', 1: 2} 1000 ab"},
    {"string_methods", "{{ ' x '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'abc'.startswith('ab') }}|{{ 'abc'.endswith(('x', 'c')) }}|{{ 'aaa'.replace('a', 'b', 2) }}|{{ 'x{}y{}'.format(1, 'z') }}|{{ 'abcb'.find('b') }}|{{ 'abcb'.count('b') }}|{{ 'Hello World'.title() }}|{{ 'abc'.upper() }}|{{ 'a b'.rsplit(' ', 1) }}", "{}", "x|a|['a', 'b', '', 'c']|['a', 'b']|['a', 'b c']|True|True|bba|x1yz|1|2|Hello World|ABC|['a', 'b']"},
    {"dict_methods", "{{ d.keys()|list }}{{ d.values()|list }}{{ d.get('a') }}{{ d.get('z') }}{{ d.get('z', 5) }}{% for k in d %}{{ k }}{% endfor %}{{ 'a' in d }}", "{\"d\": {\"a\": 1, \"b\": 2}}", "['a', 'b'][1, 2]1None5abTrue"},
    {"globals", "{{ range(3)|list }}{{ range(1, 10, 3)|list }}{{ dict(a=1) }}{{ strftime_now('%d %b %Y %H:%M') }}{% set c = cycler('a', 'b') %}{{ c.next() }}{{ c.next() }}{{ c.next() }}{% set j = joiner('-') %}{{ j() }}x{{ j() }}y", "{}", "[0, 1, 2][1, 4, 7]{'a': 1}26 Jul 2024 00:00abax-y"},
    {"undefined_behaviour", "[{{ u }}][{{ u|length }}][{{ u is defined }}][{% for x in u %}{{ x }}{% endfor %}][{{ u|default('d') }}][{{ u == u }}][{{ not u }}]", "{}", "[][0][False][][d][True][True]"},
    {"print_values", "{{ none }} {{ true }} {{ 1.0 }} {{ [1.0, 'it\\'s'] }} {{ {'a': none} }} {{ '' }}", "{}", "None True 1.0 [1.0, \"it's\"] {'a': None} "},
    {"generation_tag", "{% generation %}gen {{ 1 }}{% endgeneration %}!", "{}", "gen 1!"},
    {"with_filter_block", "{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}{% filter upper %}abc{{ 'd' }}{% endfilter %}", "{}", "3ABCD"},
    {"markup_concat", "{{ '<'|safe + '<' }}{{ '<' ~ '<'|safe }}", "{}", "<&lt;<<"},
};
const Case kErrors[] = {
    {"err_undefined_attr", "{{ u.x }}", "{}", "UndefinedError: 'u' is undefined"},
    {"err_list_append", "{% set l = [] %}{{ l.append(1) }}", "{}", "SecurityError: access to attribute 'append' of 'list' object is unsafe."},
    {"err_dict_attr_assign", "{% set d = {} %}{% set d.x = 1 %}", "{}", "TemplateRuntimeError: cannot assign attribute on non-namespace object"},
    {"err_none_iter", "{% for x in none %}{% endfor %}", "{}", "TypeError: 'NoneType' object is not iterable"},
    {"err_add_types", "{{ 1 + 'a' }}", "{}", "TypeError: unsupported operand type(s) for +: 'int' and 'str'"},
    {"err_div_zero", "{{ 1 / 0 }}", "{}", "ZeroDivisionError: division by zero"},
    {"err_generator_tojson", "{{ [1]|map('string')|tojson }}", "{}", "TypeError: Object of type generator is not JSON serializable"},
    {"err_unknown_filter", "{{ 1|nosuchfilter }}", "{}", "TemplateAssertionError: No filter named 'nosuchfilter'."},
    {"err_unknown_test_runtime", "{% if 1 is nosuchtest %}{% endif %}", "{}", "TemplateRuntimeError: No test named 'nosuchtest' found."},
};

std::string render(const std::string& source, const std::string& context = "{}", const RenderLimits& limits = {}) {
    return Template::parse(source).render(ember::jinja::parse_json(context), limits);
}

TEST(JinjaLanguage, MatchesJinja2) {
    for (const Case& c : kCases) {
        SCOPED_TRACE(c.name);
        try {
            EXPECT_EQ(render(c.source, c.context), c.expected);
        } catch (const std::exception& e) {
            ADD_FAILURE() << e.what();
        }
    }
}

TEST(JinjaLanguage, FailsWhereJinja2Fails) {
    for (const Case& c : kErrors) {
        SCOPED_TRACE(c.name);
        EXPECT_THROW(render(c.source, c.context), TemplateError) << "Jinja2: " << c.expected;
    }
}

TEST(JinjaErrors, KindsMatchJinja2) {
    auto kind_of = [](const std::string& src) {
        try {
            render(src);
        } catch (const TemplateError& e) {
            return e.kind();
        }
        return ErrorKind::Runtime;  // unreachable in these cases; fails the comparisons below
    };
    EXPECT_EQ(kind_of("{{ u.x }}"), ErrorKind::Undefined);
    EXPECT_EQ(kind_of("{% set l = [] %}{{ l.append(1) }}"), ErrorKind::Security);
    EXPECT_EQ(kind_of("{% set d = {'a': 1} %}{{ d.pop('a') }}"), ErrorKind::Security);
    EXPECT_EQ(kind_of("{{ 1 + 'a' }}"), ErrorKind::Type);
    EXPECT_EQ(kind_of("{{ x|nosuch }}"), ErrorKind::Syntax);
}

TEST(JinjaErrors, RaiseExceptionKeepsTheMessage) {
    try {
        render("{{ raise_exception('Roles must alternate: ' ~ 1) }}");
        FAIL() << "no error";
    } catch (const TemplateError& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Raised);
        EXPECT_EQ(e.message(), "Roles must alternate: 1");
        EXPECT_STREQ(e.what(), "template raised: Roles must alternate: 1");
    }
}

TEST(JinjaErrors, SyntaxErrorsHaveLineAndColumn) {
    struct Bad {
        const char* source;
        int line, column;
        const char* text;
    } cases[] = {
        {"a\n{{ 1 +* 2 }}", 2, 7, "unexpected '*'"},
        {"{% if x %}\nabc", 2, 4, "unexpected end of template"},
        {"line\n  {% frobnicate %}", 2, 6, "unknown tag 'frobnicate'"},
        {"{{ 'unterminated }}", 1, 4, "unexpected char"},
        {"{# never closed", 1, 1, "Missing end of comment tag"},
        {"x\n\n   {{ (1, 2]] }}", 3, 12, "unexpected ']'"},
        {"{% for x in y %}{% endif %}", 1, 20, "endif"},
        // Found by jinja_fuzz: a slice inside a tuple subscript left a node without its object.
        {"{{ m[1:2, 3] }}", 1, 6, "a slice cannot be part of a tuple subscript"},
        {"{{ m[0, :3] }}", 1, 9, "a slice cannot be part of a tuple subscript"},
    };
    for (const Bad& b : cases) {
        SCOPED_TRACE(b.source);
        try {
            Template::parse(b.source);
            ADD_FAILURE() << "parsed";
        } catch (const TemplateError& e) {
            EXPECT_EQ(e.kind(), ErrorKind::Syntax);
            EXPECT_EQ(e.line(), b.line) << e.what();
            EXPECT_EQ(e.column(), b.column) << e.what();
            EXPECT_NE(std::string(e.what()).find(b.text), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find(std::to_string(b.line) + ":" + std::to_string(b.column)),
                      std::string::npos) << e.what();
        }
    }
}

TEST(JinjaErrors, RuntimeErrorsNameTheLine) {
    try {
        render("ok\n\n{{ none.x.y }}");
        FAIL() << "no error";
    } catch (const TemplateError& e) {
        EXPECT_EQ(e.line(), 3) << e.what();
    }
}

TEST(JinjaLimits, LoopIterations) {
    RenderLimits limits;
    limits.max_loop_iterations = 1000;
    EXPECT_EQ(render("{% for i in range(10) %}{% for j in range(10) %}.{% endfor %}{% endfor %}", "{}", limits).size(), 100u);
    try {
        render("{% for i in range(100) %}{% for j in range(100) %}.{% endfor %}{% endfor %}", "{}", limits);
        FAIL() << "no error";
    } catch (const TemplateError& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Limit);
        EXPECT_NE(std::string(e.what()).find("max_loop_iterations"), std::string::npos) << e.what();
    }
}

TEST(JinjaLimits, RecursionDepth) {
    RenderLimits limits;
    limits.max_call_depth = 20;
    try {
        render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "{}", limits);
        FAIL() << "no error";
    } catch (const TemplateError& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Limit);
        EXPECT_NE(std::string(e.what()).find("max_call_depth"), std::string::npos) << e.what();
    }
}

TEST(JinjaLimits, OutputSize) {
    RenderLimits limits;
    limits.max_output_bytes = 1000;
    for (const char* src : {"{% for i in range(2000) %}x{% endfor %}", "{{ 'x' * 5000 }}",
                            "{% set ns = namespace(s='x') %}{% for i in range(20) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"}) {
        SCOPED_TRACE(src);
        try {
            render(src, "{}", limits);
            ADD_FAILURE() << "no error";
        } catch (const TemplateError& e) {
            EXPECT_EQ(e.kind(), ErrorKind::Limit);
            EXPECT_NE(std::string(e.what()).find("max_output_bytes"), std::string::npos) << e.what();
        }
    }
}

TEST(JinjaLimits, DeepNestingIsAnErrorNotACrash) {
    std::string deep = "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}";
    EXPECT_THROW(Template::parse(deep), TemplateError);
    std::string chain = "{{ 1";
    for (int k = 0; k < 5000; ++k) chain += " + 1";
    chain += " }}";
    EXPECT_THROW(Template::parse(chain), TemplateError);
    std::string blocks;
    for (int k = 0; k < 3000; ++k) blocks += "{% if true %}";
    EXPECT_THROW(Template::parse(blocks), TemplateError);
}

TEST(JinjaSandbox, CyclesAreFreedAndNoFileAccess) {
    // A namespace holding itself and a macro in the frame it closes over must not leak (ASan's
    // leak check runs over the tests) nor loop forever when printed.
    EXPECT_NO_THROW(render("{% set ns = namespace() %}{% set ns.me = ns %}{% macro m() %}{% endmacro %}{{ m() }}"));
    EXPECT_THROW(render("{% include 'x.txt' %}"), TemplateError);
    EXPECT_THROW(render("{% import 'x' as y %}"), TemplateError);
    EXPECT_THROW(render("{% extends 'base' %}"), TemplateError);
}

TEST(JinjaJson, ParsesWithKeyOrderAndTypes) {
    auto v = ember::jinja::parse_json(R"({"z": 1, "a": [true, null, 1.0, "s"], "m": {"y": 2, "b": 3}})");
    EXPECT_EQ(Template::parse("{{ v|tojson }}").render([&] {
        auto ctx = ember::jinja::Value::make_dict();
        ctx.dict->set(ember::jinja::Value::string("v"), v);
        return ctx;
    }()), R"({"z": 1, "a": [true, null, 1.0, "s"], "m": {"y": 2, "b": 3}})");
    EXPECT_THROW(ember::jinja::parse_json("{bad"), ember::Error);
}

}  // namespace
