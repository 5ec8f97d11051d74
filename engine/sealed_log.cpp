#include "engine/sealed_log.hpp"

#include "matching/assert.hpp"

namespace ipx::engine {

void SealedLog::seal() {
  sealed_.push_back(std::make_shared<const std::string>(std::move(open_)));
  open_ = std::string();
}

std::string_view SealedLog::at(Ref ref) const {
  IPX_ASSERT(ref.chunk <= sealed_.size());
  const std::string& c = ref.chunk == sealed_.size() ? open_ : *sealed_[ref.chunk];
  IPX_ASSERT(ref.offset < c.size());
  return std::string_view(c).substr(ref.offset);
}

void SealedLog::adopt(std::string entries, std::size_t count) {
  sealed_.clear();
  open_.clear();
  count_ = count;
  if (entries.empty()) return;
  sealed_.push_back(std::make_shared<const std::string>(std::move(entries)));
}

void add_log_section(snap::Blob& b, std::size_t count,
                     const std::vector<std::shared_ptr<const std::string>>& sealed,
                     std::size_t offset, std::string_view open) {
  std::string count_bytes;
  snap::Writer(count_bytes).u64(count);
  b.add(count_bytes);
  for (const auto& c : sealed) {
    b.add(c, offset);
    offset = 0;
  }
  b.add(open.substr(offset));
}

void SealedLog::Image::add_to(snap::Blob& b) const { add_log_section(b, count, sealed, 0, open); }

}  // namespace ipx::engine
