#pragma once
// Recovery: bring an Engine (constructed, not started) to the journal's head.
//
//   1. apply the schema migrations (schema/, idempotent);
//   2. (from_snapshot) take the latest snapshot state that loads and checks: its journal
//      record hash must be the journal's at its seq, Domain::load must accept it, and its state
//      hash must be the row's. A snapshot that fails (another format version, corrupt bytes, a
//      changed journal) is passed over for the one before, and at last for seq 1; each is
//      logged with its reason;
//   3. replay every journal record after that seq into the engine (Engine::replay), checking
//      the hash chain as it streams (binary COPY) from the snapshot's record hash;
//   4. on reaching each later snapshot's seq, compare hex(Domain::state_hash()) with the
//      snapshot's: a mismatch is a fatal start-up error naming the seq (the engine is not
//      deterministic, or the code changed the meaning of the journal).
// With from_snapshot false, the replay starts at seq 1 and checks every snapshot on the way:
// the audit path (ipx-engine-driver verify and replay-check), which proves the whole chain.
//
// ipxd: construct PgDurability and the Engine, call recover(), then durability.start(engine),
// then engine.start(). See engine/pg/durability.hpp.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include "engine/engine.hpp"

namespace ipx::pg {

struct RecoverOptions {
  bool migrate = true;
  std::filesystem::path schema_dir;  // empty: default_schema_dir() ($IPX_SCHEMA_DIR or schema/)
  bool check_snapshots = true;
  // Start from the latest snapshot state (step 2); false: replay from seq 1 (the audit path).
  bool from_snapshot = true;
  // Where recovery says what it started from and why it passed a snapshot over; empty: stderr.
  std::function<void(const std::string&)> log;
  // Called every `progress_every` records replayed (on the calling thread), e.g. for logs.
  std::function<void(std::int64_t records)> progress;
  std::int64_t progress_every = 1'000'000;
};

struct RecoverResult {
  std::error_code ec;  // connect_failed, migration_failed, chain_broken, state_mismatch,
                       // replay_failed, query_failed, connection_lost
  std::string message;
  std::vector<std::string> migrations_applied;
  std::int64_t records = 0;   // replayed by this call
  std::int64_t last_seq = 0;  // the engine's last seq afterwards (the journal's head)
  std::int64_t broken_seq = 0;  // chain_broken / state_mismatch / replay_failed: the seq
  std::int64_t snapshots_checked = 0;
  std::int64_t last_snapshot_seq = 0;  // the latest snapshot checked on the way (0: none)
  std::int64_t snapshot_seq = 0;       // the snapshot whose state recovery started from (0: none)
  std::int64_t snapshots_refused = 0;  // snapshot states passed over (each logged)
  std::chrono::microseconds restore_elapsed{0};  // reading and loading that state
  std::string state_hash;              // hex of Domain::state_hash() after replay
  std::chrono::microseconds elapsed{0};         // the whole call
  std::chrono::microseconds replay_elapsed{0};  // the replay alone
  bool ok() const noexcept { return !ec; }
};

RecoverResult recover(engine::Engine& engine, const std::string& conninfo,
                      const RecoverOptions& options = {});

}  // namespace ipx::pg
