#include "engine/pg/snapshots.hpp"

#include <string>

#include "engine/pg/bytes.hpp"
#include "engine/pg/errc.hpp"

namespace ipx::pg {
namespace {

constexpr unsigned kOidInt8 = 20;
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

}  // namespace

std::error_code save_snapshot(PGconn* conn, std::int64_t seq, std::string_view state_hash,
                              std::string_view bytes, std::string* error) {
  if (seq <= 0 || state_hash.empty() || state_hash.size() > kStateHashBytesMax) {
    if (error != nullptr) *error = "snapshot: seq must be > 0 and state_hash 1..64 bytes";
    return errc::bad_record;
  }
  static constexpr const char* kSql =
      "WITH ins AS ("
      " INSERT INTO snapshots (seq, state_hash, payload)"
      " SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM journal WHERE seq = $1)"
      " ON CONFLICT (seq) DO NOTHING RETURNING 1)"
      " SELECT (SELECT count(*) FROM ins),"
      " EXISTS (SELECT 1 FROM journal WHERE seq = $1),"
      " (SELECT state_hash FROM snapshots WHERE seq = $1)";
  const std::string seq_text = std::to_string(seq);
  const unsigned types[3] = {kOidInt8, kOidBytea, kOidBytea};
  const char* values[3] = {seq_text.c_str(), state_hash.data(), bytes.empty() ? "" : bytes.data()};
  const int lengths[3] = {0, static_cast<int>(state_hash.size()), static_cast<int>(bytes.size())};
  const int formats[3] = {0, 1, 1};
  PgResult r(PQexecParams(conn, kSql, 3, types, values, lengths, formats, 1));
  if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) != 1) {
    return fail(conn, r, error, "save_snapshot");
  }
  if (bytes::get_u64(PQgetvalue(r.get(), 0, 0)) == 1) return {};
  if (PQgetvalue(r.get(), 0, 1)[0] == 0) {
    if (error != nullptr) *error = "snapshot at seq " + seq_text + " is ahead of the journal";
    return errc::snapshot_ahead;
  }
  const std::string_view existing(PQgetvalue(r.get(), 0, 2),
                                  static_cast<std::size_t>(PQgetlength(r.get(), 0, 2)));
  if (existing == state_hash) return {};
  if (error != nullptr) *error = "snapshot at seq " + seq_text + " exists with another state hash";
  return errc::snapshot_conflict;
}

std::error_code load_latest_snapshot(PGconn* conn, std::optional<Snapshot>& out,
                                     std::string* error) {
  out.reset();
  PgResult r(PQexecParams(conn,
                          "SELECT seq, state_hash, payload FROM snapshots ORDER BY seq DESC LIMIT 1",
                          0, nullptr, nullptr, nullptr, nullptr, 1));
  if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
    return fail(conn, r, error, "load_latest_snapshot");
  }
  if (PQntuples(r.get()) == 0) return {};
  Snapshot s;
  s.seq = static_cast<std::int64_t>(bytes::get_u64(PQgetvalue(r.get(), 0, 0)));
  s.state_hash.assign(PQgetvalue(r.get(), 0, 1), static_cast<std::size_t>(PQgetlength(r.get(), 0, 1)));
  s.payload.assign(PQgetvalue(r.get(), 0, 2), static_cast<std::size_t>(PQgetlength(r.get(), 0, 2)));
  out = std::move(s);
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
