#include "engine/remembered_log.hpp"

#include <boost/container_hash/hash.hpp>

#include "engine/sealed_log.hpp"
#include "engine/snapshot_io.hpp"
#include "matching/assert.hpp"

namespace ipx::engine {

namespace {

// The log's own bytes, read back: written by append, so a failure here is a bug (the Reader
// throws; the engine thread does not catch it).
snap::Reader reader_at(const std::string& chunk, std::size_t offset) {
  return snap::Reader("remembered log", std::string_view(chunk).substr(offset));
}

}  // namespace

RememberedLog::Ref RememberedLog::append(std::int64_t at_ms, std::string_view key,
                                         std::initializer_list<std::string_view> params,
                                         Code code, std::string_view message,
                                         std::string_view result_json) {
  IPX_ASSERT(at_ms >= last_at_ms_);
  if (open_.size() >= kChunkBytes) {
    sealed_.push_back(std::make_shared<const std::string>(std::move(open_)));
    open_ = std::string();
  }
  if (open_.capacity() < kChunkBytes) open_.reserve(kChunkBytes + 4096);
  const Ref ref{first_ + sealed_.size(), static_cast<std::uint32_t>(open_.size())};
  // The section's field order (domain_snapshot.cpp, load_remembered).
  snap::Writer w(open_);
  w.i64(at_ms);
  w.bytes(key);
  std::size_t params_size = 0;
  for (std::string_view piece : params) params_size += piece.size();
  w.u64(params_size);
  for (std::string_view piece : params) w.raw(piece);  // as w.bytes(joined) writes it
  w.u64(static_cast<std::uint64_t>(code));
  w.bytes(message);
  w.bytes(result_json);
  IPX_ASSERT(open_.size() <= UINT32_MAX);
  last_at_ms_ = at_ms;
  ++count_;
  return ref;
}

RememberedLog::Entry RememberedLog::read(snap::Reader& r) {
  Entry e;
  e.at_ms = r.i64();
  e.key = r.bytes();
  e.params = r.bytes();
  const std::uint64_t code = r.u64();
  if (code > static_cast<std::uint64_t>(Code::internal)) r.fail("a reply code out of range");
  e.code = static_cast<Code>(code);
  e.message = r.bytes();
  e.result_json = r.bytes();
  return e;
}

const std::string& RememberedLog::chunk(std::uint64_t n) const {
  IPX_ASSERT(n >= first_ && n <= first_ + sealed_.size());
  const auto i = static_cast<std::size_t>(n - first_);
  return i == sealed_.size() ? open_ : *sealed_[i];
}

RememberedLog::Entry RememberedLog::get(Ref ref) const {
  snap::Reader r = reader_at(chunk(ref.chunk), ref.offset);
  return read(r);
}

RememberedLog::Entry RememberedLog::front() const {
  IPX_ASSERT(count_ > 0);
  return get(Ref{first_, static_cast<std::uint32_t>(front_)});
}

std::size_t RememberedLog::front_bytes() const {
  snap::Reader r = reader_at(chunk(first_), front_);
  read(r);
  return r.offset();
}

void RememberedLog::pop_front() {
  IPX_ASSERT(count_ > 0);
  front_ += front_bytes();
  --count_;
  if (!sealed_.empty() && front_ == sealed_.front()->size()) {
    sealed_.pop_front();
    ++first_;
    front_ = 0;
  } else if (count_ == 0) {
    // Nothing refers to the open chunk any more: start it again (same number).
    IPX_ASSERT(sealed_.empty() && front_ == open_.size());
    open_.clear();
    front_ = 0;
  }
}

RememberedLog::Image RememberedLog::image() const {
  return Image{{sealed_.begin(), sealed_.end()}, front_, open_, count_};
}

void RememberedLog::Image::add_to(snap::Blob& b) const {
  add_log_section(b, count, sealed, offset, open);
}

std::uint64_t RememberedIndex::fingerprint(std::string_view key) {
  return static_cast<std::uint64_t>(boost::hash<std::string_view>{}(key));
}

const RememberedIndex::Ref* RememberedIndex::find(std::string_view key,
                                                  const RememberedLog& log) const {
  if (const Ref* r = by_fingerprint_.find(fingerprint_of(key));
      r != nullptr && log.get(*r).key == key) {
    return r;
  }
  if (overflow_.empty()) return nullptr;
  auto it = overflow_.find(std::string(key));
  return it == overflow_.end() ? nullptr : &it->second;
}

bool RememberedIndex::insert(std::string_view key, Ref ref, const RememberedLog& log) {
  const std::uint64_t fp = fingerprint_of(key);
  if (const Ref* r = by_fingerprint_.find(fp); r != nullptr) {
    if (log.get(*r).key == key) return false;
    return overflow_.try_emplace(std::string(key), ref).second;  // another key's fingerprint
  }
  if (!overflow_.empty() && overflow_.contains(std::string(key))) return false;
  return by_fingerprint_.try_emplace(fp, ref);
}

void RememberedIndex::erase(std::string_view key, const RememberedLog& log) {
  const std::uint64_t fp = fingerprint_of(key);
  if (const Ref* r = by_fingerprint_.find(fp); r != nullptr && log.get(*r).key == key) {
    by_fingerprint_.erase(fp);
    return;
  }
  const bool erased = overflow_.erase(std::string(key)) != 0;
  IPX_ASSERT(erased);
}

void RememberedIndex::clear() {
  by_fingerprint_.clear();
  overflow_.clear();
}

}  // namespace ipx::engine
