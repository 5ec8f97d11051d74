#include "engine/pg/migrate.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "engine/pg/conn.hpp"
#include "engine/pg/errc.hpp"

#ifndef IPX_SCHEMA_SOURCE_DIR
#define IPX_SCHEMA_SOURCE_DIR "schema"
#endif

namespace ipx::pg {
namespace {

// pg_advisory_lock key: "ipx.migr" as a 64-bit constant.
constexpr const char* kLockSql = "SELECT pg_advisory_lock(7596566475153729906)";
constexpr const char* kUnlockSql = "SELECT pg_advisory_unlock(7596566475153729906)";
constexpr std::size_t kMigrationFilesMax = 1000;

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 15]);
  }
  return out;
}

std::string sha256_hex(const std::string& text) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> md{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), md.data());
  return hex(md.data(), md.size());
}

PgResult run(PGconn* conn, const char* sql) { return PgResult(PQexec(conn, sql)); }

bool good(const PgResult& r) {
  if (!r) return false;
  const auto st = PQresultStatus(r.get());
  return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

std::string error_of(PGconn* conn, const PgResult& r) {
  std::string m = r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn);
  while (!m.empty() && m.back() == '\n') m.pop_back();
  return m;
}

PgResult run_params(PGconn* conn, const char* sql, std::initializer_list<const char*> params) {
  std::vector<const char*> values(params);
  return PgResult(PQexecParams(conn, sql, static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0));
}

struct Migration {
  std::string version;  // file stem, e.g. 0001_journal
  std::filesystem::path path;
};

bool list_migrations(const std::filesystem::path& dir, std::vector<Migration>& out,
                     std::string& message) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    message = "cannot read schema dir " + dir.string() + ": " + ec.message();
    return false;
  }
  for (const auto& entry : it) {
    if (!entry.is_regular_file() || entry.path().extension() != ".sql") continue;
    out.push_back({entry.path().stem().string(), entry.path()});
    if (out.size() > kMigrationFilesMax) {
      message = "too many migration files in " + dir.string();
      return false;
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Migration& a, const Migration& b) { return a.path.filename() < b.path.filename(); });
  return true;
}

// Applies one file unless already applied. Returns false with `message` on failure.
bool apply_one(PGconn* conn, const Migration& m, MigrateResult& result) {
  std::ifstream in(m.path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  if (!in) {
    result.message = "cannot read " + m.path.string();
    return false;
  }
  const std::string text = buf.str();
  const std::string checksum = sha256_hex(text);
  auto seen = run_params(conn, "SELECT checksum FROM schema_migrations WHERE version = $1",
                         {m.version.c_str()});
  if (!good(seen)) {
    result.message = "reading schema_migrations: " + error_of(conn, seen);
    return false;
  }
  if (PQntuples(seen.get()) == 1) {
    if (checksum == PQgetvalue(seen.get(), 0, 0)) return true;
    result.message = "migration " + m.version +
                     " was edited after it was applied (add a new migration file instead)";
    return false;
  }
  if (!good(run(conn, "BEGIN"))) {
    result.message = "BEGIN: " + std::string(PQerrorMessage(conn));
    return false;
  }
  auto body = run(conn, text.c_str());
  auto mark = good(body) ? run_params(conn,
                                      "INSERT INTO schema_migrations (version, checksum) "
                                      "VALUES ($1, $2)",
                                      {m.version.c_str(), checksum.c_str()})
                         : PgResult();
  if (!good(body) || !good(mark)) {
    result.message = "migration " + m.version + ": " + error_of(conn, good(body) ? mark : body);
    run(conn, "ROLLBACK");
    return false;
  }
  auto commit = run(conn, "COMMIT");
  if (!good(commit)) {
    result.message = "migration " + m.version + " COMMIT: " + error_of(conn, commit);
    return false;
  }
  result.applied.push_back(m.version);
  return true;
}

}  // namespace

std::filesystem::path default_schema_dir() {
  if (const char* env = std::getenv("IPX_SCHEMA_DIR"); env != nullptr && env[0] != '\0') {
    return env;
  }
  return IPX_SCHEMA_SOURCE_DIR;
}

MigrateResult apply_migrations(PGconn* conn, const std::filesystem::path& dir) {
  MigrateResult result;
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    result.ec = errc::connection_lost;
    result.message = "no connection";
    return result;
  }
  std::vector<Migration> files;
  if (!list_migrations(dir, files, result.message)) {
    result.ec = errc::migration_failed;
    return result;
  }
  // Migrations' NOTICEs ("... does not exist, skipping") are noise for the runner's callers.
  run(conn, "SET client_min_messages = warning");
  if (!good(run(conn, kLockSql))) {
    result.ec = errc::migration_failed;
    result.message = "advisory lock: " + std::string(PQerrorMessage(conn));
    return result;
  }
  auto created = run(conn,
                     "CREATE TABLE IF NOT EXISTS schema_migrations ("
                     " version text PRIMARY KEY,"
                     " checksum text NOT NULL,"
                     " applied_at timestamptz NOT NULL DEFAULT now())");
  bool ok = good(created);
  if (!ok) result.message = "schema_migrations: " + error_of(conn, created);
  for (const auto& m : files) {
    if (!ok) break;
    ok = apply_one(conn, m, result);
  }
  run(conn, kUnlockSql);
  run(conn, "RESET client_min_messages");
  if (!ok) result.ec = PQstatus(conn) == CONNECTION_OK ? errc::migration_failed
                                                        : errc::connection_lost;
  return result;
}

}  // namespace ipx::pg
