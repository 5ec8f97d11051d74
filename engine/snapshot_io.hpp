#pragma once
// The binary encoding of engine snapshots (Domain::save / Domain::load): a writer and a reader
// of varints, zigzag varints, length-prefixed bytes and a tagged binary JSON, in sections framed
// by a magic and a format version, each section with its length and checksum; plus put/get for
// the standard containers, so that each stored type lists its fields once (a `fields(io, x)`
// overload in namespace snap) and the same list writes and reads it.
//
//   blob    = magic "IPXSNAP\0" (8) | version u32 LE | section... (as many as the version has)
//   section = length u64 LE | checksum u64 LE (of its bytes) | bytes
//
// Sections can be made and read by different threads at once (Domain has two: the remembered
// replies, most of the bytes, kept encoded as they are made, and the rest; a load reads both at
// once). The reader checks the frame first
// (magic, version, every length, nothing after the last section), each section's checksum
// before reading it (a cut or damaged blob is refused before anything is parsed), then refuses
// any read past the section's end, any count larger than the bytes left, any integer that does
// not fit its type, and JSON nested deeper than kJsonDepthMax: it throws snap::Error naming the
// section and the offset, never reads out of bounds. Snapshots are read at start-up only,
// where exceptions are the project's way (STYLE.md).
//
// Back of the envelope: a snapshot of 1M journaled commands holds ~1M remembered replies
// (~330 bytes each: params and result text), ~600k orders (~50 bytes) and ~1M ledger transfers
// (~20 bytes), ~280 MB; the writer appends into reserved strings and the checksum mixes 32
// bytes per step in four lanes, so both run near memory speed, far below the replay they
// replace (~200k commands/s, 5 s for 1M). Of that, the engine thread encodes only what changed:
// the remembered replies, the transfers and the finished orders are kept encoded in sealed
// chunks (engine/remembered_log.hpp, engine/sealed_log.hpp), the live orders' metadata in
// pages of bytes plus the changes since (Market::OrderPage, merged on the writer's thread);
// the blob is put together in pieces (Blob), framed and checksummed on the snapshot writer's
// thread.
#include <boost/json.hpp>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "matching/types.hpp"

namespace ipx::engine::snap {

namespace json = boost::json;

inline constexpr char kMagic[8] = {'I', 'P', 'X', 'S', 'N', 'A', 'P', '\0'};
// 2: several pledges per asset; 3: the ledger's transfers and the finished orders in sections
// of their own (engine/sealed_log.hpp); 4: a market keeps its book's priority counter, and each
// order view its priority, instead of the resting orders' ids in priority order; 6: timers due
// at the same ms in creation order (Domain::IdOrder), the order a version-5 state did not keep;
// 7: a pledge records what licences paid it; 8: the same bytes, under rules that changed what
// a journal replays to (an asset taken in lieu has no hammer price, a failed sale's re-run
// opens renotice after the failure, assets answer open_licence): a version-7 state was made
// under the old ones, so the first start replays the journal from seq 1; 9: the same bytes,
// with the state hash of scheme 2 (below), which a version-8 state does not carry
inline constexpr std::uint32_t kVersion = 9;
// Which function Domain::state_hash() is; a snapshot row records it (schema/0011): 1 hashed
// each reply byte by byte, 2 eight bytes at a time (engine/domain.cpp, mix_bytes). A replay
// checks only the rows of its own scheme.
inline constexpr int kStateHashScheme = 2;
inline constexpr std::size_t kHeadBytes = 8 + 4;
inline constexpr std::size_t kSectionHeadBytes = 8 + 8;
inline constexpr int kJsonDepthMax = 32;

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::uint64_t checksum(std::string_view bytes);

// checksum() of bytes given in pieces: the total size first (it seeds the lanes), then the
// pieces in order; value() equals checksum() of their concatenation.
class Checksum {
 public:
  explicit Checksum(std::size_t total);
  void add(std::string_view piece);
  std::uint64_t value() const;

 private:
  std::uint64_t lane_[4];
  char carry_[32];
  std::size_t carried_ = 0;
};

// A snapshot's bytes as pieces (Domain::Image::blob()): sealed chunks shared with the live
// domain, which never change (engine/sealed_log.hpp, engine/remembered_log.hpp: a store may
// keep each once, engine/pg/snapshots.hpp), and bytes of the blob's own between them.
struct Blob {
  struct Piece {
    std::shared_ptr<const std::string> chunk;  // set: this chunk's bytes from `from` on
    std::size_t from = 0;
    std::string own;  // otherwise these
    std::string_view bytes() const {
      return chunk ? std::string_view(*chunk).substr(from) : std::string_view(own);
    }
  };
  std::vector<Piece> pieces;

  void add(std::string_view own);  // appended to the last piece when it is the blob's own
  void add(std::shared_ptr<const std::string> chunk, std::size_t from = 0);
  // A section (snapshot_io's frame): its head (length, checksum of `content`), then `content`.
  void add_section(const Blob& content);
  std::size_t size() const;
  std::string join() const;  // the bytes
};

// Framing. begin_frame clears `out` and writes the magic and version; append_section adds a
// section whole (Blob::add_section adds one made of pieces).
void begin_frame(std::string& out);
void append_section(std::string& out, std::string_view bytes);

struct Section {
  const char* name;  // for error messages
  std::string_view bytes;
  std::uint64_t checksum = 0;  // as stored; Reader checks it
};
// Splits a blob into its `names.size()` sections; throws Error when the frame does not hold.
std::vector<Section> read_frame(std::string_view blob, std::initializer_list<const char*> names);

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}  // appends
  std::size_t size() const { return out_.size(); }

  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u64(std::uint64_t v) {  // varint (LEB128); inline: a snapshot writes millions
    if (v < 0x80) {
      out_.push_back(static_cast<char>(v));
      return;
    }
    char buf[10];
    std::size_t n = 0;
    while (v >= 0x80) {
      buf[n++] = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    buf[n++] = static_cast<char>(v);
    out_.append(buf, n);
  }
  void i64(std::int64_t v) {
    u64((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
  }
  void le64(std::uint64_t v);  // fixed 8 bytes
  void bytes(std::string_view s) {
    u64(s.size());
    out_.append(s);
  }
  void raw(std::string_view s) { out_.append(s); }  // bytes already encoded
  // Writes each argument with its put() overload (a field list: io(a.x, a.y, ...)).
  template <class... Ts>
  void operator()(const Ts&... xs);

 private:
  std::string& out_;
};

class Reader {
 public:
  // Checks the section's checksum; throws Error when it does not hold.
  explicit Reader(const Section& s);
  // Bytes this process wrote itself (no checksum to check): engine/remembered_log.hpp's.
  Reader(const char* name, std::string_view bytes) : name_(name), in_(bytes) {}
  bool done() const { return pos_ == in_.size(); }
  std::size_t offset() const { return pos_; }
  // The bytes read since `from` (an earlier offset()).
  std::string_view read_since(std::size_t from) const { return in_.substr(from, pos_ - from); }

  std::uint8_t u8();
  std::uint64_t u64();
  std::int64_t i64() {
    const std::uint64_t z = u64();
    return static_cast<std::int64_t>((z >> 1) ^ (~(z & 1) + 1));
  }
  std::uint64_t le64();
  std::string_view bytes();
  // A container's element count: at most the bytes left (every element takes at least one).
  std::size_t count();
  [[noreturn]] void fail(const std::string& what) const;
  template <class... Ts>
  void operator()(Ts&... xs);

 private:
  const char* name_;
  std::string_view in_;
  std::size_t pos_ = 0;
};

// ---- put / get for values and the standard containers --------------------------------------

inline void put(Writer& w, bool v) {
  w.u64(v ? 1 : 0);
}
inline void get(Reader& r, bool& v) {
  const std::uint64_t x = r.u64();
  if (x > 1) r.fail("a bool is 0 or 1");
  v = x == 1;
}

template <std::integral T>
void put(Writer& w, T v) {
  if constexpr (std::is_signed_v<T>)
    w.i64(v);
  else
    w.u64(v);
}
template <std::integral T>
void get(Reader& r, T& v) {
  if constexpr (std::is_signed_v<T>) {
    const std::int64_t x = r.i64();
    if (!std::in_range<T>(x)) r.fail("an integer out of its type's range");
    v = static_cast<T>(x);
  } else {
    const std::uint64_t x = r.u64();
    if (!std::in_range<T>(x)) r.fail("an integer out of its type's range");
    v = static_cast<T>(x);
  }
}

// Enums as their underlying integer; whoever uses the value checks its range (the matching
// mechanisms' restore, Outcome's code below).
template <class E>
requires std::is_enum_v<E>
void put(Writer& w, E v) {
  put(w, static_cast<std::underlying_type_t<E>>(v));
}
template <class E>
requires std::is_enum_v<E>
void get(Reader& r, E& v) {
  std::underlying_type_t<E> x{};
  get(r, x);
  v = static_cast<E>(x);
}

template <class Tag>
void put(Writer& w, const Strong<Tag>& v) {
  w.i64(v.v);
}
template <class Tag>
void get(Reader& r, Strong<Tag>& v) {
  v.v = r.i64();
}

inline void put(Writer& w, const std::string& s) {
  w.bytes(s);
}
inline void get(Reader& r, std::string& s) {
  s.assign(r.bytes());
}

// Binary JSON: a tag byte per value (null, false, true, int64, uint64, double, string, array,
// object); int64 zigzag, uint64 varint, double its IEEE bits, so every value reads back with
// its kind and bits (int64 5 and uint64 5 stay apart; the outcome hash sees the same text).
void put(Writer& w, const json::value& v);
void get(Reader& r, json::value& v);
void put(Writer& w, const json::object& o);
void get(Reader& r, json::object& o);
void put(Writer& w, const json::array& a);
void get(Reader& r, json::array& a);

template <class T>
void put(Writer& w, const std::optional<T>& v) {
  put(w, v.has_value());
  if (v) put(w, *v);
}
template <class T>
void get(Reader& r, std::optional<T>& v) {
  bool has = false;
  get(r, has);
  v.reset();
  if (has) get(r, v.emplace());
}

template <class A, class B>
void put(Writer& w, const std::pair<A, B>& p) {
  put(w, p.first);
  put(w, p.second);
}
template <class A, class B>
void get(Reader& r, std::pair<A, B>& p) {
  get(r, p.first);
  get(r, p.second);
}

template <class T>
void put(Writer& w, const std::vector<T>& v) {
  w.u64(v.size());
  for (const T& x : v) put(w, x);
}
template <class T>
void get(Reader& r, std::vector<T>& v) {
  const std::size_t n = r.count();
  v.clear();
  v.reserve(n);
  for (std::size_t i = 0; i < n; ++i) get(r, v.emplace_back());
}

// Ordered containers are written in their order and read back with an end hint (O(1) per
// element); keys must come strictly increasing, so a repeated or misordered key is refused.
template <class K, class C>
void put(Writer& w, const std::set<K, C>& s) {
  w.u64(s.size());
  for (const K& k : s) put(w, k);
}
template <class K, class C>
void get(Reader& r, std::set<K, C>& s) {
  const std::size_t n = r.count();
  s.clear();
  for (std::size_t i = 0; i < n; ++i) {
    K k{};
    get(r, k);
    if (!s.empty() && !s.key_comp()(*s.rbegin(), k)) r.fail("set keys out of order");
    s.emplace_hint(s.end(), std::move(k));
  }
}

template <class K, class V, class C>
void put(Writer& w, const std::map<K, V, C>& m) {
  w.u64(m.size());
  for (const auto& [k, v] : m) {
    put(w, k);
    put(w, v);
  }
}
template <class K, class V, class C>
void get(Reader& r, std::map<K, V, C>& m) {
  const std::size_t n = r.count();
  m.clear();
  for (std::size_t i = 0; i < n; ++i) {
    K k{};
    get(r, k);
    if (!m.empty() && !m.key_comp()(m.rbegin()->first, k)) r.fail("map keys out of order");
    get(r, m.emplace_hint(m.end(), std::move(k), V{})->second);
  }
}

// A multimap keeps equal keys in insertion order, which can matter (timers due at the same
// ms fire in that order): written in iteration order, read back appended in it.
template <class K, class V, class C>
void put(Writer& w, const std::multimap<K, V, C>& m) {
  w.u64(m.size());
  for (const auto& [k, v] : m) {
    put(w, k);
    put(w, v);
  }
}
template <class K, class V, class C>
void get(Reader& r, std::multimap<K, V, C>& m) {
  const std::size_t n = r.count();
  m.clear();
  for (std::size_t i = 0; i < n; ++i) {
    K k{};
    get(r, k);
    if (!m.empty() && m.key_comp()(k, m.rbegin()->first)) r.fail("multimap keys out of order");
    get(r, m.emplace_hint(m.end(), std::move(k), V{})->second);
  }
}

// Any type with a field list: fields(io, x) in namespace snap, for const x (writing) and
// mutable x (reading).
template <class T>
requires requires(Writer& w, const T& x) {
  fields(w, x);
}
void put(Writer& w, const T& x) {
  fields(w, x);
}
template <class T>
requires requires(Reader& r, T& x) {
  fields(r, x);
}
void get(Reader& r, T& x) {
  fields(r, x);
}

template <class... Ts>
void Writer::operator()(const Ts&... xs) {
  (put(*this, xs), ...);
}
template <class... Ts>
void Reader::operator()(Ts&... xs) {
  (get(*this, xs), ...);
}

// T or const T (for the field lists, which serve both directions).
template <class T, class U>
concept Like = std::same_as<std::remove_const_t<T>, U>;

}  // namespace ipx::engine::snap
