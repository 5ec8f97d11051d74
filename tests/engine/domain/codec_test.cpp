// engine/codec.hpp: encode_text writes the very bytes json::serialize(encode(p)) gives (the
// journal's params and the idempotency check compare them), for every method's params, with
// every optional field present or absent, every control character, quote and backslash, and
// the int64 extremes.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <typeinfo>
#include <string>
#include <utility>
#include <variant>

#include "engine/codec.hpp"
#include "engine/methods.hpp"

namespace ipx::engine {
namespace {

namespace json = boost::json;
using Rng = std::mt19937_64;

std::string random_text(Rng& rng) {
  // Every byte that json::serialize escapes, some it does not, and UTF-8.
  static const std::string pieces[] = {"a", "Z", "0", " ", "\"", "\\", "/", "\x7f", "\xc3\xa9",
                                       "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "{", "}", ":"};
  std::string s;
  const int n = static_cast<int>(rng() % 12);
  for (int i = 0; i < n; ++i) {
    if (rng() % 3 == 0) {
      s += static_cast<char>(rng() % 0x20);  // a control character
    } else {
      s += pieces[rng() % std::size(pieces)];
    }
  }
  return s;
}

template <class V>
void fill(V& v, Rng& rng);

template <class S, class M>
void fill_field(S& s, const codec::Field<S, M>& f, Rng& rng) {
  fill(s.*(f.member), rng);
}

template <class V>
void fill(V& v, Rng& rng) {
  if constexpr (std::is_same_v<V, std::string>) {
    v = random_text(rng);
  } else if constexpr (std::is_same_v<V, bool>) {
    v = rng() % 2 == 0;
  } else if constexpr (std::is_same_v<V, std::int64_t>) {
    static constexpr std::int64_t kEdges[] = {0, -1, 1, std::numeric_limits<std::int64_t>::min(),
                                              std::numeric_limits<std::int64_t>::max()};
    v = rng() % 2 == 0 ? kEdges[rng() % std::size(kEdges)] : static_cast<std::int64_t>(rng());
  } else if constexpr (codec::is_optional<V>::value) {
    if (rng() % 3 == 0) {
      v.reset();
    } else {
      typename V::value_type inner{};
      fill(inner, rng);
      v = std::move(inner);
    }
  } else if constexpr (codec::is_vector<V>::value) {
    v.resize(rng() % 4);
    for (auto& e : v) fill(e, rng);
  } else {
    std::apply([&](const auto&... f) { (fill_field(v, f, rng), ...); }, V::fields());
  }
}

template <class P>
void check_type(Rng& rng, int& checked) {
  if constexpr (codec::Described<P>) {
    P p{};
    for (int round = 0; round < 200; ++round) {
      std::string text;
      codec::encode_text(p, text);
      ASSERT_EQ(text, json::serialize(codec::encode(p))) << typeid(P).name();
      ++checked;
      p = P{};
      fill(p, rng);
    }
  }
}

template <std::size_t... I>
void check_all(Rng& rng, int& checked, std::index_sequence<I...>) {
  (check_type<std::variant_alternative_t<I, Params>>(rng, checked), ...);
}

TEST(Codec, EncodeTextIsSerializeOfEncodeForEveryParamsType) {
  Rng rng(7);
  int checked = 0;
  check_all(rng, checked, std::make_index_sequence<std::variant_size_v<Params>>());
  EXPECT_GT(checked, 200 * 20);
}

TEST(Codec, AppendStringEscapesAsSerializeDoes) {
  for (int c = 0; c < 256; ++c) {
    const std::string s = std::string("x") + static_cast<char>(c) + "y";
    std::string out;
    codec::append_string(out, s);
    EXPECT_EQ(out, json::serialize(json::string(s))) << "byte " << c;
  }
  std::string out;
  codec::append_string(out, "");
  EXPECT_EQ(out, "\"\"");
}

}  // namespace
}  // namespace ipx::engine
