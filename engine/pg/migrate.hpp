#pragma once
// The one migration runner. Applies schema/NNNN_name.sql files in filename order, each once, each
// in its own transaction, under a session advisory lock (concurrent runners wait for each other).
// Re-running does nothing. An applied file whose content changed is an error (migrations are
// immutable once applied: add a new file instead). Files must not contain BEGIN/COMMIT nor
// statements that cannot run in a transaction (CREATE INDEX CONCURRENTLY).
#include <libpq-fe.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace ipx::pg {

struct MigrateResult {
  std::error_code ec;                 // migration_failed, connection_lost, query_failed
  std::vector<std::string> applied;   // versions applied by this call (file stems)
  std::string message;                // detail on failure
  bool ok() const noexcept { return !ec; }
};

// $IPX_SCHEMA_DIR when set, else the source tree's schema/ (compile definition).
std::filesystem::path default_schema_dir();

MigrateResult apply_migrations(PGconn* conn, const std::filesystem::path& dir);
inline MigrateResult apply_migrations(PGconn* conn) {
  return apply_migrations(conn, default_schema_dir());
}

}  // namespace ipx::pg
