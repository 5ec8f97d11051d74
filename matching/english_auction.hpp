#pragma once
// English auction (DOMAIN.md rules 1, 4, 5, 6; PROTOCOL.md auction.bid / auction.proxy).
// Also the shared auction vocabulary (events, sink, states, bidder index) used by every
// format in matching/.
//
// Pure and deterministic: advanced only by commands carrying the engine time `now` and by
// advance(now). No I/O, no clock, no allocation after construction (capacities reserved up
// front; a full table answers errc::capacity).
//
// Back of the envelope: a judicial auction sees tens to hundreds of bids and a few dozen
// registered bidders; a busy licence auction a few thousand. max_bidders (default 1,024)
// bounds the proxies and priority holders tracked; bids themselves need no storage.
//
// Rules as implemented (each is a test name in tests/matching/english_auction_test.cpp):
// - Rule 4: the first bid is exactly the start (the minimum first bid); later bids are on the
//   grid start + k x increment (IncrementGrid; tiered tables supported). Checks run in this
//   order: closed/not open, already_leading, bid_too_low, bad_price (PROTOCOL "Edges").
// - Rule 4: a leader may not raise its own leading bid (already_leading). It MAY raise its
//   own proxy maximum: that is not a bid (no event, no count, no extension); the new maximum
//   is a new commitment and takes the time of the raise for tie-breaks.
// - Proxy bids: the mechanism bids the minimum needed for each proxy up to its maximum (the
//   maximum must be on the grid and >= the bidder's minimum next bid). A war between proxies
//   is resolved at once: the strongest contender W (highest ceiling; equal ceilings: the
//   better priority rank, then the earlier commitment) bids the lowest amount that beats the
//   runner-up R's ceiling; R's proxy first shows its last bid: the highest amount it may
//   validly bid that W's final bid still beats. Every emitted bid is valid under the normal
//   rules at the moment it is emitted, and counts in `bids`.
// - Rule 5 soft close: an accepted bid at t with closes_at - t <= extend_window_ms moves the
//   close to t + extend_by_ms (never earlier than it was), repeatedly. Window 0: none.
// - Rule 6 priority holders: a holder may bid the standing high bid's amount and takes the
//   lead when its rank beats the leader's (non-holders have no rank); equal rank: the earlier
//   bid keeps the lead. Hence min_next_bid_for(bidder).
// - Rule 1: the start is the reserve; an extra reserve (public or hidden) may be set: at close
//   a high bid below it is unsold (reserve_not_met); no bid is unsold (no_bids).
// - Time: a command first fires every timer due up to `now`; a bid at t >= closes_at is
//   auction_closed, before opens_at auction_not_open; the close fires at exactly closes_at.
#include <cstdint>
#include <optional>
#include <vector>

#include "matching/errc.hpp"
#include "matching/increments.hpp"
#include "matching/types.hpp"

namespace ipx::matching {

using BidderId = std::uint64_t;

enum class AuctionState : std::uint8_t { scheduled, open, sold, unsold, cancelled };
enum class UnsoldReason : std::uint8_t {
  none,
  no_bids,          // nobody bid / accepted / registered
  reserve_not_met,  // the high bid is below the reserve
  floor_expired,    // Dutch: the floor stood one interval unaccepted
  time_up,          // Dutch: closes_at reached before the floor expired
};

enum class EventKind : std::uint8_t {
  opened,          // ts
  bid,             // bidder, amount, ts, is_proxy
  leader_changed,  // bidder (the new leader), amount, ts
  extended,        // closes_at (the new close), ts
  price_tick,      // Dutch: amount (the new clock price), ts
  closed,          // ts = the close time; sold: bidder, amount; unsold: reason
  converted,       // fixed price -> English (rule 16): closes_at, amount = start
};

struct AuctionEvent {
  EventKind kind = EventKind::opened;
  Ms ts{0};
  BidderId bidder = 0;
  Fen amount{0};
  Ms closes_at{0};
  bool is_proxy = false;
  AuctionState state = AuctionState::scheduled;  // closed: sold or unsold
  UnsoldReason reason = UnsoldReason::none;
  friend bool operator==(const AuctionEvent&, const AuctionEvent&) = default;
};

// Where mechanisms report. Called synchronously, in time order, during the command.
class AuctionSink {
 public:
  virtual void on_event(const AuctionEvent& e) = 0;

 protected:
  ~AuctionSink() = default;
};

class NullSink final : public AuctionSink {
 public:
  void on_event(const AuctionEvent&) override {}
};

// Rule 6: priority purchase right holders, rank 1 is the highest.
struct PriorityHolder {
  BidderId bidder = 0;
  std::uint32_t rank = 0;
};
inline constexpr std::uint32_t kNoRank = UINT32_MAX;  // non-holders

// Fixed-capacity open-addressing map bidder id -> dense slot [0, capacity). Inserts only (a
// slot is never freed during an auction). Allocates once, at construction.
class BidderIndex {
 public:
  static constexpr std::int32_t kNone = -1;
  explicit BidderIndex(std::uint32_t capacity);
  std::int32_t find(BidderId b) const noexcept;
  std::int32_t insert(BidderId b) noexcept;  // the slot (existing or new); kNone when full
  std::uint32_t size() const noexcept { return size_; }
  std::uint32_t capacity() const noexcept { return capacity_; }
  // The bidders in slot order (snapshots: inserting them in this order gives the same slots).
  std::vector<BidderId> keys_by_slot() const;

 private:
  std::size_t home(BidderId b) const noexcept;
  std::vector<BidderId> keys_;
  std::vector<std::int32_t> slots_;  // kNone = empty
  std::uint32_t capacity_ = 0;
  std::uint32_t size_ = 0;
};

struct EnglishConfig {
  Fen start_price{0};
  // Empty tiers: a fixed `increment` (0: the rule-4 default_increment(start_price)).
  Fen increment{0};
  std::vector<IncrementTier> tiers;
  Fen reserve{0};  // 0 or <= start: the start is the reserve (rule 1)
  bool reserve_hidden = false;
  Ms opens_at{0};
  Ms closes_at{0};
  Ms extend_window_ms{0};  // 0: no soft close
  Ms extend_by_ms{0};
  // DOMAIN.md rule 10 (sell-off): when > 0, the first accepted bid moves the close to its
  // time + first_bid_close_ms (earlier or later); the soft close applies from then on.
  Ms first_bid_close_ms{0};
  std::vector<PriorityHolder> priority_holders;
  std::uint32_t max_bidders = 1024;  // proxies + holders tracked
};

// ok, or bad_request naming nothing (the engine validated the shape already).
errc validate(const EnglishConfig& c) noexcept;

struct EnglishView {
  AuctionState state = AuctionState::scheduled;
  Fen start_price{0};
  Fen increment{0};               // the step at the current price
  std::optional<Fen> reserve;     // null when hidden or not set above the start
  Ms opens_at{0};
  Ms closes_at{0};
  std::optional<Fen> price;       // the standing high bid; null before the first bid
  std::uint64_t bids = 0;         // accepted bids, proxy auto-bids included
  std::optional<BidderId> leader;
  std::optional<Fen> min_next_bid;  // public (non-holder) value; null once finished
  std::optional<BidderId> winner;
  std::optional<Fen> clearing_price;
  UnsoldReason unsold_reason = UnsoldReason::none;
};

class EnglishAuction {
 public:
  // Snapshots: what bids, proxies and time changed since construction (the rest is the
  // config's). Proxies are kept as the mechanism keeps them, sorted by strength with the dead
  // prefix [0, first_live) included, so a restored auction compacts and resolves alike.
  struct Proxy {
    Fen max{0};
    std::uint32_t rank = kNoRank;
    std::uint64_t seq = 0;
    BidderId bidder = 0;
    friend bool operator==(const Proxy&, const Proxy&) = default;
  };
  struct Slot {  // one bidder index slot: the bidder and its proxy (max 0: none)
    BidderId bidder = 0;
    Fen proxy_max{0};
    std::uint64_t proxy_seq = 0;
    friend bool operator==(const Slot&, const Slot&) = default;
  };
  struct State {
    Ms closes_at{0};
    Ms last_now{INT64_MIN};
    AuctionState state = AuctionState::scheduled;
    UnsoldReason unsold_reason = UnsoldReason::none;
    bool has_high = false;
    Fen high{0};
    BidderId leader = 0;
    std::uint32_t leader_rank = kNoRank;
    std::uint64_t leader_bid_seq = 0, bids = 0, seq = 0;
    std::vector<Slot> slots;  // in slot order: the priority holders first, as constructed
    std::vector<Proxy> proxies;
    std::uint64_t first_live = 0;
    friend bool operator==(const State&, const State&) = default;
  };

  explicit EnglishAuction(const EnglishConfig& c);  // precondition: validate(c) == ok

  State save() const;
  // On an auction freshly constructed from the same config: bad_request when the state cannot
  // be this config's (slots beyond capacity or disagreeing with the holders, proxies out of
  // order, enums out of range); the auction is then unusable (construct it again).
  errc restore(const State& s);

  errc bid(BidderId b, Fen amount, Ms now, AuctionSink& sink);
  // Sets (or replaces, or for the leader raises) b's proxy maximum.
  errc proxy(BidderId b, Fen max, Ms now, AuctionSink& sink);
  void advance(Ms now, AuctionSink& sink);
  errc cancel() noexcept;  // before any bid only (else invalid_state)
  std::optional<Ms> next_due() const noexcept;

  AuctionState state() const noexcept { return state_; }
  std::optional<Fen> price() const noexcept;
  std::uint64_t bids() const noexcept { return bids_; }
  std::optional<BidderId> leader() const noexcept;
  std::optional<Fen> min_next_bid() const noexcept;  // public value (non-holders)
  std::optional<Fen> min_next_bid_for(BidderId b) const noexcept;
  Ms closes_at() const noexcept { return closes_at_; }
  Ms opens_at() const noexcept { return opens_at_; }
  std::optional<Fen> proxy_max(BidderId b) const noexcept;
  EnglishView view() const noexcept;

 private:
  using ProxyEntry = Proxy;  // proxies_ is sorted ascending by strength: the strongest last
  struct Contender {
    Fen ceiling{0};
    std::uint32_t rank = kNoRank;
    std::uint64_t seq = 0;
    BidderId bidder = 0;
    bool is_leader = false;
    bool has_proxy = false;
  };
  static bool stronger(const ProxyEntry& a, const ProxyEntry& b) noexcept;
  static bool stronger(const Contender& a, const Contender& b) noexcept;

  std::uint32_t rank_of(BidderId b) const noexcept;
  std::optional<Fen> min_valid(std::uint32_t rank) const noexcept;
  errc check_time(Ms now) const noexcept;
  errc check_amount(BidderId b, Fen amount) const noexcept;
  // earlier_tie: b takes an equal high bid because its commitment came first (same rank).
  void place(BidderId b, Fen amount, bool is_proxy, Ms now, AuctionSink& sink,
             bool earlier_tie = false);
  void resolve(Ms now, AuctionSink& sink);
  std::size_t collect(Contender (&out)[3]) const noexcept;
  bool has_room_for_proxy(BidderId b) noexcept;
  void insert_proxy(std::int32_t slot, BidderId b, Fen max);
  void remove_proxy(std::int32_t slot) noexcept;
  void prune() noexcept;
  void close(AuctionSink& sink);

  IncrementGrid grid_;
  Fen start_{0};
  Fen reserve_{0};
  bool reserve_hidden_ = false;
  Ms opens_at_{0};
  Ms closes_at_{0};
  Ms extend_window_{0};
  Ms extend_by_{0};
  Ms first_bid_close_{0};
  Ms last_now_{INT64_MIN};
  AuctionState state_ = AuctionState::scheduled;
  UnsoldReason unsold_reason_ = UnsoldReason::none;

  bool has_high_ = false;
  Fen high_{0};
  BidderId leader_ = 0;
  std::uint32_t leader_rank_ = kNoRank;
  std::uint64_t leader_bid_seq_ = 0;
  std::uint64_t bids_ = 0;
  std::uint64_t seq_ = 0;

  BidderIndex index_;
  std::vector<std::uint32_t> rank_;     // per slot
  std::vector<Fen> proxy_max_;          // per slot; 0 = no proxy
  std::vector<std::uint64_t> proxy_seq_;  // per slot
  std::vector<ProxyEntry> proxies_;     // [first_live_, size): possibly live, sorted
  std::size_t first_live_ = 0;
};

}  // namespace ipx::matching
