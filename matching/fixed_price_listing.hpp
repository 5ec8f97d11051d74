#pragma once
// Fixed-price listing (DOMAIN.md rule 16; PROTOCOL.md auction.get "fixed_price").
// Registering is the intent to buy at start_price. At exactly closes_at:
//   no registered buyer -> unsold (no_bids);
//   one -> sold to it at start_price (a bid event at closes_at, then closed);
//   two or more -> the SAME auction turns into an English auction from start_price
//   (converted event), open from the listing's closes_at for english_duration_ms (24 h)
//   with a 5 min window / 5 min extension soft close (rule 5). The English auction is
//   built at construction (capacity reserved), so conversion allocates nothing.
// Who may bid after conversion (the registered buyers) is the engine's check.
#include <optional>
#include <vector>

#include "matching/english_auction.hpp"

namespace ipx::matching {

inline constexpr Ms kFixedPriceEnglishDurationMs{24LL * 60 * 60 * 1000};
inline constexpr Ms kFixedPriceWindowMs{5LL * 60 * 1000};
inline constexpr Ms kFixedPriceExtendMs{5LL * 60 * 1000};

struct FixedPriceConfig {
  Fen start_price{0};
  Fen increment{0};  // for the English phase; 0: the rule-4 default
  std::vector<IncrementTier> tiers;
  Ms opens_at{0};
  Ms closes_at{0};
  std::vector<PriorityHolder> priority_holders;  // apply in the English phase
  std::uint32_t max_bidders = 1024;
  Ms english_duration_ms = kFixedPriceEnglishDurationMs;
  Ms extend_window_ms = kFixedPriceWindowMs;
  Ms extend_by_ms = kFixedPriceExtendMs;
};

errc validate(const FixedPriceConfig& c) noexcept;

class FixedPriceListing {
 public:
  // Snapshots: what registrations and time changed since construction, the English phase's
  // state included (as constructed until the conversion).
  struct State {
    Ms last_now{INT64_MIN};
    AuctionState state = AuctionState::scheduled;
    UnsoldReason unsold_reason = UnsoldReason::none;
    bool converted = false;
    std::vector<BidderId> buyers;  // in registration order
    std::optional<BidderId> winner;
    EnglishAuction::State english;
    friend bool operator==(const State&, const State&) = default;
  };

  explicit FixedPriceListing(const FixedPriceConfig& c);  // precondition: validate(c) == ok

  State save() const;
  // On a listing freshly constructed from the same config; bad_request when the state cannot
  // be this config's (more buyers than capacity, a repeated buyer, a bad English state).
  errc restore(const State& s);

  // Intent to buy: auction_not_open before opens_at, auction_closed at/after closes_at,
  // duplicate if already registered, invalid_state once converted, capacity when full.
  errc register_intent(BidderId b, Ms now, AuctionSink& sink);
  void advance(Ms now, AuctionSink& sink);
  errc cancel() noexcept;  // before closes_at; after conversion as the English auction
  std::optional<Ms> next_due() const noexcept;

  bool converted() const noexcept { return converted_; }
  bool is_registered(BidderId b) const noexcept;
  std::uint32_t registered() const noexcept { return count_; }
  EnglishAuction& english() noexcept { return english_; }  // valid once converted()
  const EnglishAuction& english() const noexcept { return english_; }
  AuctionState state() const noexcept;
  Fen start_price() const noexcept { return start_; }
  Ms opens_at() const noexcept { return opens_at_; }
  Ms closes_at() const noexcept { return converted_ ? english_.closes_at() : closes_at_; }
  std::optional<BidderId> winner() const noexcept { return winner_; }
  UnsoldReason unsold_reason() const noexcept { return unsold_reason_; }

  // The English auction a listing turns into (rule 16).
  static EnglishConfig english_config(const FixedPriceConfig& c);

 private:
  void close(AuctionSink& sink);

  Fen start_{0};
  Ms opens_at_{0};
  Ms closes_at_{0};
  Ms last_now_{INT64_MIN};
  AuctionState state_ = AuctionState::scheduled;  // before conversion
  UnsoldReason unsold_reason_ = UnsoldReason::none;
  bool converted_ = false;
  BidderIndex index_;
  std::vector<BidderId> buyers_;  // in registration order, reserved
  std::uint32_t count_ = 0;
  std::optional<BidderId> winner_;
  EnglishAuction english_;
};

}  // namespace ipx::matching
