#pragma once
// The engine: the one writer of all state. A single thread takes typed commands from a bounded
// queue, stamps each with a sequence number and engine time, applies it to the Domain, and
// hands the batch's journal records to the durability layer; replies and pushes leave only
// after that batch commits.
//
// Sizing (back of the envelope): target 100k commands/s durable. A batch is whatever is queued
// when the engine thread wakes, at most kBatchMax = 4096 commands (~400 KiB of journal at ~100
// bytes a command); at 100k/s and ~1 ms per PostgreSQL commit that is ~100 commands a commit.
// The queue bound (kQueueMax = 65536) is ~0.6 s of that load: beyond it callers get UNAVAILABLE.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/domain.hpp"
#include "engine/methods.hpp"
#include "engine/outcome.hpp"

namespace ipx::engine {

struct Record {
  std::int64_t seq = 0;
  std::int64_t ts_ms = 0;
  std::int32_t kind = 0;  // Method
  std::string payload;    // canonical JSON {"a": actor, "r": request_id, "p": params}
};

// A command as the engine takes it. `done` is called once, after the command is durable (or at
// once when it is rejected before being applied), on a thread that is not the engine's.
struct Command {
  Method method = Method::tick;
  std::string actor;  // participant id; empty for the system
  std::string request_id;
  Params params;
  std::function<void(const Outcome&)> done;
  // Params fields the engine drew itself (participant.create's credentials when the request
  // has none): journaled as "g", left out of the request as a retry is compared with it.
  std::vector<std::string> generated;
  // Non-empty: the params failed the codec with this message. The command carries the params
  // as sent (`invalid_params`, JSON text) only so the BAD_REQUEST is kept for its request_id
  // (journaled with "x": the message); nothing else is applied.
  std::string invalid, invalid_params;
};

// Encode / decode a command for the journal (the one codec: codec::encode / codec::parse).
// `params_json`: codec::encode(c.params) as text when the caller has it already.
Record encode_record(const Command& c, std::int64_t seq, std::int64_t ts_ms,
                     std::string_view params_json = {});
bool decode_record(const Record& r, Command& out, std::string& error);
// The params as the request carried them (without the generated fields), canonical text.
std::string sent_params(const Command& c);

// A journal record decoded for replay. decode_for_replay is pure (any thread), so recovery
// decodes on one thread while the engine applies on another (Engine::apply_replayed, in seq
// order).
struct Replayed {
  std::int64_t seq = 0;
  std::int64_t ts_ms = 0;
  Command command;
  std::string sent;  // the params as sent, for the idempotency table (empty without request_id)
};
bool decode_for_replay(const Record& r, Replayed& out, std::string& error);

// The durability layer the engine writes through (PostgreSQL group commit in ipxd).
class Durability {
 public:
  virtual ~Durability() = default;
  virtual bool available() const = 0;
  // Asked on the engine thread before a batch with a change is applied: available(), and may
  // look closer at an idle journal connection (PgDurability: GroupCommitter::probe).
  virtual bool probe() { return available(); }
  // Takes one batch; calls on_committed once it is durable (in submission order).
  virtual void submit(std::vector<Record> records, std::function<void()> on_committed) = 0;
  // Called just before submit() with the ledger accounts and transfers the same batch made,
  // to be written in the same transaction as its journal records (issue 4).
  virtual void ledger_rows(std::vector<ledger::Account> /*accounts*/,
                           std::vector<ledger::Transfer> /*transfers*/) {}
};

// Where pushes go after commit (the gateway's hub in ipxd), in commit order.
class Publisher {
 public:
  virtual ~Publisher() = default;
  // Each push once, in commit order; the publisher may move what it keeps out of it (the
  // channel snapshot, the data): the engine drops the batch's pushes afterwards.
  virtual void publish(Push& push) = 0;
  // Called after each committed batch with the participants whose credentials were created.
  virtual void credentials(const std::vector<Credential>& /*created*/) {}
  // At start, before any publish: the current state of every channel (after a replay).
  virtual void seed(const std::string& /*channel*/, const json::value& /*snapshot*/) {}
  // Engine time, for gateways that have no engine (Redis edges): at start, then with a
  // manual clock after each committed batch, before its pushes.
  virtual void clock(std::int64_t /*now_ms*/, bool /*manual*/) {}
};

struct EngineOptions {
  bool manual_clock = false;
  std::int64_t manual_start_ms = 0;  // 0: the real clock's time at start
  std::size_t queue_max = 65'536;
  std::size_t batch_max = 4'096;
  // The ledger's live log capacity (Domain::kEngineLedgerLimits when 0). Smaller ones make
  // tests compact the ledger often; it is configuration, not state: a journal replays to the
  // same state hash under any capacity it fits in.
  std::size_t ledger_transfers_max = 0;
  // Off: the ledger retires nothing and grows with every transfer (ipx-ledger backfill).
  bool retire_ledger = true;
};

class Engine {
 public:
  Engine(EngineOptions options, Durability* durability, Publisher* publisher);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Replays journal records (before start()): decode_for_replay, then apply_replayed.
  bool replay(const Record& r, std::string& error);
  // Applies a decoded record (before start(); the engine's owner thread, in seq order).
  bool apply_replayed(Replayed& r, std::string& error);
  // Before start() and any replay: takes the state of a snapshot at `seq` (Domain::load),
  // which must have the state hash `state_hash`; replay continues at seq + 1. False (with the
  // reason) leaves the engine as it was.
  bool restore(std::int64_t seq, std::string_view state, std::uint64_t state_hash,
               std::string& error);
  void start();
  void stop();

  // Thread-safe. False when the queue is full (the caller answers UNAVAILABLE).
  bool submit(Command&& c);
  bool accepting() const;

  // Engine-thread-only access for tests that run without start().
  Domain& domain() { return domain_; }
  std::int64_t last_seq() const { return seq_; }

  // Any thread: the transfers in the ledger's live log as of the last batch applied (or
  // start()), those retired to the database only, and the live log's capacity (set at
  // construction or by restore(), before start(); never after). Compaction keeps the live log
  // under half the capacity; near the capacity the engine refuses state-changing commands
  // (Domain::apply: UNAVAILABLE). Operators watch these on /metrics.
  std::size_t ledger_transfers() const { return ledger_transfers_.load(std::memory_order_relaxed); }
  std::uint64_t ledger_retired() const { return ledger_retired_.load(std::memory_order_relaxed); }
  std::size_t ledger_transfers_max() const { return domain_.ledger().limits().transfers_max; }

 private:
  void run();
  void apply_batch(std::vector<Command>& batch);
  void attach_snapshots(std::vector<Push>& pushes) const;
  std::int64_t clock_now() const;

  EngineOptions options_;
  Durability* durability_;
  Publisher* publisher_;
  Domain domain_;
  std::int64_t seq_ = 0;
  std::atomic<std::size_t> ledger_transfers_{0};
  std::atomic<std::uint64_t> ledger_retired_{0};
  bool ledger_warned_ = false;  // the engine thread's

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Command> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ipx::engine
