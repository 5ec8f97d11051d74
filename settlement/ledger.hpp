#pragma once
// The double-entry ledger (DESIGN.md "The ledger"), after TigerBeetle's account/transfer
// model: accounts carry debits/credits, each pending and posted; a transfer moves an amount
// from one account (debit) to another (credit) on the same ledger; pending transfers hold
// and are later posted (up to the held amount; the rest returns), voided, or expired.
//
// Pure, in memory, deterministic; called by the single engine thread. No clock: time comes
// in as `now`. No allocation after construction: every table is sized by Limits (and
// touched up front with Limits::prefault), and reaching a limit is errc::capacity (tested),
// unless Limits::grow makes the transfer capacity soft (the engine's ledger: its owner
// refuses new work near it, and what it may not refuse makes the tables grow).
//
// Back of the envelope: the engine's peak is ~50k commands/s, a command makes <= ~8
// transfers, so <= 400k transfers/s, and the ledger does >= 5M/s on one core (see
// docs/BENCHMARKS.md "Ledger"). A transfer record is 80 bytes; 1M transfers = 80 MB plus a
// 32 MB id index. transfers_max bounds the live log: compact() retires what nobody needs
// any more (the database keeps the whole record), so a ledger runs for good.
//
// Invariants (check_invariants): per ledger, the sum of posted credits equals the sum of
// posted debits, and the same for pending; every account honours its balance flags; every
// pending transfer is resolved (posted, voided or expired) at most once; balances equal a
// recomputation from the transfer log.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "matching/types.hpp"
#include "settlement/errc.hpp"
#include "settlement/id_index.hpp"

namespace ipx::ledger {

// Ledger ids (one asset code per ledger). Per-market ledgers are derived from the
// engine's market number: ledger_for_market(n).
inline constexpr std::uint32_t kLedgerCny = 1;     // fen
inline constexpr std::uint32_t kLedgerTitles = 2;  // one unit = one asset's title
inline constexpr std::uint32_t kLedgerMarketBase = 0x1'0000;
constexpr std::uint32_t ledger_for_market(std::uint32_t market_no) {
  return kLedgerMarketBase + market_no;
}

// Transfer ids with this bit are made by the ledger itself: the void that expire() records
// for pending P has id P | kExpiryIdBit. Caller ids must be nonzero and below 2^62; so every
// id fits a positive PostgreSQL bigint.
inline constexpr std::uint64_t kExpiryIdBit = std::uint64_t{1} << 62;
inline constexpr std::uint64_t kIdMax = kExpiryIdBit - 1;

namespace account_flags {
inline constexpr std::uint16_t debits_must_not_exceed_credits = 1u << 0;  // participant cash/units
inline constexpr std::uint16_t credits_must_not_exceed_debits = 1u
                                                                << 1;  // e.g. a fund's payout side
inline constexpr std::uint16_t all = 0x3;
}  // namespace account_flags

namespace transfer_flags {
inline constexpr std::uint16_t linked = 1u << 0;  // chained with the next one in the submit
inline constexpr std::uint16_t pending = 1u << 1;
inline constexpr std::uint16_t post_pending = 1u << 2;
inline constexpr std::uint16_t void_pending = 1u << 3;
inline constexpr std::uint16_t expiry = 1u << 4;  // set by the ledger only, on expire()'s voids
inline constexpr std::uint16_t caller_all = 0xF;
}  // namespace transfer_flags

struct Account {
  std::uint64_t id = 0;     // caller-derived, 1 .. 2^63-1
  std::uint64_t owner = 0;  // user data: participant, auction, case... (0: none)
  std::int64_t debits_pending = 0;
  std::int64_t debits_posted = 0;
  std::int64_t credits_pending = 0;
  std::int64_t credits_posted = 0;
  std::uint32_t ledger = 0;
  std::uint16_t code = 0;   // the account's kind (engine-defined; see settlement/codes.hpp)
  std::uint16_t flags = 0;  // account_flags
  friend bool operator==(const Account&, const Account&) = default;
};

// Helpers for account.get. For a participant's cash account (credited when funded):
//   cash_available = available(a), cash_held = held(a).
// For a position account: units = posted_balance(a), units_held = held(a).
// Exact: apply() keeps debits_pending + debits_posted and credits_pending + credits_posted
// within int64, so these never overflow.
constexpr std::int64_t held(const Account& a) {
  return a.debits_pending;
}
constexpr std::int64_t posted_balance(const Account& a) {
  return a.credits_posted - a.debits_posted;
}
constexpr std::int64_t available(const Account& a) {
  return a.credits_posted - (a.debits_posted + a.debits_pending);
}

struct Transfer {
  std::uint64_t id = 0;                 // caller-derived (engine sequence): 1 .. kIdMax
  std::uint64_t debit_account_id = 0;   // post/void: 0 or the pending's
  std::uint64_t credit_account_id = 0;  // post/void: 0 or the pending's
  std::int64_t amount = 0;       // > 0; post: <= the pending amount; void: 0 or the pending amount
  std::uint64_t pending_id = 0;  // post/void only
  std::uint64_t code = 0;        // why (settlement/codes.hpp); post/void: 0 inherits
  std::uint64_t ref = 0;         // auction, case, order...; post/void: 0 inherits
  std::int64_t expires_at_ms = 0;  // pending only; 0 = never
  std::int64_t ts_ms = 0;          // stamped by submit (engine time); ignored on input
  std::uint32_t ledger = 0;        // post/void: 0 or the pending's
  std::uint16_t flags = 0;         // transfer_flags
  friend bool operator==(const Transfer&, const Transfer&) = default;
};

struct Limits {
  std::size_t accounts_max = std::size_t{1} << 16;
  std::size_t transfers_max = std::size_t{1} << 20;
  // Touch every table at construction so the hot path takes no first-touch page faults
  // (production, benchmarks). Off by default: tests that build many ledgers stay light.
  bool prefault = false;
  // Touch the id indexes only (their slots are spread by hashing, so growth would otherwise
  // fault a new page in at random, on the engine thread): the engine's ledger. Implied by
  // prefault. Off: an index costs memory only as ids arrive (tests, tools).
  bool touch_index = false;
  // transfers_max is soft: past it the tables grow (the id index is rebuilt twice the size,
  // the log's vectors reallocate) instead of a submit failing with errc::capacity. The
  // engine's ledger (its owner refuses new work near transfers_max and compacts; what it may
  // not refuse, cancels and timers, must never fail midway).
  bool grow = false;
};

struct SubmitResult {
  errc ec = errc::ok;
  std::uint32_t index = 0;    // on error: the failing transfer's index in the batch
  std::uint32_t created = 0;  // on success: transfers appended to the log
  std::uint32_t existed = 0;  // on success: identical transfers already there (no change)
  bool ok() const { return ec == errc::ok; }
};

class Ledger {
 public:
  explicit Ledger(Limits limits = {});

  // Idempotent: the same id with identical fields is ok and changes nothing.
  errc create_account(const Account& a);
  const Account* find_account(std::uint64_t id) const;
  std::span<const Account> accounts() const { return accounts_; }

  // Applies the whole batch or nothing (one engine command = one submit). On the first
  // refused transfer every effect of the batch is rolled back and its index is reported.
  // Transfers may depend on earlier ones in the batch (post a pending made just before).
  // `linked` marks chains as TigerBeetle does (the record shows what moved together); the
  // last transfer of a batch must not carry it. ts_ms of every new transfer = now.
  SubmitResult submit(std::span<const Transfer> batch, Ms now);

  // Voids every open pending with expires_at_ms <= now, in (expires_at_ms, id) order,
  // appending one void per pending (id = pending id | kExpiryIdBit, flags void_pending |
  // expiry, code and ref of the pending). Returns how many. Deterministic.
  std::size_t expire(Ms now);

  // The transfer log (append-only, in apply order) and its lookup. transfer_count() counts
  // every transfer ever appended, retired or not; transfers_since(i) gives those appended at
  // or after position i, which must not be before the last compact().
  std::size_t transfer_count() const { return static_cast<std::size_t>(retired_) + log_.size(); }
  std::span<const Transfer> transfers_since(std::size_t index) const;
  // Null for unknown ids and for retired ones.
  const Transfer* find_transfer(std::uint64_t id) const;
  enum class PendingState : std::uint8_t { none = 0, open, posted, voided, expired };
  // For a pending transfer: open or how it was resolved; none for others, unknown ids and
  // retired ones (a retired pending was resolved: compact() keeps every open one).
  PendingState pending_state(std::uint64_t id) const;
  std::size_t open_pending_count() const { return open_pendings_; }

  // ---- retirement: the live log stays bounded; the full record is the database's ----------
  //
  // compact() drops from memory every transfer that is not an open pending and that `keep`
  // (optional) does not ask for: the transfers a caller still looks up. What stays is
  // "carried" (moved, in log order, to the front of the live log) with its pending state; the
  // balances at that moment become the log's base. Balances, the running hashes and
  // transfer_count() do not change, so neither does state_hash(): when and how often a
  // ledger is compacted is not part of its state. After it, a retired id is unknown: callers
  // must not reuse transfer ids (the engine's come from its command sequence, and
  // PostgreSQL's primary key on ledger_transfers would refuse a reused one at commit).
  // O(live log + id index): ~42 ms at the engine's 2^21 (docs/BENCHMARKS.md); called between
  // submits, never inside one.
  std::size_t compact(const std::function<bool(const Transfer&)>& keep = {});
  std::uint64_t retired_count() const { return retired_; }
  // The live log: log_[0, carried) kept by the last compact(), then what came after it.
  std::span<const Transfer> live_log() const { return log_; }
  std::size_t carried_count() const { return carried_state_.size(); }
  // A carried entry's pending state as the compaction found it (what restore() takes: the
  // live log after the carried entries moves it on, as it did the first time).
  PendingState carried_state(std::size_t i) const { return carried_state_[i]; }
  std::uint64_t max_transfer_id() const { return max_id_; }
  // The transfers appended since the last take_made() (a refused batch's are taken back),
  // for a caller that persists them: compact() may retire them from the live log first. Off
  // until record_made(true).
  void record_made(bool on) {
    record_made_ = on;
    made_.clear();
  }
  std::vector<Transfer> take_made() {
    std::vector<Transfer> next;
    next.reserve(made_.capacity());  // the next batch's pushes do not reallocate
    return std::exchange(made_, std::move(next));
  }
  // What compact() left behind, for a snapshot (all zero and empty: never compacted).
  struct History {
    std::uint64_t retired = 0;         // transfers dropped
    std::uint64_t carried = 0;         // live log entries kept by the last compact()
    std::uint64_t hash_transfers = 0;  // the running transfer hash at the last compact()
    std::uint64_t max_id = 0;          // the highest transfer id appended before it
    std::vector<Account> base;         // the balances then (the accounts of that time, in order)
    friend bool operator==(const History&, const History&) = default;
  };
  History history() const {
    return {retired_, carried_state_.size(), hash_base_, max_id_base_, base_};
  }

  // Balances replayed from the log (from the base, the carried entries being in it), in
  // account order (for reconciliation).
  std::vector<Account> recompute_balances_from_transfers() const;

  // The first violated invariant, or nullopt. `full` also replays the whole log (O(log));
  // without it the check is O(accounts) and cheap enough for every batch.
  std::optional<std::string> check_invariants(bool full = true) const;

  // Canonical little-endian encoding of the whole state: magic, limits, accounts (with
  // balances), the history (History: counts, hash, base balances), the live log (carried
  // entries with their pending state), state_hash(), then a checksum of all preceding bytes.
  // deserialize verifies the checksum first, restores as restore() does (every check), then
  // compares the hash and re-checks every invariant (on the way out and on the way back in).
  std::vector<std::uint8_t> serialize() const;
  static std::optional<Ledger> deserialize(std::span<const std::uint8_t> bytes,
                                           bool prefault = false);

  // Snapshots of the engine (which encodes limits(), accounts(), history() and live_log() its
  // own way): a ledger rebuilt from its accounts, its history and its live log. The carried
  // entries are checked (accounts, ledgers, ids, states) and their open pendings must add up
  // to the base's pending balances; every later transfer is re-applied onto the base with
  // the checks a submit makes; then the balances must equal the accounts' and the cheap
  // invariants must hold; otherwise nullopt, with the reason in `error`. `next` yields the
  // live log's transfers in order, with a carried one's carried_state() (false: the source
  // ran dry or failed).
  using NextTransfer = std::function<bool(Transfer&, PendingState&)>;
  static std::optional<Ledger> restore(Limits limits, std::span<const Account> accounts,
                                       const History& history, std::uint64_t transfers,
                                       const NextTransfer& next, std::string& error);
  const Limits& limits() const { return limits_; }

  // 64-bit state hash for the engine's state hash: two running hashes, one over every
  // account creation (id, ledger, code, flags, owner in creation order), one over every
  // transfer record appended to the log (all fields, in log order), mixed word by word
  // (multiply-xorshift, not cryptographic; the journal's SHA-256 chain covers tampering),
  // then combined. Balances and pending states are functions of these, so equal hashes
  // mean equal states. O(1); restored on rollback.
  std::uint64_t state_hash() const;

 private:
  struct Prepared {
    Transfer t;               // normalized, ts_ms stamped
    std::uint32_t debit = 0;  // account indexes
    std::uint32_t credit = 0;
    std::uint32_t pending = IdIndex::kNone;  // post/void: the pending's log index
    bool exists = false;                     // identical transfer already applied
  };
  errc prepare(const Transfer& in, Ms now, Prepared& out) const;
  errc check_balances(const Prepared& p) const;
  void apply(const Prepared& p);
  void undo_last();
  errc replay(const Transfer& t);  // deserialize: re-apply a logged transfer, checked
  void push_deadline(const Transfer& t);
  bool same_request(const Transfer& in, const Transfer& stored) const;

  Limits limits_;
  std::vector<Account> accounts_;
  IdIndex account_index_;
  std::vector<Transfer> log_;
  std::vector<PendingState> state_;        // parallel to log_
  std::vector<std::uint32_t> pending_of_;  // parallel to log_: post/void -> pending's index
  IdIndex transfer_index_;
  // Min-heap of (expires_at_ms, id) for pendings with a deadline; stale entries (resolved
  // or rolled-back pendings) are skipped when popped.
  struct Deadline {
    std::int64_t at_ms;
    std::uint64_t id;
  };
  std::vector<Deadline> deadlines_;
  std::size_t open_pendings_ = 0;
  std::uint64_t hash_accounts_ = 0;
  std::uint64_t hash_transfers_ = 0;
  std::uint64_t max_id_ = 0;  // the highest transfer id ever appended
  bool record_made_ = false;
  std::vector<Transfer> made_;  // with record_made_: appended since the last take_made()
  // Retirement (compact()): transfers dropped, live entries carried, and the balances, the
  // running hash and the highest id at the last compaction.
  std::uint64_t retired_ = 0;
  // The live log's first entries, kept by the last compaction: their state as it found them.
  std::vector<PendingState> carried_state_;
  std::vector<Account> base_;
  std::uint64_t hash_base_ = 0;
  std::uint64_t max_id_base_ = 0;
};

}  // namespace ipx::ledger
