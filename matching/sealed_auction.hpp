#pragma once
// Sealed-bid auctions, first-price and second-price (PROTOCOL.md "Defaults", "Edges").
// - Bids are hidden until close: the view shows the count only; price, leader and
//   min_next_bid stay null until close, for everyone. Bid events reach the engine (which
//   journals them) but must not be published before close.
// - A bid must be >= start_price (bid_too_low); any whole fen amount (no increment grid).
// - Revision: a later bid from the same bidder REPLACES its sealed bid if it is higher
//   (its time becomes the later bid's time, for ties); a later bid that is not higher is
//   bid_too_low. Each accepted bid counts in `bids`.
// - Close at exactly closes_at: the highest bid wins; ties: the better priority rank
//   (DOMAIN.md rule 6), then the earlier bid. First-price pays its bid; second-price pays
//   max(second-highest bid, reserve, start_price). Highest bid below the reserve -> unsold
//   (reserve_not_met); no bids -> unsold (no_bids).
#include <optional>
#include <vector>

#include "matching/english_auction.hpp"  // shared auction vocabulary

namespace ipx::matching {

struct SealedConfig {
  bool second_price = false;
  Fen start_price{0};
  Fen reserve{0};
  bool reserve_hidden = false;
  Ms opens_at{0};
  Ms closes_at{0};
  std::vector<PriorityHolder> priority_holders;
  std::uint32_t max_bidders = 1024;
};

errc validate(const SealedConfig& c) noexcept;

struct SealedView {
  AuctionState state = AuctionState::scheduled;
  Fen start_price{0};
  std::optional<Fen> reserve;
  Ms opens_at{0};
  Ms closes_at{0};
  std::optional<Fen> price;  // null until close; the clearing price when sold
  std::uint64_t bids = 0;
  std::optional<BidderId> leader;  // null until close; the winner when sold
  std::optional<BidderId> winner;
  UnsoldReason unsold_reason = UnsoldReason::none;
};

class SealedAuction {
 public:
  // Snapshots: what bids and time changed since construction.
  struct Slot {  // one bidder index slot: the bidder's standing sealed bid (amount 0: none)
    BidderId bidder = 0;
    Fen amount{0};
    std::uint64_t when = 0;
    friend bool operator==(const Slot&, const Slot&) = default;
  };
  struct State {
    Ms last_now{INT64_MIN};
    AuctionState state = AuctionState::scheduled;
    UnsoldReason unsold_reason = UnsoldReason::none;
    std::uint64_t bids = 0, seq = 0;
    std::vector<Slot> slots;  // in slot order: the priority holders first, as constructed
    std::optional<BidderId> winner;
    std::optional<Fen> clearing;
    friend bool operator==(const State&, const State&) = default;
  };

  explicit SealedAuction(const SealedConfig& c);  // precondition: validate(c) == ok

  State save() const;
  // On an auction freshly constructed from the same config; bad_request when the state cannot
  // be this config's (slots beyond capacity or disagreeing with the holders, enums out of range).
  errc restore(const State& s);

  errc bid(BidderId b, Fen amount, Ms now, AuctionSink& sink);
  void advance(Ms now, AuctionSink& sink);
  errc cancel() noexcept;  // before any bid only
  std::optional<Ms> next_due() const noexcept;

  AuctionState state() const noexcept { return state_; }
  std::uint64_t bids() const noexcept { return bids_; }
  std::optional<Fen> sealed_bid_of(BidderId b) const noexcept;  // for the engine / tests
  SealedView view() const noexcept;

 private:
  void close(AuctionSink& sink);
  bool better(std::size_t a, std::size_t b) const noexcept;  // slots

  bool second_price_ = false;
  Fen start_{0};
  Fen reserve_{0};
  bool reserve_hidden_ = false;
  Ms opens_at_{0};
  Ms closes_at_{0};
  Ms last_now_{INT64_MIN};
  AuctionState state_ = AuctionState::scheduled;
  UnsoldReason unsold_reason_ = UnsoldReason::none;
  std::uint64_t bids_ = 0;
  std::uint64_t seq_ = 0;
  BidderIndex index_;
  std::vector<BidderId> bidder_;      // per slot
  std::vector<std::uint32_t> rank_;   // per slot
  std::vector<Fen> amount_;           // per slot; 0 = no bid
  std::vector<std::uint64_t> when_;   // per slot: sequence of the standing sealed bid
  std::optional<BidderId> winner_;
  std::optional<Fen> clearing_;
};

}  // namespace ipx::matching
