#include "engine/sealed_log.hpp"

#include "matching/assert.hpp"

namespace ipx::engine {

void SealedLog::seal() {
  sealed_bytes_ += open_.size();
  sealed_.push_back(std::make_shared<const std::string>(std::move(open_)));
  open_ = std::string();
}

std::string_view SealedLog::at(Ref ref) const {
  IPX_ASSERT(ref.chunk <= sealed_.size());
  const std::string& c = ref.chunk == sealed_.size() ? open_ : *sealed_[ref.chunk];
  IPX_ASSERT(ref.offset < c.size());
  return std::string_view(c).substr(ref.offset);
}

std::size_t SealedLog::bytes() const { return sealed_bytes_ + open_.size(); }

void SealedLog::adopt(std::string entries, std::size_t count) {
  sealed_.clear();
  open_.clear();
  sealed_bytes_ = 0;
  count_ = count;
  if (entries.empty()) return;
  sealed_bytes_ = entries.size();
  sealed_.push_back(std::make_shared<const std::string>(std::move(entries)));
}

std::size_t SealedLog::Image::bytes() const {
  std::size_t n = open.size();
  for (const auto& c : sealed) n += c->size();
  return n;
}

void SealedLog::Image::write(snap::Writer& w) const {
  w.u64(count);
  for (const auto& c : sealed) w.raw(*c);
  w.raw(open);
}

}  // namespace ipx::engine
