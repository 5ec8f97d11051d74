#pragma once
// Snapshots of the engine state: (seq, state_hash, payload). A snapshot may only be written for
// a seq the journal holds (checked in the same statement), so a restore never starts ahead of
// the journal. Saving the same (seq, state_hash) twice is a no-op; another hash is an error
// (the engine is not deterministic). These functions take a connection so they can run inside
// the group committer's batch transaction (as an ExtraWriter) or on their own connection.
#include <libpq-fe.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "engine/pg/conn.hpp"

namespace ipx::pg {

struct Snapshot {
  std::int64_t seq = 0;
  std::string state_hash;  // bytes (1..64)
  std::string payload;     // bytes
};

std::error_code save_snapshot(PGconn* conn, std::int64_t seq, std::string_view state_hash,
                              std::string_view bytes, std::string* error = nullptr);
std::error_code load_latest_snapshot(PGconn* conn, std::optional<Snapshot>& out,
                                     std::string* error = nullptr);

// A snapshot store with its own connection (reconnects), for a thread other than the
// committer's.
class SnapshotStore {
 public:
  explicit SnapshotStore(std::string conninfo) : conn_(std::move(conninfo)) {}
  std::error_code save(std::int64_t seq, std::string_view state_hash, std::string_view bytes);
  std::error_code load_latest(std::optional<Snapshot>& out);
  const std::string& last_error() const noexcept { return conn_.last_error(); }

 private:
  Connection conn_;
};

}  // namespace ipx::pg
