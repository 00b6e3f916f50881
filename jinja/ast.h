// The syntax tree the parser builds and the evaluator walks. One node type with a kind; each kind
// uses the fields its comment names. Every node keeps its position for runtime error messages.
#pragma once

#include "jinja/value.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ember::jinja {

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

enum class NodeKind {
    // expressions
    Literal,   // value
    Name,      // name
    ListLit,   // items
    TupleLit,  // items
    DictLit,   // items: key, value, key, value, ...
    Attr,      // a.name
    Item,      // a[b]
    Slice,     // a[b:c:d] (b, c, d may be null)
    Call,      // a(items, kwargs); star / dstar in c / d
    Filter,    // a|name(items, kwargs); a is null inside {% filter %}
    Test,      // a is [not: negate] name(items, kwargs)
    Unary,     // name ("-", "+", "not") a
    Binary,    // a name b: + - * / // % ** ~ and or
    Compare,   // a (ops[k] items[k])...
    CondExpr,  // b if a else c (c may be null)
    // statements
    Output,    // name: template text
    Print,     // a
    If,        // branches: (condition, body)...; else_body
    For,       // target a, iterable b, filter c; body, else_body; flag: recursive
    Set,       // target a, value b
    SetBlock,  // target a; body; filters: chain in b (a Filter node whose innermost a is null)
    Macro,     // name; params (name, default or null); body
    CallBlock, // call a; params; body
    FilterBlock, // filter chain b; body
    With,      // params (name, value); body
    Break,
    Continue,
    // assignment targets
    NsAttr,    // name.attr (attr in `value.s`)
};

struct Node {
    NodeKind kind;
    size_t pos = 0;
    std::string name;
    Value value;
    NodePtr a, b, c, d;
    std::vector<NodePtr> items;
    std::vector<std::pair<std::string, NodePtr>> kwargs;
    std::vector<std::string> ops;
    std::vector<std::pair<NodePtr, Body>> branches;
    std::vector<std::pair<std::string, NodePtr>> params;
    Body body, else_body;
    bool flag = false;
    int depth = 1;  // expression nesting, bounded by the parser

    Node(NodeKind k, size_t p) : kind(k), pos(p) {}
};

}  // namespace ember::jinja
