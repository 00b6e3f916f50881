// Recursive descent over the token list. Precedence, lowest first: x if c else y, or, and, not,
// comparisons (== != < <= > >= in, not in), + -, ~, * / // %, **, unary - +, then postfix
// (.attr [key] (call)) and filters / tests (| name, is name), as in Jinja2.
#include "jinja/parser.h"

#include "jinja/error.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <initializer_list>

namespace ember::jinja {

namespace {

class Parser {
public:
    explicit Parser(const Lexed& lx) : lx_(lx) {}

    Body run() {
        std::string which;
        Body body = subparse({}, which);
        return body;
    }

private:
    const Lexed& lx_;
    size_t i_ = 0;
    int depth_ = 0;
    int loop_depth_ = 0;

    struct DepthGuard {
        Parser& p;
        explicit DepthGuard(Parser& parser, size_t pos) : p(parser) {
            if (++p.depth_ > kMaxParseDepth) p.error_at(pos, "template nesting too deep (more than " +
                                                                  std::to_string(kMaxParseDepth) + " levels)");
        }
        ~DepthGuard() { --p.depth_; }
    };

    const Token& cur() const { return lx_.tokens[i_]; }
    const Token& peek(size_t k = 1) const {
        size_t j = i_ + k;
        return j < lx_.tokens.size() ? lx_.tokens[j] : lx_.tokens.back();
    }
    void next() {
        if (i_ + 1 < lx_.tokens.size()) ++i_;
    }

    [[noreturn]] void error_at(size_t pos, const std::string& msg) const {
        int line, col;
        lx_.line_col(pos, line, col);
        throw TemplateError(ErrorKind::Syntax, msg, line, col);
    }

    static std::string describe(const Token& t) {
        switch (t.type) {
            case Tok::End: return "end of template";
            case Tok::BlockEnd: return "end of statement block";
            case Tok::VarEnd: return "end of print statement";
            case Tok::BlockBegin: return "begin of statement block";
            case Tok::VarBegin: return "begin of print statement";
            case Tok::Data: return "template data";
            case Tok::String: return "string";
            case Tok::Int: return "integer";
            case Tok::Float: return "float";
            default: return "'" + t.text + "'";
        }
    }

    [[noreturn]] void unexpected(const std::string& expected = "") const {
        const Token& t = cur();
        std::string msg = "unexpected " + describe(t);
        if (!expected.empty()) msg += ", expected " + expected;
        error_at(t.pos, msg);
    }

    bool is_op(std::string_view op) const { return cur().type == Tok::Op && cur().text == op; }
    bool is_name(std::string_view n) const { return cur().type == Tok::Name && cur().text == n; }
    void expect_op(std::string_view op) {
        if (!is_op(op)) unexpected("'" + std::string(op) + "'");
        next();
    }
    void expect_block_end() {
        if (cur().type != Tok::BlockEnd) unexpected("'end of statement block'");
        next();
    }
    std::string expect_name() {
        if (cur().type != Tok::Name) unexpected("name");
        std::string n = cur().text;
        next();
        return n;
    }

    NodePtr make(NodeKind k, size_t pos) { return std::make_unique<Node>(k, pos); }

    // Sets n's depth from its children; a too deep expression (a+a+a+..., a.b.c..., x|f|f|...)
    // is an error here rather than a deep recursion later.
    NodePtr finish(NodePtr n) {
        int d = 0;
        for (const NodePtr* p : {&n->a, &n->b, &n->c, &n->d})
            if (*p) d = std::max(d, (*p)->depth);
        for (const NodePtr& x : n->items) d = std::max(d, x->depth);
        for (const auto& kv : n->kwargs) d = std::max(d, kv.second->depth);
        n->depth = d + 1;
        if (n->depth > kMaxParseDepth) error_at(n->pos, "expression nested too deeply (more than " +
                                                            std::to_string(kMaxParseDepth) + " levels)");
        return n;
    }

    // ---- statements ----

    // Parses until a {% tag %} whose name is in end_tags; consumes `{%` and the tag name.
    Body subparse(std::initializer_list<std::string_view> end_tags, std::string& which) {
        Body body;
        while (true) {
            const Token& t = cur();
            if (t.type == Tok::End) {
                if (end_tags.size() == 0) return body;
                std::string names;
                for (std::string_view e : end_tags) names += (names.empty() ? "'" : " or '") + std::string(e) + "'";
                error_at(t.pos, "unexpected end of template; Jinja was looking for the following tags: " + names);
            }
            if (t.type == Tok::Data) {
                NodePtr n = make(NodeKind::Output, t.pos);
                n->name = t.text;
                body.push_back(std::move(n));
                next();
            } else if (t.type == Tok::VarBegin) {
                next();
                NodePtr n = make(NodeKind::Print, t.pos);
                n->a = parse_tuple(true);
                if (cur().type != Tok::VarEnd) unexpected("'end of print statement'");
                next();
                body.push_back(std::move(n));
            } else if (t.type == Tok::BlockBegin) {
                next();
                if (cur().type != Tok::Name) unexpected("statement name");
                for (std::string_view e : end_tags) {
                    if (cur().text == e) {
                        which = cur().text;
                        next();
                        return body;
                    }
                }
                parse_statement(body);
            } else {
                unexpected();
            }
        }
    }

    void parse_statement(Body& out) {
        const Token& t = cur();
        DepthGuard guard(*this, t.pos);
        const std::string tag = t.text;
        size_t pos = t.pos;
        next();
        if (tag == "if") return out.push_back(parse_if(pos));
        if (tag == "for") return out.push_back(parse_for(pos));
        if (tag == "set") return out.push_back(parse_set(pos));
        if (tag == "macro") return out.push_back(parse_macro(pos));
        if (tag == "call") return out.push_back(parse_call_block(pos));
        if (tag == "filter") {
            NodePtr n = make(NodeKind::FilterBlock, pos);
            n->b = parse_filter_chain(nullptr);
            expect_block_end();
            std::string w;
            n->body = subparse({"endfilter"}, w);
            expect_block_end();
            return out.push_back(std::move(n));
        }
        if (tag == "with") {
            NodePtr n = make(NodeKind::With, pos);
            while (cur().type != Tok::BlockEnd) {
                if (!n->params.empty()) expect_op(",");
                std::string name = expect_name();
                expect_op("=");
                n->params.emplace_back(name, parse_expression());
            }
            next();
            std::string w;
            n->body = subparse({"endwith"}, w);
            expect_block_end();
            return out.push_back(std::move(n));
        }
        if (tag == "generation") {  // transformers' tag: renders its body (in a scope of its own)
            NodePtr n = make(NodeKind::With, pos);
            expect_block_end();
            std::string w;
            n->body = subparse({"endgeneration"}, w);
            expect_block_end();
            return out.push_back(std::move(n));
        }
        if (tag == "break" || tag == "continue") {
            if (loop_depth_ == 0) error_at(pos, "'" + tag + "' outside of a loop");
            expect_block_end();
            return out.push_back(make(tag == "break" ? NodeKind::Break : NodeKind::Continue, pos));
        }
        error_at(pos, "Encountered unknown tag '" + tag + "'");
    }

    NodePtr parse_if(size_t pos) {
        NodePtr n = make(NodeKind::If, pos);
        while (true) {
            NodePtr cond = parse_tuple(false);
            expect_block_end();
            std::string which;
            Body body = subparse({"elif", "else", "endif"}, which);
            n->branches.emplace_back(std::move(cond), std::move(body));
            if (which == "elif") continue;
            if (which == "else") {
                expect_block_end();
                n->else_body = subparse({"endif"}, which);
            }
            expect_block_end();
            return n;
        }
    }

    NodePtr parse_for(size_t pos) {
        NodePtr n = make(NodeKind::For, pos);
        n->a = parse_assign_target(false);
        if (!is_name("in")) unexpected("'in'");
        next();
        n->b = parse_tuple(false, /*stop_at_recursive=*/true);
        if (is_name("if")) {
            next();
            n->c = parse_expression();
        }
        if (is_name("recursive")) {
            next();
            n->flag = true;
        }
        expect_block_end();
        std::string which;
        ++loop_depth_;
        n->body = subparse({"endfor", "else"}, which);
        --loop_depth_;
        if (which == "else") {
            expect_block_end();
            n->else_body = subparse({"endfor"}, which);
        }
        expect_block_end();
        return n;
    }

    NodePtr parse_set(size_t pos) {
        NodePtr target = parse_assign_target(true);
        if (is_op("=")) {
            next();
            NodePtr n = make(NodeKind::Set, pos);
            n->a = std::move(target);
            n->b = parse_tuple(true);
            expect_block_end();
            return n;
        }
        NodePtr n = make(NodeKind::SetBlock, pos);
        n->a = std::move(target);
        if (is_op("|")) n->b = parse_filter_chain(nullptr, /*leading_pipe=*/true);
        expect_block_end();
        std::string w;
        int saved = loop_depth_;
        n->body = subparse({"endset"}, w);
        loop_depth_ = saved;
        expect_block_end();
        return n;
    }

    void parse_params(Node& n) {
        expect_op("(");
        while (!is_op(")")) {
            if (!n.params.empty()) expect_op(",");
            if (is_op(")")) break;
            std::string name = expect_name();
            NodePtr def;
            if (is_op("=")) {
                next();
                def = parse_expression();
            }
            n.params.emplace_back(name, std::move(def));
        }
        next();
    }

    NodePtr parse_macro(size_t pos) {
        NodePtr n = make(NodeKind::Macro, pos);
        n->name = expect_name();
        parse_params(*n);
        expect_block_end();
        std::string w;
        int saved = loop_depth_;
        loop_depth_ = 0;
        n->body = subparse({"endmacro"}, w);
        loop_depth_ = saved;
        if (cur().type == Tok::Name) next();  // {% endmacro name %}
        expect_block_end();
        return n;
    }

    NodePtr parse_call_block(size_t pos) {
        NodePtr n = make(NodeKind::CallBlock, pos);
        if (is_op("(")) parse_params(*n);
        n->a = parse_expression();
        if (n->a->kind != NodeKind::Call) error_at(pos, "expected call");
        expect_block_end();
        std::string w;
        int saved = loop_depth_;
        loop_depth_ = 0;
        n->body = subparse({"endcall"}, w);
        loop_depth_ = saved;
        expect_block_end();
        return n;
    }

    NodePtr parse_assign_target(bool with_namespace) {
        size_t pos = cur().pos;
        if (with_namespace && cur().type == Tok::Name && peek().type == Tok::Op && peek().text == ".") {
            NodePtr n = make(NodeKind::NsAttr, pos);
            n->name = expect_name();
            next();
            n->value.s = expect_name();
            return n;
        }
        std::vector<NodePtr> items;
        bool tuple = false;
        while (true) {
            items.push_back(parse_target_primary());
            if (!is_op(",")) break;
            tuple = true;
            next();
            if (is_name("in") || is_op("=") || cur().type == Tok::BlockEnd || is_op("|")) break;
        }
        if (!tuple) return std::move(items[0]);
        NodePtr n = make(NodeKind::TupleLit, pos);
        n->items = std::move(items);
        return n;
    }

    NodePtr parse_target_primary() {
        size_t pos = cur().pos;
        DepthGuard guard(*this, pos);
        if (is_op("(")) {
            next();
            NodePtr inner = parse_assign_target(false);
            expect_op(")");
            if (inner->kind == NodeKind::Name) {
                return inner;
            }
            return inner;
        }
        if (cur().type != Tok::Name) unexpected("name");
        NodePtr n = make(NodeKind::Name, pos);
        n->name = expect_name();
        if (n->name == "true" || n->name == "false" || n->name == "none" || n->name == "True" ||
            n->name == "False" || n->name == "None")
            error_at(pos, "can't assign to '" + n->name + "'");
        return n;
    }

    // ---- expressions ----

    bool tuple_ends(bool stop_at_recursive) const {
        const Token& t = cur();
        if (t.type == Tok::VarEnd || t.type == Tok::BlockEnd || t.type == Tok::End) return true;
        if (t.type == Tok::Op && (t.text == ")" || t.text == "]" || t.text == "}")) return true;
        if (t.type == Tok::Name && (t.text == "if" || (stop_at_recursive && t.text == "recursive"))) return false;
        return false;
    }

    NodePtr parse_tuple(bool with_condexpr, bool stop_at_recursive = false) {
        size_t pos = cur().pos;
        std::vector<NodePtr> items;
        bool tuple = false;
        while (true) {
            if (!items.empty()) {
                if (!is_op(",")) break;
                next();
                tuple = true;
                if (tuple_ends(stop_at_recursive)) break;
            }
            items.push_back(with_condexpr ? parse_expression() : parse_or());
            if (stop_at_recursive && is_name("recursive")) break;
        }
        if (!tuple) return std::move(items[0]);
        NodePtr n = make(NodeKind::TupleLit, pos);
        n->items = std::move(items);
        return finish(std::move(n));
    }

    NodePtr parse_expression() {
        DepthGuard guard(*this, cur().pos);
        NodePtr expr = parse_or();
        while (is_name("if")) {
            size_t pos = cur().pos;
            next();
            NodePtr n = make(NodeKind::CondExpr, pos);
            n->a = parse_or();
            if (is_name("else")) {
                next();
                n->c = parse_expression();
            }
            n->b = std::move(expr);
            expr = finish(std::move(n));
        }
        return expr;
    }

    NodePtr binary(std::string op, NodePtr l, NodePtr r, size_t pos) {
        NodePtr n = make(NodeKind::Binary, pos);
        n->name = std::move(op);
        n->a = std::move(l);
        n->b = std::move(r);
        return finish(std::move(n));
    }

    NodePtr parse_or() {
        NodePtr l = parse_and();
        while (is_name("or")) {
            size_t pos = cur().pos;
            next();
            l = binary("or", std::move(l), parse_and(), pos);
        }
        return l;
    }

    NodePtr parse_and() {
        NodePtr l = parse_not();
        while (is_name("and")) {
            size_t pos = cur().pos;
            next();
            l = binary("and", std::move(l), parse_not(), pos);
        }
        return l;
    }

    NodePtr parse_not() {
        if (is_name("not")) {
            size_t pos = cur().pos;
            DepthGuard guard(*this, pos);
            next();
            NodePtr n = make(NodeKind::Unary, pos);
            n->name = "not";
            n->a = parse_not();
            return finish(std::move(n));
        }
        return parse_compare();
    }

    NodePtr parse_compare() {
        size_t pos = cur().pos;
        NodePtr first = parse_math1();
        NodePtr n;
        while (true) {
            std::string op;
            if (cur().type == Tok::Op && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                          cur().text == "<=" || cur().text == ">" || cur().text == ">=")) {
                op = cur().text;
                next();
            } else if (is_name("in")) {
                op = "in";
                next();
            } else if (is_name("not") && peek().type == Tok::Name && peek().text == "in") {
                op = "notin";
                next();
                next();
            } else {
                break;
            }
            if (!n) {
                n = make(NodeKind::Compare, pos);
                n->a = std::move(first);
            }
            n->ops.push_back(op);
            n->items.push_back(parse_math1());
        }
        return n ? finish(std::move(n)) : std::move(first);
    }

    NodePtr parse_math1() {
        NodePtr l = parse_concat();
        while (is_op("+") || is_op("-")) {
            std::string op = cur().text;
            size_t pos = cur().pos;
            next();
            l = binary(op, std::move(l), parse_concat(), pos);
        }
        return l;
    }

    NodePtr parse_concat() {
        NodePtr l = parse_math2();
        while (is_op("~")) {
            size_t pos = cur().pos;
            next();
            l = binary("~", std::move(l), parse_math2(), pos);
        }
        return l;
    }

    NodePtr parse_math2() {
        NodePtr l = parse_pow();
        while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
            std::string op = cur().text;
            size_t pos = cur().pos;
            next();
            l = binary(op, std::move(l), parse_pow(), pos);
        }
        return l;
    }

    NodePtr parse_pow() {
        NodePtr l = parse_unary(true);
        while (is_op("**")) {
            size_t pos = cur().pos;
            next();
            l = binary("**", std::move(l), parse_unary(true), pos);
        }
        return l;
    }

    NodePtr parse_unary(bool with_filter) {
        size_t pos = cur().pos;
        DepthGuard guard(*this, pos);
        NodePtr node;
        if (is_op("-") || is_op("+")) {
            std::string op = cur().text;
            next();
            node = make(NodeKind::Unary, pos);
            node->name = op;
            node->a = parse_unary(false);
            node = finish(std::move(node));
        } else {
            node = parse_primary();
        }
        node = parse_postfix(std::move(node));
        if (with_filter) node = parse_filter_expr(std::move(node));
        return node;
    }

    NodePtr parse_primary() {
        const Token& t = cur();
        size_t pos = t.pos;
        DepthGuard guard(*this, pos);
        switch (t.type) {
            case Tok::Name: {
                NodePtr n;
                const std::string& s = t.text;
                if (s == "true" || s == "True") {
                    n = make(NodeKind::Literal, pos);
                    n->value = Value::boolean(true);
                } else if (s == "false" || s == "False") {
                    n = make(NodeKind::Literal, pos);
                    n->value = Value::boolean(false);
                } else if (s == "none" || s == "None") {
                    n = make(NodeKind::Literal, pos);
                    n->value = Value::none();
                } else {
                    n = make(NodeKind::Name, pos);
                    n->name = s;
                }
                next();
                return n;
            }
            case Tok::String: {
                std::string s;
                while (cur().type == Tok::String) {
                    s += cur().text;
                    next();
                }
                NodePtr n = make(NodeKind::Literal, pos);
                n->value = Value::string(std::move(s));
                return n;
            }
            case Tok::Int: {
                int64_t v = 0;
                auto res = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
                NodePtr n = make(NodeKind::Literal, pos);
                if (res.ec != std::errc()) {
                    n->value = Value::number(std::strtod(t.text.c_str(), nullptr));  // too large for int64
                } else {
                    n->value = Value::integer(v);
                }
                next();
                return n;
            }
            case Tok::Float: {
                NodePtr n = make(NodeKind::Literal, pos);
                n->value = Value::number(std::strtod(t.text.c_str(), nullptr));
                next();
                return n;
            }
            case Tok::Op:
                if (t.text == "(") {
                    next();
                    if (is_op(")")) {
                        next();
                        return make(NodeKind::TupleLit, pos);
                    }
                    NodePtr inner = parse_tuple(true);
                    expect_op(")");
                    return inner;
                }
                if (t.text == "[") {
                    next();
                    NodePtr n = make(NodeKind::ListLit, pos);
                    while (!is_op("]")) {
                        if (!n->items.empty()) {
                            expect_op(",");
                            if (is_op("]")) break;
                        }
                        n->items.push_back(parse_expression());
                    }
                    next();
                    return finish(std::move(n));
                }
                if (t.text == "{") {
                    next();
                    NodePtr n = make(NodeKind::DictLit, pos);
                    while (!is_op("}")) {
                        if (!n->items.empty()) {
                            expect_op(",");
                            if (is_op("}")) break;
                        }
                        n->items.push_back(parse_expression());
                        expect_op(":");
                        n->items.push_back(parse_expression());
                    }
                    next();
                    return finish(std::move(n));
                }
                break;
            default: break;
        }
        unexpected();
    }

    NodePtr parse_postfix(NodePtr node) {
        while (true) {
            size_t pos = cur().pos;
            if (is_op(".")) {
                next();
                if (cur().type == Tok::Name) {
                    NodePtr n = make(NodeKind::Attr, pos);
                    n->name = cur().text;
                    n->a = std::move(node);
                    node = finish(std::move(n));
                    next();
                } else if (cur().type == Tok::Int) {
                    NodePtr n = make(NodeKind::Item, pos);
                    n->a = std::move(node);
                    n->b = parse_primary();
                    node = finish(std::move(n));
                } else {
                    unexpected("name or number");
                }
            } else if (is_op("[")) {
                next();
                node = parse_subscript(std::move(node), pos);
            } else if (is_op("(")) {
                node = parse_call(std::move(node));
            } else {
                return node;
            }
        }
    }

    NodePtr parse_slice_part() {
        if (is_op(":") || is_op("]") || is_op(",")) return nullptr;
        return parse_expression();
    }

    NodePtr parse_subscript(NodePtr node, size_t pos) {
        std::vector<NodePtr> keys;
        bool tuple = false;
        while (!is_op("]")) {
            if (!keys.empty()) {
                expect_op(",");
                tuple = true;
                if (is_op("]")) break;
            }
            size_t kpos = cur().pos;
            NodePtr start = parse_slice_part();
            if (is_op(":")) {
                next();
                NodePtr s = make(NodeKind::Slice, kpos);
                s->b = std::move(start);
                s->c = parse_slice_part();
                if (is_op(":")) {
                    next();
                    s->d = parse_slice_part();
                }
                keys.push_back(std::move(s));
            } else {
                if (!start) unexpected();
                keys.push_back(std::move(start));
            }
        }
        next();
        if (keys.empty()) error_at(pos, "expected subscript expression");
        if (keys.size() == 1 && !tuple && keys[0]->kind == NodeKind::Slice) {
            keys[0]->a = std::move(node);
            return finish(std::move(keys[0]));
        }
        for (const NodePtr& k : keys) {  // x[a:b, c] would index with a tuple of slice objects
            if (k->kind == NodeKind::Slice) error_at(k->pos, "a slice cannot be part of a tuple subscript");
        }
        NodePtr n = make(NodeKind::Item, pos);
        n->a = std::move(node);
        if (keys.size() == 1 && !tuple) {
            n->b = std::move(keys[0]);
        } else {
            NodePtr t = make(NodeKind::TupleLit, pos);
            t->items = std::move(keys);
            n->b = finish(std::move(t));
        }
        return finish(std::move(n));
    }

    void parse_call_args(Node& n) {
        expect_op("(");
        bool first = true;
        while (!is_op(")")) {
            if (!first) {
                expect_op(",");
                if (is_op(")")) break;
            }
            first = false;
            if (is_op("*")) {
                next();
                n.c = parse_expression();
            } else if (is_op("**")) {
                next();
                n.d = parse_expression();
            } else if (cur().type == Tok::Name && peek().type == Tok::Op && peek().text == "=") {
                std::string name = cur().text;
                next();
                next();
                n.kwargs.emplace_back(name, parse_expression());
            } else {
                n.items.push_back(parse_expression());
            }
        }
        next();
    }

    NodePtr parse_call(NodePtr node) {
        NodePtr n = make(NodeKind::Call, cur().pos);
        n->a = std::move(node);
        parse_call_args(*n);
        return finish(std::move(n));
    }

    std::string dotted_name() {
        std::string name = expect_name();
        while (is_op(".") && peek().type == Tok::Name) {
            next();
            name += "." + cur().text;
            next();
        }
        return name;
    }

    // `name(args) | name2 ...` for {% filter %} and {% set x | f %}: node is the innermost input.
    NodePtr parse_filter_chain(NodePtr node, bool leading_pipe = false) {
        bool first = true;
        while (true) {
            if (!first || leading_pipe) {
                if (!is_op("|")) break;
                next();
            }
            first = false;
            NodePtr f = make(NodeKind::Filter, cur().pos);
            f->name = dotted_name();
            if (is_op("(")) parse_call_args(*f);
            f->a = std::move(node);
            node = finish(std::move(f));
        }
        return node;
    }

    NodePtr parse_filter_expr(NodePtr node) {
        while (true) {
            if (is_op("|")) {
                next();
                NodePtr f = make(NodeKind::Filter, cur().pos);
                f->name = dotted_name();
                if (is_op("(")) parse_call_args(*f);
                f->a = std::move(node);
                node = finish(std::move(f));
            } else if (is_name("is")) {
                size_t pos = cur().pos;
                next();
                NodePtr t = make(NodeKind::Test, pos);
                if (is_name("not")) {
                    next();
                    t->flag = true;
                }
                t->name = dotted_name();
                if (is_op("(")) {
                    parse_call_args(*t);
                } else if ((cur().type == Tok::Name || cur().type == Tok::String || cur().type == Tok::Int ||
                            cur().type == Tok::Float || is_op("(") || is_op("[") || is_op("{")) &&
                           !is_name("else") && !is_name("or") && !is_name("and")) {
                    if (is_name("is")) error_at(cur().pos, "You cannot chain multiple tests with is");
                    NodePtr arg = parse_postfix(parse_primary());
                    t->items.push_back(std::move(arg));
                }
                t->a = std::move(node);
                node = finish(std::move(t));
            } else if (is_op("(")) {
                node = parse_call(std::move(node));
            } else {
                return node;
            }
        }
    }
};

}  // namespace

Body parse(const Lexed& lexed) { return Parser(lexed).run(); }

}  // namespace ember::jinja
