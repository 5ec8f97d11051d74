#pragma once
// The one JSON codec of the protocol's params: strict parsing (unknown field, wrong type,
// missing required field, value out of range -> an error naming the field) and the reverse
// encoding, both driven by one table of field descriptors per params struct.
//
// The journal stores each command as the canonical encoding of its typed params, and replay
// decodes it through the same code, so there is exactly one codec to get right.
#include <boost/json.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

namespace ipx::engine::codec {

namespace json = boost::json;

// A check on a parsed value; returns nullptr when fine, else a message ("must be > 0").
template <class V>
using Check = const char* (*)(const V&);

template <class S, class M>
struct Field {
  std::string_view name;
  M S::*member;
  bool required;
  Check<M> check;
};

template <class S, class M>
constexpr Field<S, M> req(std::string_view name, M S::*m, Check<M> check = nullptr) {
  return {name, m, true, check};
}
template <class S, class M>
constexpr Field<S, M> opt(std::string_view name, M S::*m, Check<M> check = nullptr) {
  return {name, m, false, check};
}

template <class T>
concept Described = requires { T::fields(); };

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};

struct ParseError {
  std::string field;    // dotted path, e.g. "plan.cut_bp"
  std::string message;  // "must be > 0"
  std::string text() const { return field.empty() ? message : field + ": " + message; }
};

template <Described T>
bool parse(const json::object& obj, T& out, ParseError& err, std::string_view path = {});

// Appends `s` as a JSON string literal, escaped exactly as json::serialize escapes it: '"' and
// '\\' with a backslash, the control characters as \b \t \n \f \r or \u00xx, every other byte
// as it is.
inline void append_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  const char* run = s.data();
  const char* const end = s.data() + s.size();
  for (const char* p = run; p != end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(run, p);
    run = p + 1;
    out += '\\';
    switch (c) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '\b': out += 'b'; break;
      case '\t': out += 't'; break;
      case '\n': out += 'n'; break;
      case '\f': out += 'f'; break;
      case '\r': out += 'r'; break;
      default:
        out += "u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out.append(run, end);
  out += '"';
}

namespace detail {

inline std::string join(std::string_view path, std::string_view name) {
  if (path.empty()) return std::string(name);
  std::string s(path);
  s += '.';
  s += name;
  return s;
}

template <class V>
bool read(const json::value& v, V& out, ParseError& err, const std::string& path) {
  if constexpr (std::is_same_v<V, std::string>) {
    if (!v.is_string()) return err = {path, "must be a string"}, false;
    out.assign(v.get_string().data(), v.get_string().size());
    return true;
  } else if constexpr (std::is_same_v<V, bool>) {
    if (!v.is_bool()) return err = {path, "must be a boolean"}, false;
    out = v.get_bool();
    return true;
  } else if constexpr (std::is_same_v<V, std::int64_t>) {
    if (v.is_int64()) return out = v.get_int64(), true;
    if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
      out = static_cast<std::int64_t>(v.get_uint64());
      return true;
    }
    return err = {path, "must be a signed 64-bit integer"}, false;
  } else if constexpr (is_optional<V>::value) {
    typename V::value_type inner{};
    if (!read(v, inner, err, path)) return false;
    out = std::move(inner);
    return true;
  } else if constexpr (is_vector<V>::value) {
    if (!v.is_array()) return err = {path, "must be an array"}, false;
    const auto& arr = v.get_array();
    if (arr.size() > 1024) return err = {path, "at most 1024 elements"}, false;
    out.clear();
    out.resize(arr.size());
    for (std::size_t i = 0; i < arr.size(); ++i) {
      if (!read(arr[i], out[i], err, path + "[" + std::to_string(i) + "]")) return false;
    }
    return true;
  } else {
    static_assert(Described<V>, "unsupported field type");
    if (!v.is_object()) return err = {path, "must be an object"}, false;
    return parse(v.get_object(), out, err, path);
  }
}

template <class V>
const char* run_check(Check<V> check, const V& v) {
  return check ? check(v) : nullptr;
}

template <class S, class M>
bool read_field(const json::object& obj, S& out, const Field<S, M>& f, ParseError& err,
                std::string_view path) {
  const json::value* v = obj.if_contains(f.name);
  std::string fpath = join(path, f.name);
  if (v == nullptr || (v->is_null() && !f.required)) {
    if (f.required) return err = {fpath, "is required"}, false;
    return true;
  }
  if (!read(*v, out.*(f.member), err, fpath)) return false;
  if (const char* msg = run_check(f.check, out.*(f.member))) return err = {fpath, msg}, false;
  return true;
}

template <class S, class M>
void write_field(json::object& o, const S& s, const Field<S, M>& f);

template <class V>
json::value write(const V& v) {
  if constexpr (std::is_same_v<V, std::string>) {
    return json::string(v);
  } else if constexpr (std::is_same_v<V, bool> || std::is_same_v<V, std::int64_t>) {
    return json::value(v);
  } else if constexpr (is_optional<V>::value) {
    return v ? write(*v) : json::value(nullptr);
  } else if constexpr (is_vector<V>::value) {
    json::array a;
    a.reserve(v.size());
    for (const auto& e : v) a.push_back(write(e));
    return a;
  } else {
    json::object o;
    std::apply([&](const auto&... f) { ((write_field(o, v, f)), ...); }, V::fields());
    return o;
  }
}

template <class S, class M>
void write_field(json::object& o, const S& s, const Field<S, M>& f) {
  const M& m = s.*(f.member);
  if constexpr (is_optional<M>::value) {
    if (!m) return;
  }
  o[f.name] = write(m);
}

// The text json::serialize(write(v)) gives, written straight into `out`, with no object on
// the way (the engine encodes every command's params: docs/BENCHMARKS.md "Sixth round").
template <class S, class M>
void write_field_text(std::string& out, bool& first, const S& s, const Field<S, M>& f);

template <class V>
void write_text(std::string& out, const V& v) {
  if constexpr (std::is_same_v<V, std::string>) {
    append_string(out, v);
  } else if constexpr (std::is_same_v<V, bool>) {
    out += v ? "true" : "false";
  } else if constexpr (std::is_same_v<V, std::int64_t>) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  } else if constexpr (is_optional<V>::value) {
    if (v) {
      write_text(out, *v);
    } else {
      out += "null";
    }
  } else if constexpr (is_vector<V>::value) {
    out += '[';
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i > 0) out += ',';
      write_text(out, v[i]);
    }
    out += ']';
  } else {
    out += '{';
    bool first = true;
    std::apply([&](const auto&... f) { ((write_field_text(out, first, v, f)), ...); },
               V::fields());
    out += '}';
  }
}

template <class S, class M>
void write_field_text(std::string& out, bool& first, const S& s, const Field<S, M>& f) {
  const M& m = s.*(f.member);
  if constexpr (is_optional<M>::value) {
    if (!m) return;
  }
  if (!first) out += ',';
  first = false;
  append_string(out, f.name);
  out += ':';
  write_text(out, m);
}

}  // namespace detail

// Parses `obj` into `out` strictly. Unknown keys are errors; `request_id` is allowed at the top
// level only (the engine handles it before the params reach a method).
template <Described T>
bool parse(const json::object& obj, T& out, ParseError& err, std::string_view path) {
  constexpr auto fields = T::fields();
  for (const auto& kv : obj) {
    if (path.empty() && kv.key() == "request_id") continue;
    bool known = std::apply([&](const auto&... f) { return ((f.name == kv.key()) || ...); },
                            fields);
    if (!known) return err = {detail::join(path, kv.key()), "unknown field"}, false;
  }
  return std::apply(
      [&](const auto&... f) { return (detail::read_field(obj, out, f, err, path) && ...); },
      fields);
}

template <Described T>
json::object encode(const T& v) {
  return detail::write(v).as_object();
}

// json::serialize(encode(v)), appended to `out` without building the object.
template <Described T>
void encode_text(const T& v, std::string& out) {
  detail::write_text(out, v);
}

// --- common checks -------------------------------------------------------------------------
inline const char* positive(const std::int64_t& v) { return v > 0 ? nullptr : "must be > 0"; }
inline const char* non_negative(const std::int64_t& v) {
  return v >= 0 ? nullptr : "must be >= 0";
}
// Bounds that keep every sum and product the engine makes of them inside int64 (PROTOCOL
// "Envelope": a value out of range is BAD_REQUEST with the field named): money up to 10^15
// fen (10 trillion CNY, matching::kAmountMax), durations up to 100 years, times up to the
// end of the year 9999.
inline constexpr std::int64_t kMoneyMax = 1'000'000'000'000'000;
inline constexpr std::int64_t kDurationMax = 36'525LL * 24 * 3600 * 1000;  // 100 years
inline constexpr std::int64_t kTimeMax = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z
inline const char* money(const std::int64_t& v) {
  return v > 0 && v <= kMoneyMax ? nullptr : "must be > 0 and at most 1000000000000000 fen";
}
inline const char* money_or_zero(const std::int64_t& v) {
  return v >= 0 && v <= kMoneyMax ? nullptr : "must be >= 0 and at most 1000000000000000 fen";
}
inline const char* duration(const std::int64_t& v) {
  return v > 0 && v <= kDurationMax ? nullptr : "must be > 0 and at most 100 years of ms";
}
inline const char* duration_or_zero(const std::int64_t& v) {
  return v >= 0 && v <= kDurationMax ? nullptr : "must be >= 0 and at most 100 years of ms";
}
inline const char* time_ms(const std::int64_t& v) {
  return v > 0 && v <= kTimeMax ? nullptr : "must be > 0 and no later than the year 9999";
}
inline const char* time_ms_or_zero(const std::int64_t& v) {
  return v >= 0 && v <= kTimeMax ? nullptr : "must be >= 0 and no later than the year 9999";
}
inline const char* basis_points(const std::int64_t& v) {
  return v >= 0 && v <= 10'000 ? nullptr : "must be between 0 and 10000";
}
// Lengths are in characters (UTF-8 code points), as PROTOCOL.md states them, not bytes; the
// text is valid UTF-8 (the WebSocket layer and the JSON parser have checked it).
inline std::size_t utf8_chars(std::string_view v) {
  std::size_t n = 0;
  for (char c : v) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}
inline const char* id_string(const std::string& v) {
  return !v.empty() && utf8_chars(v) <= 64 ? nullptr : "must be 1-64 characters";
}
inline const char* text_string(const std::string& v) {
  return utf8_chars(v) <= 256 ? nullptr : "must be at most 256 characters";
}
template <class V, const char* (*F)(const V&)>
const char* maybe(const std::optional<V>& v) {
  return v ? F(*v) : nullptr;
}
inline const char* non_empty_text(const std::string& v) {
  return !v.empty() && utf8_chars(v) <= 256 ? nullptr : "must be 1-256 characters";
}

}  // namespace ipx::engine::codec
