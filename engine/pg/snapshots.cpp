#include "engine/pg/snapshots.hpp"

#include <openssl/sha.h>

#include <cstring>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "engine/pg/bytes.hpp"
#include "engine/pg/errc.hpp"

namespace ipx::pg {
namespace {

constexpr unsigned kOidInt8 = 20;
constexpr unsigned kOidInt2 = 21;
constexpr unsigned kOidBytea = 17;
constexpr std::size_t kStateHashBytesMax = 64;

std::error_code fail(PGconn* conn, const PgResult& r, std::string* error, const char* what) {
  if (error != nullptr) {
    *error = std::string(what) + ": " +
             (r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn));
    while (!error->empty() && error->back() == '\n') error->pop_back();
  }
  return PQstatus(conn) == CONNECTION_OK ? errc::query_failed : errc::connection_lost;
}

std::string field(const PgResult& r, int row, int col) {
  return std::string(PQgetvalue(r.get(), row, col),
                     static_cast<std::size_t>(PQgetlength(r.get(), row, col)));
}

}  // namespace

std::error_code drop_old_states(PGconn* conn, std::size_t kept, std::vector<std::string>* dropped,
                                std::string* error, const std::function<void(std::size_t)>& paced) {
  static constexpr const char* kSql =
      "UPDATE snapshots SET state = NULL, chunks = NULL WHERE state IS NOT NULL AND seq < ("
      " SELECT min(seq) FROM (SELECT seq FROM snapshots WHERE state IS NOT NULL"
      " ORDER BY seq DESC LIMIT $1::bigint) newest)";
  const std::string kept_text = std::to_string(kept);
  const char* values[1] = {kept_text.c_str()};
  PgResult r(PQexecParams(conn, kSql, 1, nullptr, values, nullptr, nullptr, 0));
  if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) return fail(conn, r, error, "drop_old_states");
  if (std::string_view(PQcmdTuples(r.get())) == "0") return {};
  // $1: how many at most (NULL: all).
  static constexpr const char* kGcSql =
      "DELETE FROM snapshot_chunks WHERE digest IN (SELECT digest FROM snapshot_chunks"
      " WHERE digest NOT IN ("
      " SELECT substring(s.chunks FROM g * 32 + 1 FOR 32) FROM snapshots s,"
      " generate_series(0, octet_length(s.chunks) / 32 - 1) g WHERE s.chunks IS NOT NULL)"
      " LIMIT $1::bigint) RETURNING digest, octet_length(bytes)";
  const std::string batch_text = std::to_string(kGcBatch);
  const char* batch[1] = {batch_text.c_str()};
  for (;;) {
    PgResult gc(PQexecParams(conn, kGcSql, 1, nullptr, batch, nullptr, nullptr, 1));
    if (!gc || PQresultStatus(gc.get()) != PGRES_TUPLES_OK) {
      return fail(conn, gc, error, "drop_old_chunks");
    }
    std::size_t bytes = 0;
    for (int i = 0; i < PQntuples(gc.get()); ++i) {
      if (dropped != nullptr) dropped->push_back(field(gc, i, 0));
      bytes += static_cast<std::size_t>(bytes::get_u32(PQgetvalue(gc.get(), i, 1)));
    }
    if (PQntuples(gc.get()) < static_cast<int>(kGcBatch)) return {};
    if (paced) paced(bytes);
  }
}

namespace {

// ---- manifests ------------------------------------------------------------------------------

constexpr char kManifestMagic[8] = {'I', 'P', 'X', 'P', 'A', 'R', 'T', 'S'};
constexpr std::size_t kDigestBytes = 32;

void append_le64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

bool is_manifest(std::string_view state) {
  return state.size() >= sizeof kManifestMagic &&
         std::memcmp(state.data(), kManifestMagic, sizeof kManifestMagic) == 0;
}

// A manifest read: each piece its own bytes (a view into the manifest) or a chunk's digest.
struct ManifestPiece {
  std::string_view own, digest;
  std::uint64_t from = 0, length = 0;
};

// False when the manifest is not whole.
bool read_manifest(std::string_view m, std::vector<ManifestPiece>& out) {
  std::size_t at = sizeof kManifestMagic;
  auto le64 = [&](std::uint64_t& v) {
    if (m.size() - at < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t{static_cast<unsigned char>(m[at + i])} << (8 * i);
    at += 8;
    return true;
  };
  std::uint64_t n = 0;
  if (!le64(n) || n > m.size()) return false;
  out.clear();
  for (std::uint64_t i = 0; i < n; ++i) {
    if (at >= m.size()) return false;
    ManifestPiece p;
    const char kind = m[at++];
    if (kind == 0) {
      std::uint64_t len = 0;
      if (!le64(len) || len > m.size() - at) return false;
      p.own = m.substr(at, len);
      at += len;
    } else if (kind == 1) {
      if (m.size() - at < kDigestBytes) return false;
      p.digest = m.substr(at, kDigestBytes);
      at += kDigestBytes;
      if (!le64(p.from) || !le64(p.length)) return false;
    } else {
      return false;
    }
    out.push_back(p);
  }
  return at == m.size();
}

// The bytes a manifest stands for, from its chunks (one query); false when one is gone or
// shorter than the manifest says.
bool resolve_manifest(PGconn* conn, std::string_view manifest, std::string& out,
                      std::string* error, std::error_code& ec) {
  std::vector<ManifestPiece> pieces;
  if (!read_manifest(manifest, pieces)) return false;
  std::string digests;
  std::size_t total = 0;
  for (const auto& p : pieces) {
    digests.append(p.digest);
    total += p.digest.empty() ? p.own.size() : p.length;
  }
  static constexpr const char* kSql =
      "SELECT c.digest, c.bytes FROM snapshot_chunks c WHERE c.digest IN ("
      " SELECT substring($1::bytea FROM g * 32 + 1 FOR 32)"
      " FROM generate_series(0, octet_length($1::bytea) / 32 - 1) g)";
  const unsigned types[1] = {kOidBytea};
  const char* values[1] = {digests.data()};
  const int lengths[1] = {static_cast<int>(digests.size())};
  const int formats[1] = {1};
  PgResult r(PQexecParams(conn, kSql, 1, types, values, lengths, formats, 1));
  if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
    ec = fail(conn, r, error, "read_snapshot_chunks");
    return false;
  }
  std::unordered_map<std::string_view, std::string_view> chunks;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    chunks.emplace(std::string_view(PQgetvalue(r.get(), i, 0), static_cast<std::size_t>(PQgetlength(r.get(), i, 0))),
                   std::string_view(PQgetvalue(r.get(), i, 1), static_cast<std::size_t>(PQgetlength(r.get(), i, 1))));
  }
  out.clear();
  out.reserve(total);
  for (const auto& p : pieces) {
    if (p.digest.empty()) {
      out.append(p.own);
      continue;
    }
    auto c = chunks.find(p.digest);
    if (c == chunks.end() || p.from > c->second.size() || c->second.size() - p.from != p.length) {
      return false;
    }
    out.append(c->second.substr(p.from));
  }
  return true;
}

}  // namespace

std::string make_manifest(const engine::snap::Blob& blob, const std::vector<std::string>& digests,
                          std::string& chunks) {
  std::string m(kManifestMagic, sizeof kManifestMagic);
  append_le64(m, blob.pieces.size());
  chunks.clear();
  std::unordered_set<std::string_view> named;
  for (std::size_t i = 0; i < blob.pieces.size(); ++i) {
    const auto& p = blob.pieces[i];
    if (!stored_as_chunk(p)) {
      m.push_back(0);
      append_le64(m, p.bytes().size());
      m.append(p.bytes());
      continue;
    }
    m.push_back(1);
    m.append(digests[i]);
    append_le64(m, p.from);
    append_le64(m, p.chunk->size() - p.from);
    if (named.insert(digests[i]).second) chunks.append(digests[i]);
  }
  return m;
}

std::string chunk_digest(std::string_view bytes) {
  std::string d(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
         reinterpret_cast<unsigned char*>(d.data()));
  return d;
}

std::error_code save_chunk(PGconn* conn, std::string_view digest, std::string_view bytes,
                           std::string* error) {
  static constexpr const char* kSql =
      "INSERT INTO snapshot_chunks (digest, bytes) VALUES ($1, $2) ON CONFLICT (digest) DO NOTHING";
  const unsigned types[2] = {kOidBytea, kOidBytea};
  const char* values[2] = {digest.data(), bytes.empty() ? "" : bytes.data()};
  const int lengths[2] = {static_cast<int>(digest.size()), static_cast<int>(bytes.size())};
  const int formats[2] = {1, 1};
  PgResult r(PQexecParams(conn, kSql, 2, types, values, lengths, formats, 1));
  if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) return fail(conn, r, error, "save_chunk");
  return {};
}

std::error_code save_snapshot(PGconn* conn, const SnapshotWrite& w, std::string* error) {
  if (w.seq <= 0 || w.state_hash.empty() || w.state_hash.size() > kStateHashBytesMax) {
    if (error != nullptr) *error = "snapshot: seq must be > 0 and state_hash 1..64 bytes";
    return errc::bad_record;
  }
  // The journal row at seq gives both the existence check and the record hash.
  // A row of another state hash scheme at the same seq (written before an upgrade) is
  // replaced: its hash is not comparable, and its state no longer loads.
  static constexpr const char* kSql =
      "WITH ins AS ("
      " INSERT INTO snapshots (seq, state_hash, payload, state, record_hash, chunks, hash_scheme)"
      " SELECT $1, $2, $3, $4, j.hash, $5, $6 FROM journal j WHERE j.seq = $1"
      " ON CONFLICT (seq) DO UPDATE SET state_hash = EXCLUDED.state_hash,"
      " payload = EXCLUDED.payload, state = EXCLUDED.state, record_hash = EXCLUDED.record_hash,"
      " chunks = EXCLUDED.chunks, hash_scheme = EXCLUDED.hash_scheme"
      " WHERE snapshots.hash_scheme <> EXCLUDED.hash_scheme RETURNING 1)"
      " SELECT (SELECT count(*) FROM ins),"
      " EXISTS (SELECT 1 FROM journal WHERE seq = $1),"
      " (SELECT state_hash FROM snapshots WHERE seq = $1)";
  const std::string seq_text = std::to_string(w.seq);
  const std::string scheme_text = std::to_string(engine::snap::kStateHashScheme);
  const unsigned types[6] = {kOidInt8, kOidBytea, kOidBytea, kOidBytea, kOidBytea, kOidInt2};
  const char* values[6] = {seq_text.c_str(), w.state_hash.data(),
                           w.payload.empty() ? "" : w.payload.data(),
                           w.state.empty() ? nullptr : w.state.data(),
                           w.chunks.empty() ? nullptr : w.chunks.data(), scheme_text.c_str()};
  const int lengths[6] = {0, static_cast<int>(w.state_hash.size()),
                          static_cast<int>(w.payload.size()), static_cast<int>(w.state.size()),
                          static_cast<int>(w.chunks.size()), 0};
  const int formats[6] = {0, 1, 1, 1, 1, 0};
  PgResult r(PQexecParams(conn, kSql, 6, types, values, lengths, formats, 1));
  if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) != 1) {
    return fail(conn, r, error, "save_snapshot");
  }
  if (bytes::get_u64(PQgetvalue(r.get(), 0, 0)) == 1) return {};
  if (PQgetvalue(r.get(), 0, 1)[0] == 0) {
    if (error != nullptr) *error = "snapshot at seq " + seq_text + " is ahead of the journal";
    return errc::snapshot_ahead;
  }
  if (field(r, 0, 2) == w.state_hash) return {};
  if (error != nullptr) *error = "snapshot at seq " + seq_text + " exists with another state hash";
  return errc::snapshot_conflict;
}

std::error_code save_snapshot(PGconn* conn, std::int64_t seq, std::string_view state_hash,
                              std::string_view bytes, std::string* error) {
  return save_snapshot(conn, SnapshotWrite{seq, state_hash, bytes, {}, {}}, error);
}

namespace {
constexpr const char* kColumns =
    "seq, state_hash, payload, coalesce(record_hash, ''::bytea), state IS NOT NULL";

Snapshot snapshot_of(const PgResult& r, int row) {
  Snapshot s;
  s.seq = static_cast<std::int64_t>(bytes::get_u64(PQgetvalue(r.get(), row, 0)));
  s.state_hash = field(r, row, 1);
  s.payload = field(r, row, 2);
  s.record_hash = field(r, row, 3);
  s.has_state = PQgetvalue(r.get(), row, 4)[0] != 0;
  return s;
}
}  // namespace

std::error_code load_latest_snapshot(PGconn* conn, std::optional<Snapshot>& out,
                                     std::string* error) {
  out.reset();
  const std::string sql =
      std::string("SELECT ") + kColumns + " FROM snapshots ORDER BY seq DESC LIMIT 1";
  PgResult r(PQexecParams(conn, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 1));
  if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
    return fail(conn, r, error, "load_latest_snapshot");
  }
  if (PQntuples(r.get()) == 0) return {};
  out = snapshot_of(r, 0);
  return {};
}

std::error_code list_snapshot_states(PGconn* conn, std::vector<std::int64_t>& seqs,
                                     std::string* error) {
  seqs.clear();
  PgResult r(PQexecParams(conn,
                          "SELECT seq FROM snapshots WHERE state IS NOT NULL ORDER BY seq DESC", 0,
                          nullptr, nullptr, nullptr, nullptr, 1));
  if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
    return fail(conn, r, error, "list_snapshot_states");
  }
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    seqs.push_back(static_cast<std::int64_t>(bytes::get_u64(PQgetvalue(r.get(), i, 0))));
  }
  return {};
}

std::error_code read_snapshot_state(PGconn* conn, std::int64_t seq,
                                    const std::function<void(const Snapshot&, std::string_view)>& fn,
                                    bool& found, std::string* error) {
  found = false;
  const std::string sql = std::string("SELECT ") + kColumns +
                          ", state FROM snapshots WHERE seq = $1::bigint AND state IS NOT NULL";
  const std::string seq_text = std::to_string(seq);
  const char* values[1] = {seq_text.c_str()};
  PgResult r(PQexecParams(conn, sql.c_str(), 1, nullptr, values, nullptr, nullptr, 1));
  if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
    return fail(conn, r, error, "read_snapshot_state");
  }
  if (PQntuples(r.get()) != 1) return {};
  const std::string_view state(PQgetvalue(r.get(), 0, 5),
                               static_cast<std::size_t>(PQgetlength(r.get(), 0, 5)));
  if (!is_manifest(state)) {
    found = true;
    fn(snapshot_of(r, 0), state);
    return {};
  }
  std::string bytes;
  std::error_code ec;
  if (!resolve_manifest(conn, state, bytes, error, ec)) {  // found stays false
    if (!ec && error != nullptr) {
      *error = "its manifest is cut or names a chunk that is gone";
    }
    return ec;
  }
  found = true;
  fn(snapshot_of(r, 0), bytes);
  return {};
}

std::error_code SnapshotStore::save(std::int64_t seq, std::string_view state_hash,
                                    std::string_view bytes) {
  if (auto ec = conn_.ensure()) return ec;
  std::string error;
  auto ec = save_snapshot(conn_.get(), seq, state_hash, bytes, &error);
  if (ec) conn_.set_error(error);
  return ec;
}

std::error_code SnapshotStore::load_latest(std::optional<Snapshot>& out) {
  if (auto ec = conn_.ensure()) return ec;
  std::string error;
  auto ec = load_latest_snapshot(conn_.get(), out, &error);
  if (ec) conn_.set_error(error);
  return ec;
}

}  // namespace ipx::pg
