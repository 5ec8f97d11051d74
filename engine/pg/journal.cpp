#include "engine/pg/journal.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>

#include "engine/pg/bytes.hpp"
#include "engine/pg/errc.hpp"
#include "matching/assert.hpp"

namespace ipx::pg {
namespace {

constexpr char kCopySignature[] = "PGCOPY\n\377\r\n";  // 11 bytes incl. the trailing \0
constexpr std::size_t kCopySignatureBytes = 11;
constexpr std::int16_t kJournalColumns = 5;

void put_header(std::string& out) {
  out.append(kCopySignature, kCopySignatureBytes);
  bytes::put_u32(out, 0);  // flags
  bytes::put_u32(out, 0);  // header extension length
}

void put_field(std::string& out, const void* p, std::size_t n) {
  bytes::put_u32(out, static_cast<std::uint32_t>(n));
  out.append(static_cast<const char*>(p), n);
}

void put_tuple(std::string& out, const JournalRecord& r, const Hash& hash) {
  bytes::put_u16(out, static_cast<std::uint16_t>(kJournalColumns));
  bytes::put_u32(out, 8);
  bytes::put_u64(out, static_cast<std::uint64_t>(r.seq));
  bytes::put_u32(out, 8);
  bytes::put_u64(out, static_cast<std::uint64_t>(r.ts_ms));
  bytes::put_u32(out, 4);
  bytes::put_u32(out, static_cast<std::uint32_t>(r.kind));
  put_field(out, r.payload.data(), r.payload.size());
  put_field(out, hash.data(), hash.size());
}

// SHA-256 of `bytes`. OpenSSL 3's one-shot SHA256() looks the algorithm up on every call (a
// fetch under a lock): a third of each record's hash here, on the committer's thread and on
// replay's reader. The algorithm is fetched once and each thread keeps its context.
Hash sha256(std::string_view bytes) {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                                 &EVP_MD_CTX_free);
  Hash out{};
  unsigned int n = 0;
  if (md == nullptr || ctx == nullptr || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &n) != 1 || n != out.size()) {
    SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), out.data());
  }
  return out;
}

Hash chain_hash_into(std::string& buf, const Hash& prev, const JournalRecord& r) {
  buf.clear();
  buf.append(reinterpret_cast<const char*>(prev.data()), prev.size());
  bytes::put_u64(buf, static_cast<std::uint64_t>(r.seq));
  bytes::put_u64(buf, static_cast<std::uint64_t>(r.ts_ms));
  bytes::put_u32(buf, static_cast<std::uint32_t>(r.kind));
  bytes::put_u32(buf, static_cast<std::uint32_t>(r.payload.size()));
  buf.append(r.payload);
  return sha256(buf);
}

// Reads one binary COPY OUT field; false when the message is short.
bool get_field(const char*& p, const char* end, const char*& data, std::int32_t& len) {
  if (end - p < 4) return false;
  len = static_cast<std::int32_t>(bytes::get_u32(p));
  p += 4;
  if (len < 0 || end - p < len) return false;
  data = p;
  p += len;
  return true;
}

}  // namespace

Hash chain_hash(const Hash& prev, const JournalRecord& r) {
  std::string buf;
  return chain_hash_into(buf, prev, r);
}

std::string to_hex(std::span<const std::uint8_t> data) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (auto b : data) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

Journal::Journal(std::string conninfo) : conn_(std::move(conninfo)) {}

std::error_code Journal::open() {
  head_known_ = false;
  return ready();
}

std::error_code Journal::ping() {
  if (auto ec = conn_.ensure()) return ec;
  return conn_.exec("SELECT 1");
}

std::error_code Journal::ready() {
  if (!conn_.ok()) head_known_ = false;
  if (auto ec = conn_.ensure()) return ec;
  if (!head_known_) return refresh_head();
  return {};
}

std::error_code Journal::refresh_head() {
  if (auto ec = conn_.ensure()) return ec;
  PgResult r(PQexecParams(conn_.get(), "SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1",
                          0, nullptr, nullptr, nullptr, nullptr, 1));
  if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK) return conn_.fail(r.get(), "journal head");
  Head h;
  if (PQntuples(r.get()) == 1) {
    IPX_ASSERT(PQgetlength(r.get(), 0, 1) == 32);
    h.seq = static_cast<std::int64_t>(bytes::get_u64(PQgetvalue(r.get(), 0, 0)));
    std::memcpy(h.hash.data(), PQgetvalue(r.get(), 0, 1), h.hash.size());
  }
  head_ = h;
  head_known_ = true;
  return {};
}

std::error_code Journal::hash_at(std::int64_t seq, Hash& out) {
  out = Hash{};
  if (seq == 0) return {};
  if (auto ec = conn_.ensure()) return ec;
  const std::string seq_text = std::to_string(seq);
  const char* values[1] = {seq_text.c_str()};
  PgResult r(PQexecParams(conn_.get(), "SELECT hash FROM journal WHERE seq = $1::bigint", 1,
                          nullptr, values, nullptr, nullptr, 1));
  if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK) return conn_.fail(r.get(), "journal hash");
  if (PQntuples(r.get()) != 1) {
    conn_.set_error("journal has no record at seq " + seq_text);
    return errc::sequence_mismatch;
  }
  IPX_ASSERT(PQgetlength(r.get(), 0, 0) == 32);
  std::memcpy(out.data(), PQgetvalue(r.get(), 0, 0), out.size());
  return {};
}

std::error_code Journal::fail_batch(std::error_code ec) {
  // Whatever happened, the head in memory may no longer be the committed one.
  head_known_ = false;
  if (conn_.ok() && PQtransactionStatus(conn_.get()) != PQTRANS_IDLE) {
    PgResult r(PQexec(conn_.get(), "ROLLBACK"));
  }
  return ec;
}

std::error_code Journal::append(std::span<const JournalRecord> records, const ExtraWriter& extra) {
  const std::span<const JournalRecord> parts[1] = {records};
  const ExtraWriter* extras[1] = {&extra};
  return append_parts(parts, extra ? std::span<const ExtraWriter* const>(extras)
                                   : std::span<const ExtraWriter* const>());
}

std::error_code Journal::encode(std::span<const std::span<const JournalRecord>> parts,
                                Head& next) {
  copy_buf_.clear();
  put_header(copy_buf_);
  for (const auto& part : parts) {
    for (const auto& r : part) {
      if (r.seq != next.seq + 1 || r.payload.size() > kPayloadBytesMax) {
        conn_.set_error("append: record seq " + std::to_string(r.seq) + " after head " +
                        std::to_string(next.seq) + " (payload " +
                        std::to_string(r.payload.size()) + " bytes)");
        return r.seq != next.seq + 1 ? errc::sequence_mismatch : errc::bad_record;
      }
      next.hash = chain_hash_into(hash_buf_, next.hash, r);
      next.seq = r.seq;
      put_tuple(copy_buf_, r, next.hash);
    }
  }
  bytes::put_u16(copy_buf_, static_cast<std::uint16_t>(-1));  // trailer
  return {};
}

namespace {

constexpr const char* kCopyJournalSql =
    "COPY journal (seq, ts_ms, kind, payload, hash) FROM STDIN (FORMAT binary)";

// One PQputCopyData per ~1 MiB keeps libpq's buffer from doubling the whole stream.
bool put_stream(PGconn* conn, const std::string& data) {
  constexpr std::size_t kChunk = 1u << 20;
  for (std::size_t off = 0; off < data.size(); off += kChunk) {
    const std::size_t n = std::min(kChunk, data.size() - off);
    if (PQputCopyData(conn, data.data() + off, static_cast<int>(n)) != 1) return false;
  }
  return PQputCopyEnd(conn, nullptr) == 1;
}

}  // namespace

// Sends query_ (BEGIN, the COPYs of copy_buf_ when it has records, then row_copies_, then
// COMMIT when `commit`), feeding each stream when the server asks for it, and reads every
// result. The first error wins; a COMMIT that answers anything but COMMIT is a failure.
std::error_code Journal::send_transaction(bool commit) {
  const bool journal_rows = !copy_buf_.empty();
  query_ = "BEGIN";
  if (journal_rows) (query_ += ';') += kCopyJournalSql;
  for (const CopyIn& c : row_copies_) (query_ += ';') += c.sql;
  if (commit) query_ += ";COMMIT";
  PGconn* conn = conn_.get();
  if (PQsendQuery(conn, query_.c_str()) != 1) return conn_.fail(nullptr, "journal batch");
  std::size_t next = 0;  // the stream the next COPY_IN asks for: 0 = the journal's (if any)
  const std::size_t streams = (journal_rows ? 1 : 0) + row_copies_.size();
  std::error_code ec;
  std::string last_status;
  while (PgResult r{PQgetResult(conn)}) {
    switch (PQresultStatus(r.get())) {
      case PGRES_COPY_IN: {
        const std::string* data = nullptr;
        if (next < streams) {
          data = journal_rows && next == 0 ? &copy_buf_
                                           : &row_copies_[next - (journal_rows ? 1 : 0)].data;
        }
        ++next;
        if (data == nullptr) {
          PQputCopyEnd(conn, "no stream for this COPY");
          if (!ec) ec = make_error_code(errc::query_failed);
          break;
        }
        if (!put_stream(conn, *data)) {
          // The connection is gone mid-stream: start over on a new one.
          const auto lost = conn_.fail(nullptr, "journal batch COPY data");
          conn_.close();
          return ec ? ec : lost;
        }
        break;
      }
      case PGRES_COMMAND_OK:
        last_status = PQcmdStatus(r.get());
        break;
      default:
        if (!ec) ec = conn_.fail(r.get(), "journal batch");
        break;
    }
  }
  if (ec) return ec;
  if (next != streams) {
    conn_.set_error("journal batch: the server took " + std::to_string(next) + " of " +
                    std::to_string(streams) + " COPY streams");
    return errc::query_failed;
  }
  // A COMMIT of a transaction that had failed answers "ROLLBACK": that is a failure too.
  if (commit && last_status != "COMMIT") {
    conn_.set_error("COMMIT answered " + (last_status.empty() ? "nothing" : last_status));
    return errc::query_failed;
  }
  return {};
}

std::error_code Journal::append_parts(std::span<const std::span<const JournalRecord>> parts,
                                      std::span<const ExtraWriter* const> extras,
                                      const RowsWriter* rows_writer,
                                      std::span<const Rows* const> rows) {
  if (auto ec = ready()) return fail_batch(ec);
  Head next = head_;
  std::size_t count = 0;
  for (const auto& part : parts) count += part.size();
  if (count == 0 && extras.empty() && rows.empty()) return {};
  copy_buf_.clear();
  if (count > 0) {
    if (auto ec = encode(parts, next)) return fail_batch(ec);
  }
  row_copies_.clear();
  if (!rows.empty() && rows_writer != nullptr && *rows_writer) {
    if (auto ec = (*rows_writer)(rows, row_copies_)) {
      conn_.set_error("rows writer: " + ec.message());
      return fail_batch(ec);
    }
  }
  std::size_t extra_n = 0;
  for (const ExtraWriter* extra : extras) extra_n += extra != nullptr && *extra ? 1 : 0;
  if (auto ec = send_transaction(extra_n == 0)) return fail_batch(ec);
  if (extra_n > 0) {
    for (const ExtraWriter* extra : extras) {
      if (extra == nullptr || !*extra) continue;
      if (auto ec = (*extra)(conn_.get())) {
        std::string detail = PQerrorMessage(conn_.get());
        while (!detail.empty() && detail.back() == '\n') detail.pop_back();
        conn_.set_error("extra writer: " + ec.message() + (detail.empty() ? "" : ": " + detail));
        return fail_batch(conn_.ok() ? ec : make_error_code(errc::connection_lost));
      }
    }
    PgResult r(PQexec(conn_.get(), "COMMIT"));
    // A COMMIT of a transaction that had failed answers "ROLLBACK": that is a failure too.
    if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK ||
        std::strcmp(PQcmdStatus(r.get()), "COMMIT") != 0) {
      return fail_batch(conn_.fail(r.get(), "COMMIT"));
    }
  }
  IPX_ASSERT(next.seq == head_.seq + static_cast<std::int64_t>(count));
  head_ = next;
  if (fault_drop_ack_ && fault_drop_ack_()) {
    conn_.close();
    conn_.set_error("COMMIT: acknowledgement dropped (fault injection)");
    head_known_ = false;
    return errc::connection_lost;
  }
  return {};
}

std::error_code Journal::confirm_committed(std::span<const JournalRecord> records,
                                           bool& committed) {
  committed = false;
  if (auto ec = conn_.ensure()) return ec;
  if (auto ec = refresh_head()) return ec;
  if (records.empty()) {
    committed = true;
    return {};
  }
  if (records.back().seq > head_.seq) {
    if (records.front().seq <= head_.seq) {
      conn_.set_error("records " + std::to_string(records.front().seq) + ".." +
                      std::to_string(records.back().seq) + " straddle the head " +
                      std::to_string(head_.seq));
      return errc::chain_mismatch;
    }
    return {};
  }
  Hash h{};
  if (auto ec = hash_at(records.front().seq - 1, h)) return ec;
  for (const auto& r : records) h = chain_hash_into(hash_buf_, h, r);
  Hash stored{};
  if (auto ec = hash_at(records.back().seq, stored)) return ec;
  if (h != stored) {
    conn_.set_error("journal holds other records at seqs " + std::to_string(records.front().seq) +
                    ".." + std::to_string(records.back().seq));
    return errc::chain_mismatch;
  }
  committed = true;
  return {};
}

// The scan behind replay and verify: binary COPY out of seq > after_seq, checking each record
// continues the chain. Stops calling `fn` at the first broken record and reports it in `v`.
namespace {

struct ScanState {
  std::int64_t expect_seq = 1;
  Hash prev{};
  bool header_seen = false;
  bool trailer_seen = false;
  JournalRecord rec;
  std::string hash_buf;
};

// Parses one CopyData message (header and/or whole tuples). Returns false on a malformed one.
bool scan_message(const char* p, const char* end, ScanState& s, const RecordFn& fn,
                  VerifyResult& v) {
  if (!s.header_seen) {
    if (end - p < 19 || std::memcmp(p, kCopySignature, kCopySignatureBytes) != 0) return false;
    const auto ext = bytes::get_u32(p + 15);
    p += 19;
    if (end - p < static_cast<std::ptrdiff_t>(ext)) return false;
    p += ext;
    s.header_seen = true;
  }
  while (p < end) {
    if (end - p < 2) return false;
    const auto fields = static_cast<std::int16_t>(bytes::get_u16(p));
    p += 2;
    if (fields == -1) {
      s.trailer_seen = true;
      continue;
    }
    if (fields != kJournalColumns) return false;
    const char* d[5];
    std::int32_t n[5];
    for (int i = 0; i < 5; ++i) {
      if (!get_field(p, end, d[i], n[i])) return false;
    }
    if (n[0] != 8 || n[1] != 8 || n[2] != 4) return false;
    if (v.broken_seq != 0) continue;  // drain after the first broken record
    s.rec.seq = static_cast<std::int64_t>(bytes::get_u64(d[0]));
    s.rec.ts_ms = static_cast<std::int64_t>(bytes::get_u64(d[1]));
    s.rec.kind = static_cast<std::int32_t>(bytes::get_u32(d[2]));
    s.rec.payload.assign(d[3], static_cast<std::size_t>(n[3]));
    const Hash h = chain_hash_into(s.hash_buf, s.prev, s.rec);
    if (s.rec.seq != s.expect_seq) {
      v.broken_seq = s.expect_seq;
      v.message = "expected seq " + std::to_string(s.expect_seq) + ", found seq " +
                  std::to_string(s.rec.seq) + " (gap)";
    } else if (n[4] != 32 || std::memcmp(d[4], h.data(), h.size()) != 0) {
      v.broken_seq = s.rec.seq;
      v.message = "stored hash does not match the record's contents and the previous hash";
    }
    if (v.broken_seq != 0) continue;
    s.prev = h;
    ++s.expect_seq;
    ++v.records;
    if (fn) fn(s.rec);
  }
  return true;
}

}  // namespace

std::error_code Journal::replay(std::int64_t after_seq, const RecordFn& fn, ReplayStats* stats,
                                const std::optional<Hash>& prev) {
  if (auto ec = conn_.ensure()) return ec;
  IPX_ASSERT(after_seq >= 0);
  ScanState s;
  s.expect_seq = after_seq + 1;
  if (prev) {
    s.prev = *prev;
  } else if (auto ec = hash_at(after_seq, s.prev)) {
    return ec;
  }
  VerifyResult v;
  const std::string sql =
      "COPY (SELECT seq, ts_ms, kind, payload, hash FROM journal WHERE seq > " +
      std::to_string(after_seq) + " ORDER BY seq) TO STDOUT (FORMAT binary)";
  PgResult r(PQexec(conn_.get(), sql.c_str()));
  if (!r || PQresultStatus(r.get()) != PGRES_COPY_OUT) return conn_.fail(r.get(), "COPY out");
  bool malformed = false;
  for (;;) {
    char* buf = nullptr;
    const int n = PQgetCopyData(conn_.get(), &buf, 0);
    if (n < 0) break;
    if (!malformed && !scan_message(buf, buf + n, s, fn, v)) malformed = true;
    PQfreemem(buf);
  }
  PgResult end(PQgetResult(conn_.get()));
  std::error_code ec;
  if (!end || PQresultStatus(end.get()) != PGRES_COMMAND_OK) ec = conn_.fail(end.get(), "COPY out end");
  while (PgResult more{PQgetResult(conn_.get())}) {
  }
  if (stats != nullptr) *stats = {v.records, s.expect_seq - 1, s.prev};
  if (ec) return ec;
  if (malformed || !s.trailer_seen) {
    conn_.set_error("malformed COPY stream from the journal");
    return errc::query_failed;
  }
  if (v.broken_seq != 0) {
    broken_reason_ = v.message;
    conn_.set_error("journal broken at seq " + std::to_string(v.broken_seq) + ": " + v.message);
    return errc::chain_broken;
  }
  return {};
}

VerifyResult Journal::verify() {
  VerifyResult out;
  ReplayStats stats;
  out.ec = replay(0, {}, &stats);
  out.records = stats.records;
  out.head = stats.last_hash;
  if (out.ec) {
    out.message = conn_.last_error();
    if (out.ec == make_error_code(errc::chain_broken)) {
      out.broken_seq = stats.last_seq + 1;
      out.message = broken_reason_;
    }
  }
  return out;
}

std::error_code Journal::save_snapshot(std::int64_t seq, std::string_view state_hash,
                                       std::string_view data) {
  if (auto ec = conn_.ensure()) return ec;
  std::string error;
  auto ec = pg::save_snapshot(conn_.get(), seq, state_hash, data, &error);
  if (ec) conn_.set_error(error);
  return ec;
}

std::error_code Journal::load_latest_snapshot(std::optional<Snapshot>& out) {
  if (auto ec = conn_.ensure()) return ec;
  std::string error;
  auto ec = pg::load_latest_snapshot(conn_.get(), out, &error);
  if (ec) conn_.set_error(error);
  return ec;
}

}  // namespace ipx::pg
