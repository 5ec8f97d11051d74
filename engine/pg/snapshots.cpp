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

std::string field(const PgResult& r, int row, int col) {
  return std::string(PQgetvalue(r.get(), row, col),
                     static_cast<std::size_t>(PQgetlength(r.get(), row, col)));
}

// Keeps the states of the newest `kept` rows that have one; older states become NULL (their
// hashes stay: a full replay still checks them).
std::error_code drop_old_states(PGconn* conn, std::size_t kept, std::string* error) {
  static constexpr const char* kSql =
      "UPDATE snapshots SET state = NULL WHERE state IS NOT NULL AND seq < ("
      " SELECT min(seq) FROM (SELECT seq FROM snapshots WHERE state IS NOT NULL"
      " ORDER BY seq DESC LIMIT $1::bigint) newest)";
  const std::string kept_text = std::to_string(kept);
  const char* values[1] = {kept_text.c_str()};
  PgResult r(PQexecParams(conn, kSql, 1, nullptr, values, nullptr, nullptr, 0));
  if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) return fail(conn, r, error, "drop_old_states");
  return {};
}

}  // namespace

std::error_code save_snapshot(PGconn* conn, const SnapshotWrite& w, std::string* error) {
  if (w.seq <= 0 || w.state_hash.empty() || w.state_hash.size() > kStateHashBytesMax) {
    if (error != nullptr) *error = "snapshot: seq must be > 0 and state_hash 1..64 bytes";
    return errc::bad_record;
  }
  // The journal row at seq gives both the existence check and the record hash.
  static constexpr const char* kSql =
      "WITH ins AS ("
      " INSERT INTO snapshots (seq, state_hash, payload, state, record_hash)"
      " SELECT $1, $2, $3, $4, j.hash FROM journal j WHERE j.seq = $1"
      " ON CONFLICT (seq) DO NOTHING RETURNING 1)"
      " SELECT (SELECT count(*) FROM ins),"
      " EXISTS (SELECT 1 FROM journal WHERE seq = $1),"
      " (SELECT state_hash FROM snapshots WHERE seq = $1)";
  const std::string seq_text = std::to_string(w.seq);
  const unsigned types[4] = {kOidInt8, kOidBytea, kOidBytea, kOidBytea};
  const char* values[4] = {seq_text.c_str(), w.state_hash.data(),
                           w.payload.empty() ? "" : w.payload.data(),
                           w.state.empty() ? nullptr : w.state.data()};
  const int lengths[4] = {0, static_cast<int>(w.state_hash.size()),
                          static_cast<int>(w.payload.size()), static_cast<int>(w.state.size())};
  const int formats[4] = {0, 1, 1, 1};
  PgResult r(PQexecParams(conn, kSql, 4, types, values, lengths, formats, 1));
  if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) != 1) {
    return fail(conn, r, error, "save_snapshot");
  }
  if (bytes::get_u64(PQgetvalue(r.get(), 0, 0)) == 1) {
    if (w.state.empty() || w.states_kept == 0) return {};
    return drop_old_states(conn, w.states_kept, error);
  }
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
  return save_snapshot(conn, SnapshotWrite{seq, state_hash, bytes, {}, 0}, error);
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
  found = true;
  fn(snapshot_of(r, 0), std::string_view(PQgetvalue(r.get(), 0, 5),
                                         static_cast<std::size_t>(PQgetlength(r.get(), 0, 5))));
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
