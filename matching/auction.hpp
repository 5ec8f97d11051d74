#pragma once
// matching::Auction: the one type the engine holds per auction, whatever its format.
//
// How the engine drives it:
// - Construct from AuctionConfig after validate(config) == ok (else BAD_REQUEST).
// - Before each command, and from its timer, call advance(now, sink): it fires everything
//   due up to `now` in time order (open, Dutch price ticks, close at exactly closes_at,
//   fixed-price conversion and the English phase after it). Commands also do this first.
// - Schedule the timer at next_due() (re-read it after every call: bids may extend it);
//   nullopt = nothing more will happen by time alone.
// - Events arrive synchronously on the AuctionSink, in order: opened, bid (bidder, amount,
//   ts, is_proxy), leader_changed, extended (closes_at), price_tick (Dutch), converted
//   (fixed price -> English, rule 16), closed (sold: bidder + amount; unsold: reason).
//   Sealed bid events carry amounts for the journal only: publish the count until close.
// - Every reject returns an errc and leaves the auction as it was.
// - Qualification (registration, deposits, NOT_QUALIFIED) is the engine's job.
#include <optional>
#include <variant>
#include <vector>

#include "matching/dutch_auction.hpp"
#include "matching/english_auction.hpp"
#include "matching/fixed_price_listing.hpp"
#include "matching/sealed_auction.hpp"

namespace ipx::matching {

enum class Format : std::uint8_t { english, dutch, sealed_first, sealed_second, fixed_price };

struct DutchParams {
  Fen decrement{0};
  Ms interval_ms{0};
  Fen floor{0};
};

struct AuctionConfig {
  Format format = Format::english;
  Fen start_price{0};
  Fen increment{0};                  // 0: DOMAIN.md rule 4 default (English, fixed price)
  std::vector<IncrementTier> tiers;  // non-empty: a tiered table instead of `increment`
  Fen reserve{0};                    // 0: none (the start is the reserve, rule 1)
  bool reserve_hidden = false;       // private sales only (the engine checks the purpose)
  Ms opens_at{0};
  Ms closes_at{0};
  Ms extend_window_ms{0};  // English: 0 = no soft close (PROTOCOL "Defaults")
  Ms extend_by_ms{0};
  Ms first_bid_close_ms{0};  // English, rule 10 (sell-off): see EnglishConfig
  DutchParams dutch;
  std::vector<PriorityHolder> priority_holders;  // rule 6
  std::uint32_t max_bidders = 1024;              // capacity reserved at construction
};

errc validate(const AuctionConfig& c) noexcept;

// auction.bid / auction.proxy reply data (sealed: amount and ts only).
struct BidReply {
  Fen amount{0};  // bid: the amount bid; proxy: the standing high bid after the command
  Ms ts{0};
  std::optional<BidderId> leader;
  std::optional<Ms> closes_at;
  std::optional<Fen> min_next_bid;
};

struct AcceptReply {  // auction.accept (Dutch)
  Fen price{0};
  Ms ts{0};
};

template <class T>
struct Result {
  errc ec = errc::ok;
  T value{};
  bool ok() const noexcept { return ec == errc::ok; }
};

// Every auction.get field the mechanism knows (null = std::nullopt).
struct AuctionView {
  Format format = Format::english;  // fixed_price becomes english after conversion
  AuctionState state = AuctionState::scheduled;
  Fen start_price{0};
  std::optional<Fen> increment;  // English (the step at the current price)
  std::optional<Fen> reserve;    // null when hidden or unset
  Ms opens_at{0};
  Ms closes_at{0};
  std::optional<Fen> price;
  std::uint64_t bids = 0;
  std::optional<BidderId> leader;
  std::optional<Fen> min_next_bid;
  std::optional<BidderId> winner;
  std::optional<Fen> clearing_price;
  UnsoldReason unsold_reason = UnsoldReason::none;
  std::uint32_t registered = 0;  // fixed price: buyers registered
};

class Auction {
 public:
  // Snapshots: the mechanism's own state (its format's); with config() it rebuilds the
  // auction: construct from the config, then restore the state.
  using State = std::variant<EnglishAuction::State, DutchAuction::State, SealedAuction::State,
                             FixedPriceListing::State>;

  explicit Auction(const AuctionConfig& c);  // precondition: validate(c) == ok

  const AuctionConfig& config() const noexcept { return config_; }
  State save() const;
  // On an auction freshly constructed from the same config; bad_request when the state is
  // another format's or cannot be this config's (see each format's restore).
  errc restore(const State& s);

  Result<BidReply> bid(BidderId b, Fen amount, Ms now, AuctionSink& sink);
  Result<BidReply> proxy(BidderId b, Fen max, Ms now, AuctionSink& sink);
  Result<AcceptReply> accept(BidderId b, Ms now, AuctionSink& sink);
  errc register_intent(BidderId b, Ms now, AuctionSink& sink);
  void advance(Ms now, AuctionSink& sink);
  errc cancel() noexcept;
  std::optional<Ms> next_due() const noexcept;

  Format format() const noexcept;  // the current format
  AuctionView view() const noexcept;
  std::optional<Fen> min_next_bid_for(BidderId b) const noexcept;  // rule 6 aware
  // The English mechanism in play (English, or fixed price after conversion), else null.
  const EnglishAuction* english() const noexcept;

 private:
  EnglishAuction* english_mut() noexcept;
  BidReply english_reply(Fen amount, Ms now) const noexcept;

  AuctionConfig config_;
  Format format_;
  std::variant<EnglishAuction, DutchAuction, SealedAuction, FixedPriceListing> impl_;
};

}  // namespace ipx::matching
