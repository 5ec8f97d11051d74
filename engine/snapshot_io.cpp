#include "engine/snapshot_io.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace ipx::engine::snap {

namespace {

// JSON value tags.
enum : std::uint8_t {
  t_null,
  t_false,
  t_true,
  t_int64,
  t_uint64,
  t_double,
  t_string,
  t_array,
  t_object
};

std::uint64_t read_le(std::string_view in, std::size_t at, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) {
    v |= std::uint64_t{static_cast<unsigned char>(in[at + static_cast<std::size_t>(i)])} << (8 * i);
  }
  return v;
}

void append_le(std::string& out, std::uint64_t v, int n) {
  char buf[8];
  for (int i = 0; i < n; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  out.append(buf, static_cast<std::size_t>(n));
}

}  // namespace

// Multiply-xorshift over 8-byte words in four independent lanes (one multiply chain would
// wait on each product: ~1.5 GB/s; four overlap), then the tail: not cryptographic (the
// journal's SHA-256 chain is the tamper evidence); it tells a whole section from a cut or
// damaged one.
namespace {
std::uint64_t mix(std::uint64_t h, std::uint64_t w) {
  h = (h ^ w) * 0xBF58'476D'1CE4'E5B9ull;
  return h ^ (h >> 31);
}
}  // namespace

Checksum::Checksum(std::size_t total)
    : lane_{0x9E37'79B9'7F4A'7C15ull ^ total, 0xC2B2'AE3D'27D4'EB4Full, 0x1656'67B1'9E37'79F9ull,
            0x85EB'CA77'C2B2'AE63ull} {}

void Checksum::add(std::string_view bytes) {
  std::size_t i = 0;
  if (carried_ > 0) {  // complete the block a previous piece began
    const std::size_t n = std::min(bytes.size(), 32 - carried_);
    std::memcpy(carry_ + carried_, bytes.data(), n);
    carried_ += n;
    i = n;
    if (carried_ < 32) return;
    const std::string_view block(carry_, 32);
    for (std::size_t k = 0; k < 4; ++k) lane_[k] = mix(lane_[k], read_le(block, 8 * k, 8));
    carried_ = 0;
  }
  for (; i + 32 <= bytes.size(); i += 32) {
    for (std::size_t k = 0; k < 4; ++k) lane_[k] = mix(lane_[k], read_le(bytes, i + 8 * k, 8));
  }
  std::memcpy(carry_, bytes.data() + i, bytes.size() - i);
  carried_ = bytes.size() - i;
}

std::uint64_t Checksum::value() const {
  std::uint64_t h = mix(mix(mix(lane_[0], lane_[1]), lane_[2]), lane_[3]);
  for (std::size_t i = 0; i < carried_; ++i) h = mix(h, static_cast<unsigned char>(carry_[i]));
  return h;
}

// Multiply-xorshift over 8-byte words in four independent lanes (one multiply chain would
// wait on each product: ~1.5 GB/s; four overlap), then the tail: not cryptographic (the
// journal's SHA-256 chain is the tamper evidence); it tells a whole section from a cut or
// damaged one.
std::uint64_t checksum(std::string_view bytes) {
  Checksum c(bytes.size());
  c.add(bytes);
  return c.value();
}

// ---- blobs in pieces ---------------------------------------------------------------------

void Blob::add(std::string_view own) {
  if (own.empty()) return;
  if (pieces.empty() || pieces.back().chunk) pieces.emplace_back();
  pieces.back().own.append(own);
}

void Blob::add(std::shared_ptr<const std::string> chunk, std::size_t from) {
  if (from >= chunk->size()) return;
  pieces.push_back(Piece{std::move(chunk), from, {}});
}

void Blob::add_section(const Blob& content) {
  const std::size_t n = content.size();
  Checksum c(n);
  for (const Piece& p : content.pieces) c.add(p.bytes());
  std::string head;
  append_le(head, n, 8);
  append_le(head, c.value(), 8);
  add(head);
  for (const Piece& p : content.pieces) {
    if (p.chunk) {
      add(p.chunk, p.from);
    } else {
      add(p.own);
    }
  }
}

std::size_t Blob::size() const {
  std::size_t n = 0;
  for (const Piece& p : pieces) n += p.bytes().size();
  return n;
}

std::string Blob::join() const {
  std::string out;
  out.reserve(size());
  for (const Piece& p : pieces) out.append(p.bytes());
  return out;
}

// ---- framing --------------------------------------------------------------------------------

void begin_frame(std::string& out) {
  out.clear();  // keeps its capacity
  out.append(kMagic, sizeof kMagic);
  append_le(out, kVersion, 4);
}

void append_section(std::string& out, std::string_view bytes) {
  append_le(out, bytes.size(), 8);
  append_le(out, checksum(bytes), 8);
  out.append(bytes);
}

std::vector<Section> read_frame(std::string_view blob, std::initializer_list<const char*> names) {
  if (blob.size() < kHeadBytes || std::memcmp(blob.data(), kMagic, sizeof kMagic) != 0) {
    throw Error("snapshot: not a domain snapshot (no magic; " + std::to_string(blob.size()) +
                " bytes)");
  }
  const auto version = static_cast<std::uint32_t>(read_le(blob, 8, 4));
  if (version != kVersion) {
    throw Error("snapshot: format version " + std::to_string(version) + ", this engine reads " +
                std::to_string(kVersion));
  }
  std::vector<Section> out;
  std::size_t pos = kHeadBytes;
  for (const char* name : names) {
    if (blob.size() - pos < kSectionHeadBytes ||
        read_le(blob, pos, 8) > blob.size() - pos - kSectionHeadBytes) {
      throw Error(std::string("snapshot: truncated in the ") + name + " section (" +
                  std::to_string(blob.size()) + " bytes)");
    }
    const auto n = static_cast<std::size_t>(read_le(blob, pos, 8));
    out.push_back({name, blob.substr(pos + kSectionHeadBytes, n), read_le(blob, pos + 8, 8)});
    pos += kSectionHeadBytes + n;
  }
  if (pos != blob.size()) throw Error("snapshot: bytes after the last section");
  return out;
}

// ---- Writer ---------------------------------------------------------------------------------

void Writer::le64(std::uint64_t v) {
  append_le(out_, v, 8);
}

// ---- Reader ---------------------------------------------------------------------------------

Reader::Reader(const Section& s) : name_(s.name), in_(s.bytes) {
  if (checksum(in_) != s.checksum) {
    throw Error(std::string("snapshot: checksum mismatch in the ") + name_ + " section (corrupt; " +
                std::to_string(in_.size()) + " bytes)");
  }
}

void Reader::fail(const std::string& what) const {
  throw Error("snapshot: corrupt at byte " + std::to_string(pos_) + " of the " + name_ +
              " section: " + what);
}

std::uint8_t Reader::u8() {
  if (pos_ == in_.size()) fail("truncated");
  return static_cast<std::uint8_t>(in_[pos_++]);
}

std::uint64_t Reader::u64() {
  std::uint64_t v = 0;
  for (unsigned shift = 0;; shift += 7) {
    if (pos_ == in_.size()) fail("truncated varint");
    const auto b = static_cast<unsigned char>(in_[pos_++]);
    if (shift == 63 && b > 1) fail("varint longer than 64 bits");
    v |= std::uint64_t{b & 0x7Fu} << shift;
    if ((b & 0x80) == 0) return v;
  }
}

std::uint64_t Reader::le64() {
  if (in_.size() - pos_ < 8) fail("truncated fixed64");
  const std::uint64_t v = read_le(in_, pos_, 8);
  pos_ += 8;
  return v;
}

std::string_view Reader::bytes() {
  const std::uint64_t n = u64();
  if (n > in_.size() - pos_) fail("a string longer than the bytes left");
  const std::string_view s = in_.substr(pos_, static_cast<std::size_t>(n));
  pos_ += static_cast<std::size_t>(n);
  return s;
}

std::size_t Reader::count() {
  const std::uint64_t n = u64();
  if (n > in_.size() - pos_) fail("a count larger than the bytes left");
  return static_cast<std::size_t>(n);
}

// ---- binary JSON ------------------------------------------------------------------------------

namespace {

// Writing: depth first with an explicit stack (no recursion). Each open container is a frame
// with its next child; an object's key goes before each value.
struct WriteFrame {
  const json::array* array;  // exactly one of the two is set
  const json::object* object;
  std::size_t next;
};

void open_array(Writer& w, const json::array& a, std::vector<WriteFrame>& stack) {
  w.u8(t_array);
  w.u64(a.size());
  stack.push_back({&a, nullptr, 0});
}

void open_object(Writer& w, const json::object& o, std::vector<WriteFrame>& stack) {
  w.u8(t_object);
  w.u64(o.size());
  stack.push_back({nullptr, &o, 0});
}

// A scalar whole, or a container's head (its frame opened).
void write_value(Writer& w, const json::value& v, std::vector<WriteFrame>& stack) {
  switch (v.kind()) {
    case json::kind::null:
      w.u8(t_null);
      return;
    case json::kind::bool_:
      w.u8(v.get_bool() ? t_true : t_false);
      return;
    case json::kind::int64:
      w.u8(t_int64);
      w.i64(v.get_int64());
      return;
    case json::kind::uint64:
      w.u8(t_uint64);
      w.u64(v.get_uint64());
      return;
    case json::kind::double_:
      w.u8(t_double);
      w.le64(std::bit_cast<std::uint64_t>(v.get_double()));
      return;
    case json::kind::string:
      w.u8(t_string);
      w.bytes(v.get_string());
      return;
    case json::kind::array:
      open_array(w, v.get_array(), stack);
      return;
    case json::kind::object:
      open_object(w, v.get_object(), stack);
      return;
  }
}

// Writes the children of the open containers until none is left open.
void drain(Writer& w, std::vector<WriteFrame>& stack) {
  while (!stack.empty()) {
    WriteFrame& f = stack.back();
    const json::value* v = nullptr;
    if (f.array != nullptr && f.next < f.array->size()) {
      v = &(*f.array)[f.next++];
    } else if (f.object != nullptr && f.next < f.object->size()) {
      const json::key_value_pair& kv = f.object->begin()[f.next++];
      w.bytes(kv.key());
      v = &kv.value();
    }
    if (v == nullptr) {
      stack.pop_back();
      continue;
    }
    write_value(w, *v, stack);  // may push: `f` is not used after this
  }
}

// Reading: the mirror. A container is created empty where its parent puts it (reserved to its
// count, so the slots handed out stay put) and filled through a stack of frames.
struct ReadFrame {
  json::value* container;
  std::size_t left;
};

void read_value(Reader& r, json::value& slot, std::vector<ReadFrame>& stack) {
  const std::uint8_t tag = r.u8();
  switch (tag) {
    case t_null:
      slot = nullptr;
      return;
    case t_false:
      slot = false;
      return;
    case t_true:
      slot = true;
      return;
    case t_int64:
      slot = r.i64();
      return;
    case t_uint64:
      slot = r.u64();
      return;
    case t_double:
      slot = std::bit_cast<double>(r.le64());
      return;
    case t_string:
      slot = json::string(r.bytes());
      return;
    case t_array: {
      const std::size_t n = r.count();
      slot.emplace_array().reserve(n);
      stack.push_back({&slot, n});
      break;
    }
    case t_object: {
      const std::size_t n = r.count();
      slot.emplace_object().reserve(n);
      stack.push_back({&slot, n});
      break;
    }
    default:
      r.fail("unknown JSON tag " + std::to_string(tag));
  }
  if (stack.size() > static_cast<std::size_t>(kJsonDepthMax)) r.fail("JSON nested too deep");
}

// Reads the children of the open containers until none is left open.
void fill(Reader& r, std::vector<ReadFrame>& stack) {
  while (!stack.empty()) {
    ReadFrame& f = stack.back();
    if (f.left == 0) {
      stack.pop_back();
      continue;
    }
    --f.left;
    json::value* slot = nullptr;
    if (f.container->is_array()) {
      slot = &f.container->get_array().emplace_back(nullptr);
    } else {
      auto [it, inserted] = f.container->get_object().emplace(r.bytes(), nullptr);
      if (!inserted) r.fail("a repeated JSON key");
      slot = &it->value();
    }
    read_value(r, *slot, stack);  // may push: `f` is not used after this
  }
}

}  // namespace

// The frame stacks are reused (one per thread): a snapshot holds millions of small objects.
void put(Writer& w, const json::value& v) {
  thread_local std::vector<WriteFrame> stack;
  write_value(w, v, stack);
  drain(w, stack);
}
void put(Writer& w, const json::object& o) {
  thread_local std::vector<WriteFrame> stack;
  open_object(w, o, stack);
  drain(w, stack);
}
void put(Writer& w, const json::array& a) {
  thread_local std::vector<WriteFrame> stack;
  open_array(w, a, stack);
  drain(w, stack);
}

void get(Reader& r, json::value& v) {
  thread_local std::vector<ReadFrame> stack;
  stack.clear();  // a failed read (an exception) may have left frames
  read_value(r, v, stack);
  fill(r, stack);
}
void get(Reader& r, json::object& o) {
  json::value v;
  get(r, v);
  if (!v.is_object()) r.fail("a JSON object expected");
  o = std::move(v.get_object());
}
void get(Reader& r, json::array& a) {
  json::value v;
  get(r, v);
  if (!v.is_array()) r.fail("a JSON array expected");
  a = std::move(v.get_array());
}

}  // namespace ipx::engine::snap
