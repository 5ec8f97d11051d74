#pragma once
// Dutch (descending clock) auction. PROTOCOL.md "Defaults":
//   price(t) = max(floor, start - floor((t - opens_at) / interval_ms) x decrement);
// the first accept wins at the current price; unsold when the floor has stood for one
// interval unaccepted (floor_expired), or at closes_at (time_up), whichever comes first.
// advance(now) fires the open, one price_tick per interval boundary where the price drops
// (each at its own time), then the close, in time order. The number of drops is bounded by
// kDutchStepsMax (validated), so a jump in time emits a bounded number of events.
#include <optional>

#include "matching/english_auction.hpp"  // shared auction vocabulary

namespace ipx::matching {

inline constexpr std::int64_t kDutchStepsMax = 1'000'000;

struct DutchConfig {
  Fen start_price{0};
  Fen decrement{0};
  Ms interval_ms{0};
  Fen floor{0};
  Ms opens_at{0};
  Ms closes_at{0};
};

errc validate(const DutchConfig& c) noexcept;

struct DutchView {
  AuctionState state = AuctionState::scheduled;
  Fen start_price{0};
  Ms opens_at{0};
  Ms closes_at{0};                // as configured
  Ms ends_at{0};                  // the effective end: min(closes_at, floor + one interval)
  std::optional<Fen> price;       // clock price while open; the clearing price when sold
  std::uint64_t bids = 0;         // 1 once accepted
  std::optional<BidderId> winner;
  UnsoldReason unsold_reason = UnsoldReason::none;
};

class DutchAuction {
 public:
  // Snapshots: what the clock and the accept changed since construction.
  struct State {
    Ms last_now{INT64_MIN};
    AuctionState state = AuctionState::scheduled;
    UnsoldReason unsold_reason = UnsoldReason::none;
    std::int64_t next_step = 1;
    Fen current{0};
    std::optional<BidderId> winner;
    friend bool operator==(const State&, const State&) = default;
  };

  explicit DutchAuction(const DutchConfig& c);  // precondition: validate(c) == ok

  State save() const;
  // On an auction freshly constructed from the same config; bad_request when the state
  // cannot be this config's (a step off the clock, a price off the formula, enums out of range).
  errc restore(const State& s);

  errc accept(BidderId b, Ms now, AuctionSink& sink);
  void advance(Ms now, AuctionSink& sink);
  errc cancel() noexcept;  // before the accept only
  std::optional<Ms> next_due() const noexcept;

  Fen price_at(Ms t) const noexcept;  // the formula, for t >= opens_at
  AuctionState state() const noexcept { return state_; }
  Ms end_at() const noexcept { return end_at_; }
  std::optional<Fen> price() const noexcept;
  DutchView view() const noexcept;

 private:
  Ms tick_time(std::int64_t k) const noexcept { return Ms{opens_at_.v + k * interval_.v}; }
  void close_unsold(AuctionSink& sink);

  Fen start_{0};
  Fen decrement_{0};
  Ms interval_{0};
  Fen floor_{0};
  Ms opens_at_{0};
  Ms closes_at_{0};
  std::int64_t floor_step_ = 0;  // the first step k at which price(t) = floor
  Ms end_at_{0};                 // min(closes_at, time(floor_step + 1))
  Ms last_now_{INT64_MIN};
  AuctionState state_ = AuctionState::scheduled;
  UnsoldReason unsold_reason_ = UnsoldReason::none;
  std::int64_t next_step_ = 1;  // the next price drop to fire
  Fen current_{0};
  std::optional<BidderId> winner_;
};

}  // namespace ipx::matching
