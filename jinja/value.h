// jinja::Value: what a template expression evaluates to, with Python's semantics (Jinja2 runs on
// Python): none, bool, int (int64; overflow is an error, never wrapped), float, str (UTF-8),
// list / tuple / generator, dict (ordered by insertion, as Python's), namespace, undefined, and
// objects (macros, built-in functions, bound methods, the loop object).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ember::jinja {

class Renderer;
struct Value;

enum class Kind : uint8_t { Undefined, None, Bool, Int, Float, String, List, Dict, Object };

struct ListObj;
struct DictObj;
class Object;

struct Value {
    Kind kind = Kind::Undefined;
    bool b = false;
    bool security = false;  // an Undefined from a blocked attribute (SecurityError when used)
    bool markup = false;    // a String marked safe (|safe, |escape): `markup + str` escapes the str
    int64_t i = 0;
    double f = 0.0;
    std::string s;  // String text; Undefined: the error message when it is used
    std::shared_ptr<ListObj> list;
    std::shared_ptr<DictObj> dict;
    std::shared_ptr<Object> obj;

    static Value undefined(std::string message = "", bool security = false);
    static Value none();
    static Value boolean(bool v);
    static Value integer(int64_t v);
    static Value number(double v);
    static Value string(std::string v);
    static Value make_list(std::vector<Value> items = {}, bool tuple = false);
    static Value make_generator(std::vector<Value> items);
    static Value make_dict();
    static Value make_namespace();
    static Value object(std::shared_ptr<Object> o);

    bool is_undefined() const { return kind == Kind::Undefined; }
    bool is_none() const { return kind == Kind::None; }
    bool is_string() const { return kind == Kind::String; }
    bool is_int() const { return kind == Kind::Int; }
    bool is_number() const { return kind == Kind::Int || kind == Kind::Float || kind == Kind::Bool; }
    bool is_list() const { return kind == Kind::List; }
    bool is_dict() const { return kind == Kind::Dict; }
    bool is_namespace() const;
    bool is_mapping() const;
    bool is_callable() const;
    double as_double() const;  // numbers only

    bool truthy() const;
    std::string type_name() const;  // Python's type(x).__name__
};

struct ListObj {
    std::vector<Value> items;
    bool tuple = false;
    bool generator = false;  // map/select/... results: not JSON-serializable, no len()
};

// Insertion-ordered dict. Keys are hashable Values (str, numbers, none, tuples).
struct DictObj {
    std::vector<std::pair<Value, Value>> items;
    std::unordered_map<std::string, size_t> index;
    bool is_namespace = false;

    const Value* find(const Value& key) const;
    const Value* find(std::string_view key) const;
    void set(Value key, Value value);
    size_t size() const { return items.size(); }
};

struct CallArgs {
    std::vector<Value> args;
    std::vector<std::pair<std::string, Value>> kwargs;
    const Value* kwarg(std::string_view name) const;
};

// Macros, built-in callables, methods, the loop object, cycler, joiner.
class Object {
public:
    virtual ~Object() = default;
    virtual std::string type_name() const = 0;
    // Attribute lookup: true and `out` set when the object has the attribute.
    virtual bool get_attr(std::string_view name, Value& out) const;
    virtual bool callable() const { return false; }
    virtual Value call(Renderer& r, CallArgs& args);
    virtual void clear() {}  // breaks reference cycles at the end of a render
};


inline bool Value::is_namespace() const { return kind == Kind::Dict && dict->is_namespace; }
inline bool Value::is_mapping() const { return kind == Kind::Dict && !dict->is_namespace; }
inline bool Value::is_callable() const { return kind == Kind::Object && obj->callable(); }

// Python str(x) and repr(x).
std::string to_str(const Value& v);
std::string repr(const Value& v);
std::string float_repr(double d);
std::string py_string_repr(std::string_view s);

bool equals(const Value& a, const Value& b);
// Python's a < b (-1, 0, 1); throws TypeError when the types do not order.
int compare(const Value& a, const Value& b, std::string_view op);
std::string hash_key(const Value& key);  // throws TypeError for unhashable values

// Fails the way Jinja2's Undefined does when it is used (not printed, tested or iterated).
[[noreturn]] void fail_undefined(const Value& v);

// A sequence view for iteration: list items, dict keys, string characters, undefined = empty.
std::vector<Value> iterate(const Value& v);
// len(x); throws TypeError for objects without len.
int64_t length(const Value& v);

// ---- UTF-8 (code points, for len, slicing and indexing of str) ----
std::vector<std::string_view> utf8_chars(std::string_view s);
bool is_py_space(uint32_t cp);
std::string py_strip(std::string_view s, bool left, bool right, const std::string* chars);
std::string ascii_lower(std::string_view s);
std::string ascii_upper(std::string_view s);

}  // namespace ember::jinja
