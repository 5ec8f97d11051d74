#pragma once
// Errors of the PostgreSQL store (journal, snapshots, migrations, group commit). Values, not
// exceptions: the hot path (append, commit) reports these; the detail text of the last
// failure is kept by the object that failed (`last_error()`).
#include <string_view>
#include <system_error>

namespace ipx::pg {

enum class errc {
  ok = 0,
  connect_failed,      // could not open a connection (server down, bad conninfo)
  connection_lost,     // the connection broke during an operation (outcome may be unknown)
  query_failed,        // the server refused a statement (the transaction was rolled back)
  sequence_mismatch,   // a batch does not continue the journal (first seq != head + 1, or gaps)
  chain_mismatch,      // records already in the journal differ from the ones being re-sent
  chain_broken,        // verify/replay found a record whose hash or seq does not chain
  bad_record,          // a record out of bounds (payload too large, kind out of range)
  snapshot_conflict,   // a snapshot at that seq exists with another state hash
  snapshot_ahead,      // a snapshot for a seq the journal has not committed
  migration_failed,    // a migration file failed, or an applied one was edited
  queue_full,          // the committer's bounded queue is full (check available() first)
  stopped,             // the committer stopped before the batch was committed
  fatal,               // the committer hit an integrity error and will not resume
  state_mismatch,      // recovery: replay reached a snapshot's seq with another state hash
  replay_failed,       // recovery: the engine refused a journal record (decode, gap, time)
};

const std::error_category& pg_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), pg_category()};
}

}  // namespace ipx::pg

template <>
struct std::is_error_code_enum<ipx::pg::errc> : std::true_type {};
