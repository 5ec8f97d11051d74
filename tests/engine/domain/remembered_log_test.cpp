// engine/remembered_log: entries found by their Ref until popped, oldest first, across sealed
// chunks; a snapshot's image writes exactly the entries alive when it was taken (whatever the
// log does afterwards) in the section's encoding, and reads back entry by entry.
#include "engine/remembered_log.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "engine/snapshot_io.hpp"

namespace ipx::engine {
namespace {

struct Row {
  std::int64_t at_ms;
  std::string key, params;
  Code code;
  std::string message, result_json;
};

// ~1,000-5,000 bytes each, so a few thousand fill several 1 MiB chunks.
Row row(int i) {
  return {1000 + i / 3,
          "p" + std::to_string(i % 97) + '\0' + "r" + std::to_string(i),
          "order.place " + std::string(static_cast<std::size_t>(1000 + (i * 37) % 4000), 'x'),
          i % 5 == 0 ? Code::not_found : Code::ok,
          i % 5 == 0 ? "no such order" : "",
          i % 5 == 0 ? "" : "{\"order_id\":" + std::to_string(i) + "}"};
}

void expect_entry(const RememberedLog::Entry& e, const Row& r) {
  EXPECT_EQ(e.at_ms, r.at_ms);
  EXPECT_EQ(e.key, r.key);
  EXPECT_EQ(e.params, r.params);
  EXPECT_EQ(e.code, r.code);
  EXPECT_EQ(e.message, r.message);
  EXPECT_EQ(e.result_json, r.result_json);
}

// Reads an image back as a snapshot's section: the count, then each entry.
std::vector<RememberedLog::Entry> read_image(const RememberedLog::Image& image,
                                             std::string& bytes) {
  snap::Blob blob;
  image.add_to(blob);
  bytes = blob.join();
  snap::Reader r("test", bytes);
  std::vector<RememberedLog::Entry> out(r.u64());
  for (auto& e : out) e = RememberedLog::read(r);
  EXPECT_TRUE(r.done());
  return out;
}

TEST(RememberedLog, EntriesAcrossChunksUntilPoppedAndImagesKeepTheirEntries) {
  RememberedLog log;
  std::vector<RememberedLog::Ref> refs;
  constexpr int kRows = 3000;  // ~9 MB: several sealed chunks
  for (int i = 0; i < kRows; ++i) {
    const Row r = row(i);
    refs.push_back(log.append(r.at_ms, r.key, r.params, r.code, r.message, r.result_json));
  }
  ASSERT_EQ(log.size(), static_cast<std::size_t>(kRows));
  EXPECT_GT(refs.back().chunk, 4u);
  for (int i = 0; i < kRows; i += 7)
    expect_entry(log.get(refs[static_cast<std::size_t>(i)]), row(i));

  const RememberedLog::Image all = log.image();
  // Expire the oldest 2,000 (through several chunks); the image taken before still has them.
  for (int i = 0; i < 2000; ++i) {
    expect_entry(log.front(), row(i));
    log.pop_front();
  }
  for (int i = 2000; i < kRows; i += 7) {
    expect_entry(log.get(refs[static_cast<std::size_t>(i)]), row(i));
  }
  const RememberedLog::Image rest = log.image();
  for (int i = kRows; i < kRows + 10; ++i) {
    const Row r = row(i);
    log.append(r.at_ms, r.key, r.params, r.code, r.message, r.result_json);
  }
  std::string bytes;
  const auto a = read_image(all, bytes);
  ASSERT_EQ(a.size(), static_cast<std::size_t>(kRows));
  for (int i = 0; i < kRows; ++i) expect_entry(a[static_cast<std::size_t>(i)], row(i));
  const auto b = read_image(rest, bytes);
  ASSERT_EQ(b.size(), static_cast<std::size_t>(kRows - 2000));
  for (int i = 2000; i < kRows; ++i) expect_entry(b[static_cast<std::size_t>(i - 2000)], row(i));

  // Everything expires; the log starts again and still works.
  while (!log.empty()) log.pop_front();
  EXPECT_EQ(read_image(log.image(), bytes).size(), 0u);
  const Row r = row(kRows + 10);
  const auto ref = log.append(r.at_ms, r.key, r.params, r.code, r.message, r.result_json);
  expect_entry(log.get(ref), r);
  expect_entry(log.front(), r);
}

// The engine hands the request text in pieces (method, space, params): the entry is the one
// the joined text makes, byte for byte.
TEST(RememberedLog, AnEntryGivenInPiecesIsTheJoinedOne) {
  RememberedLog pieces, joined;
  const std::string params(300, 'p');  // a length past one varint byte
  const auto a = pieces.append(5, "k", {"order.place", " ", params}, Code::ok, "", "{}");
  const auto b = joined.append(5, "k", "order.place " + params, Code::ok, "", "{}");
  EXPECT_EQ(pieces.get(a).params, "order.place " + params);
  EXPECT_EQ(joined.get(b).params, pieces.get(a).params);
  std::string x, y;
  EXPECT_EQ(read_image(pieces.image(), x).size(), 1u);
  EXPECT_EQ(read_image(joined.image(), y).size(), 1u);
  EXPECT_EQ(x, y);
}

TEST(RememberedLog, AReplyCodeOutOfRangeIsRefusedOnRead) {
  std::string bytes;
  snap::Writer w(bytes);
  w.i64(1);
  w.bytes("k");
  w.bytes("p");
  w.u64(static_cast<std::uint64_t>(Code::internal) + 1);
  w.bytes("");
  w.bytes("");
  snap::Reader r("test", bytes);
  EXPECT_THROW(RememberedLog::read(r), snap::Error);
}

}  // namespace
}  // namespace ipx::engine

namespace ipx::engine {

// Reaches the index's test-only fingerprint override.
struct RememberedIndexTest {
  static void fix(RememberedIndex& ix, std::optional<std::uint64_t> fp) { ix.fixed_fingerprint_ = fp; }
};

namespace {

// The index against a plain map of whole keys, as the engine uses it: keys remembered in time
// order, the oldest forgotten first (erased, then popped from the log), finds of present and
// absent keys. Run with real fingerprints and with every key given one fingerprint (each
// key after the first then lives in the overflow table, and erasing the fingerprint's own
// key must leave the others found).
TEST(RememberedIndex, AgreesWithAMapOfWholeKeysWhateverTheFingerprintsCollide) {
  for (const bool collide : {false, true}) {
    RememberedLog log;
    RememberedIndex ix;
    if (collide) RememberedIndexTest::fix(ix, 42);
    std::map<std::string, RememberedLog::Ref> mirror;
    std::deque<std::string> order;
    std::mt19937_64 rng(5);
    for (int step = 0; step < 5000; ++step) {
      const std::string key = "P-" + std::to_string(rng() % 7) + '\0' + "r" + std::to_string(rng() % 900);
      const auto* found = ix.find(key, log);
      const auto it = mirror.find(key);
      ASSERT_EQ(found != nullptr, it != mirror.end()) << step;
      if (found != nullptr) {
        ASSERT_EQ(found->chunk, it->second.chunk);
        ASSERT_EQ(found->offset, it->second.offset);
        ASSERT_FALSE(ix.insert(key, *found, log));
      } else {
        const auto ref = log.append(step, key, "m {}", Code::ok, "", "{}");
        ASSERT_TRUE(ix.insert(key, ref, log));
        mirror.emplace(key, ref);
        order.push_back(key);
      }
      while (order.size() > 300 || (!order.empty() && rng() % 4 == 0)) {
        ASSERT_EQ(log.front().key, order.front());
        ix.erase(log.front().key, log);
        log.pop_front();
        mirror.erase(order.front());
        order.pop_front();
      }
      ASSERT_EQ(ix.size(), mirror.size());
    }
    for (const auto& [k, ref] : mirror) ASSERT_NE(ix.find(k, log), nullptr);
  }
  EXPECT_NE(RememberedIndex::fingerprint(std::string("P-1\0r1", 6)),
            RememberedIndex::fingerprint(std::string("P-1\0r2", 6)));
}

}  // namespace
}  // namespace ipx::engine
