#pragma once
// The domain state and the rules that change it: participants, assets, pledges, auctions,
// licence-unit markets, disposal cases and settlements, with money and titles in the ledger.
//
// Pure and deterministic: apply(command, now) is the only way state changes; the same
// commands with the same times give the same state (and the same state_hash()), which is
// what replay relies on. No I/O, no clock, no randomness (random credentials are filled into
// the command by the engine before it is journaled).
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "engine/calendar.hpp"
#include "engine/methods.hpp"
#include "engine/outcome.hpp"
#include "engine/remembered_log.hpp"
#include "engine/sealed_log.hpp"
#include "engine/sharded_map.hpp"
#include "matching/auction.hpp"
#include "matching/order_book.hpp"
#include "settlement/ledger.hpp"

namespace ipx::engine {

namespace snap {
class Writer;
class Reader;
struct Section;
}  // namespace snap

constexpr std::int64_t kDayMs = calendar::kDayMs;
constexpr std::int64_t kMinBiddersMax = 100;  // rule 2's parameter (auction.create, a plan)

// When a licence running from `from_ms` ends: its term_months in calendar months (UTC), as
// the Civil Code counts a period in months (calendar::add_months).
inline std::int64_t licence_end(std::int64_t from_ms, const Licence& l) {
  return calendar::add_months(from_ms, l.term_months);
}

Code code_of(matching::errc e);  // a matching reject as a protocol code
bool valid_region(std::string_view s);  // [a-z0-9_]{1,64}
bool valid_industry(std::string_view s);
bool valid_asset_kind(std::string_view s);

struct Auction;
std::string bidder_code_of(const Auction& a, std::uint64_t bidder);

// One string for a (participant, client string) pair: participant ids are the engine's own
// ("P-12") and hold no NUL, so the first NUL splits the pair unambiguously.
inline std::string pair_key(std::string_view participant, std::string_view client) {
  std::string k;
  k.reserve(participant.size() + 1 + client.size());
  k.append(participant).push_back('\0');
  k.append(client);
  return k;
}

struct Credential {
  std::string key, secret, participant_id, kind;
};

struct Participant {
  std::string id;
  std::uint64_t num = 0;
  std::string name, kind, region;
  bool whitelisted = false;
  std::uint32_t roles = 0;
  std::string api_key, api_secret;
};

// A live pledge on an asset. An asset holds several, in registration order (DOMAIN.md rule 14:
// pledgees are paid in that order); a released pledge leaves the asset's list.
struct Pledge {
  std::string pledgee, pledgor, registration_no;
  std::int64_t loan_outstanding = 0, interest = 0, penalties = 0, costs = 0;
  std::string status = "active";  // active | foreclosed (its asset is under disposal)
  bool consented = false;
  // Registration order across all assets: the number of the pledge.register command that
  // made it (a case over several assets pays their pledges in this order).
  std::uint64_t seq = 0;
  std::int64_t registered_at = 0;
  // Paid toward the claim from the asset's licences (licence sales, licence units the owner
  // sold) while it stays pledged: rule 13's "proceeds go to the pledgee first" up to the claim,
  // over all of them. A sale of the asset or a disposal settles what remains.
  std::int64_t paid = 0;
  std::int64_t claim() const { return loan_outstanding + interest + penalties + costs; }
  std::int64_t remaining() const { return claim() - paid; }
};
// Live pledges per asset: a handful in practice (a first and a second lender); the bound keeps
// an asset's list, a case's payouts and a confirmation's linked transfer set small.
constexpr std::size_t kPledgesPerAssetMax = 8;

struct ConfirmedLicence {  // rule 15: exclusive / sole licences that cannot overlap
  std::string kind, field;
  std::vector<std::string> territory;
  std::int64_t from_ms = 0, to_ms = 0;
};

struct Asset {
  std::string id;
  std::uint64_t num = 0;
  std::string kind, title, owner, region, industry, legal_status = "valid";
  std::int64_t valuation = 0, valuation_date = 0, expires_at = 0;
  std::vector<std::string> co_owners;
  std::vector<Pledge> pledges;  // live, in registration order (<= kPledgesPerAssetMax)
  std::vector<ConfirmedLicence> licences;
  bool open_licence = false;
};

struct Registration {
  std::string participant_id;
  std::string bidder_code;
  std::uint64_t hold_id = 0;  // the deposit's pending transfer (0: no deposit)
  bool released = false;
};

struct Auction {
  std::string id;
  std::uint64_t num = 0;
  std::vector<std::string> lot;
  std::string purpose, format, seller;  // seller: the lot's owner (pledgor for disposals)
  std::int64_t start_price = 0, increment = 0, deposit = 0, opens_at = 0;
  std::optional<std::int64_t> reserve;
  bool hidden_reserve = false;
  std::int64_t buyer_premium_bp = 0, seller_commission_bp = 0, payment_ms = 0;
  // Rule 2: the qualified (registered) bidders a sale needs; fewer at the close: unsold.
  std::int64_t min_bidders = 1;
  std::optional<Licence> licence;
  std::vector<PriorityHolder> priority_holders;
  std::unique_ptr<matching::Auction> mech;
  std::string state = "scheduled";
  std::map<std::string, Registration> registrations;          // by participant id
  std::unordered_map<matching::BidderId, std::string> bidders;  // bidder no -> participant
  std::string case_id;  // disposal round, when set
  std::string settlement_id;
  std::int64_t closed_at = 0;
};

struct SettlementRec {
  std::string id, auction_id, buyer, seller, case_id;
  std::string state = "awaiting_payment";
  std::int64_t price = 0, buyer_premium = 0, seller_commission = 0, deposit = 0, due_at = 0;
  std::uint64_t deposit_hold = 0, payment_hold = 0;
  std::string registration_no, reason;
  std::vector<std::uint64_t> transfers;
  std::int64_t paid_at = 0, confirmed_at = 0;
};

struct Round {
  int round = 1;
  std::string kind = "auction";  // auction | sell_off
  std::string auction_id;
  std::int64_t start_price = 0;
  std::string state;
  std::optional<std::int64_t> price;
  std::int64_t bidders = 0;
};

struct CasePlan {
  std::string regime = "online";
  std::int64_t start_bp = 7000, deposit_bp = 1000, cut_bp = 2000;
  std::int64_t notice_ms = 30LL * 86'400'000, renotice_ms = 15LL * 86'400'000;
  std::int64_t bidding_ms = 86'400'000, sell_off_ms = 60LL * 86'400'000;
  std::int64_t payment_ms = 10LL * 86'400'000;
  std::int64_t extend_window_ms = 300'000, extend_by_ms = 300'000;
  std::string after_sell_off = "in_lieu";
  std::string risk_fund;
  std::int64_t risk_share_bp = 0;
  std::int64_t min_bidders = 1;  // rule 2, for the auction rounds (not the sell-off)
  // Traditional regime: the buyer's commission on an auction round's price, at most S2 art
  // 29's scale (rule 12, commission_cap).
  std::int64_t buyer_premium_bp = 0;
};

// One pledge a case pays (rule 14): every live pledge on the case's assets at disposal.open,
// in registration order; `paid` grows with forfeited deposits and the sale's proceeds.
struct CasePledge {
  std::string asset_id, registration_no, pledgee;
  std::uint64_t seq = 0;
  std::int64_t claim = 0, paid = 0;
};

struct DisposalCase {
  std::string id;
  std::uint64_t num = 0;
  std::vector<std::string> assets;
  std::string pledgee, pledgor, region, industry;  // pledgee: the case's bank (who opened it)
  std::int64_t valuation = 0, claim = 0, opened_at = 0;  // claim: the case's bank's pledges'
  std::vector<CasePledge> pledges;  // the waterfall, in registration order (every pledgee)
  CasePlan plan;
  std::string state = "round_1";
  std::string outcome;
  std::vector<Round> rounds;
  std::string settlement_id;
  std::set<std::string> barred;
  std::int64_t forfeited = 0, hammer = 0, net_to_bank = 0, fund_share = 0;
  std::int64_t sold_at = 0, cash_at = 0, registered_at = 0, closed_at = 0;
  int defaults = 0;
  std::vector<json::object> timeline;
};

struct BackstopOfferRec {
  std::uint64_t num = 0;
  std::string id, participant_id;
  std::int64_t price_bp = 0, max_amount = 0, used = 0;
  std::vector<std::string> regions, industries;
  std::optional<std::int64_t> expires_at;
};

struct OrderFill {
  std::uint64_t trade_id = 0;
  std::int64_t price = 0, qty = 0;
};

// An order's metadata beside the book: typed, so a long-lived order costs a few words, not a
// JSON tree; the order view (order.place's shape) is built only for replies and pushes.
struct OrderMeta {
  std::string id, client_order_id, owner, market_id;
  std::uint64_t hold_id = 0;      // current pending hold (cash for buys, units for sells)
  std::int64_t hold_amount = 0;
  std::int64_t limit_price = 0;
  std::vector<OrderFill> fills;
  std::optional<matching::order_view> last;  // the book's last view of it (what was sent)
  // Its snapshot encoding (its page's, Market::OrderPage) is stale: set by a change
  // (Domain::order_meta), cleared when it is encoded again. Not state.
  mutable bool dirty = true;
};

// What a finished order leaves (Domain::finished_log_), as a snapshot's "finished" section
// holds it: the views point into the log (or the snapshot being read).
struct FinishedOrder {
  std::uint64_t id = 0, market_num = 0;
  std::string_view owner, client_order_id;
};

struct Market {
  std::string id, asset_id, licensor;
  std::uint64_t num = 0;
  Licence licence;
  std::int64_t tick = 1, min_qty = 1, maker_fee_bp = 0, taker_fee_bp = 0;
  std::unique_ptr<matching::order_book> book;
  std::unique_ptr<matching::book_sink> sink;
  std::unordered_map<std::uint64_t, OrderMeta> orders;  // by book order id: the live ones
  std::int64_t trades = 0;
  // `orders` as a snapshot stores them (by id: the id, then the metadata), kept encoded in
  // pages of 2^kOrderPageBits ids, so a capture takes bytes instead of visiting the orders
  // (whose nodes are scattered: a visit is a cache miss or two, ~10 ms for ~50k orders). A
  // page's bytes are its `base` (its live orders as of its last merge) and the `deltas` since,
  // oldest first (an order's newer encoding, or its removal). A capture takes them by
  // reference (the open delta is frozen, immutable from then on, as a base is) and the
  // snapshot writer merges them on its thread (merge_page); the engine merges a page itself
  // once its deltas outweigh its base, so they stay under half the page's bytes on average.
  // A cache of `orders` (mutable: capture() freezes deltas); empty after a load (every order
  // unencoded).
  struct PageBytes {
    std::string bytes;
    std::vector<std::pair<std::uint64_t, std::uint32_t>> at;  // each order's entry: (id, offset)
  };
  struct PageDelta {
    struct Entry {
      std::uint64_t id = 0;
      std::uint32_t from = 0, to = 0;  // its entry's bytes; from == to: the order was removed
    };
    std::string bytes;
    std::vector<Entry> entries;
  };
  struct OrderPage {
    // Its live orders, ascending by id (`orders`' nodes: their addresses do not move).
    std::vector<std::pair<std::uint64_t, const OrderMeta*>> live;
    std::shared_ptr<const PageBytes> base;  // null: nothing merged yet
    std::vector<std::shared_ptr<const PageDelta>> frozen;  // deltas a capture took
    PageDelta open;                                          // the delta being written
  };
  static constexpr int kOrderPageBits = 10;
  mutable std::map<std::uint64_t, OrderPage> pages;  // by id >> kOrderPageBits
  // A page's entries by id: each order's newest delta entry replaces its base entry (or drops
  // it: a removal). Pure (the snapshot writer's thread calls it too).
  static PageBytes merge_page(const PageBytes* base,
                              const std::vector<const PageDelta*>& deltas);
  void page_add(std::uint64_t order, const OrderMeta& meta);  // a live order more
  void page_remove(std::uint64_t order);  // a live order less
};

class Domain {
 public:
  // The ledger's live log capacity (soft: compaction keeps the live log under half of it,
  // new work is refused near it, and past it the ledger grows rather than fail what may not
  // be refused). Its id index costs memory as ids arrive (tests build thousands of Domains).
  static constexpr ledger::Limits kLedgerLimits{.accounts_max = std::size_t{1} << 18,
                                                .transfers_max = std::size_t{1} << 22};
  // The engine's: the same capacity, the id index faulted in at construction, so that the
  // engine thread takes no first-touch page faults as the ledger grows.
  static constexpr ledger::Limits kEngineLedgerLimits{.accounts_max = kLedgerLimits.accounts_max,
                                                      .transfers_max = kLedgerLimits.transfers_max,
                                                      .touch_index = true};

  Domain();
  // The engine's limits, or tests' (a small ledger fills in a few thousand commands); the
  // Domain's ledger always grows past its capacity (ledger::Limits::grow). A snapshot
  // load() keeps the limits of the Domain it loads into.
  explicit Domain(ledger::Limits ledger_limits);
  ~Domain();
  Domain(Domain&&) = default;
  Domain& operator=(Domain&&) = default;

  // Snapshots (engine/domain_snapshot.cpp; format in engine/snapshot_io.hpp): every piece of
  // state that can change what a later command does, in a compact versioned binary. load()
  // replaces this domain's state with the snapshot's (the replaying / observed / snapshots
  // settings stay) and gives the same state_hash() and the same save() bytes; a blob that is
  // not whole, of another format version, or inconsistent is refused with the reason in
  // `error` and the domain left as it was; so is one whose state_hash() is not `expect_hash`
  // when given (a snapshot row's). Both are deterministic and run on the engine thread.
  // save() is capture().bytes().
  std::string save() const;
  // A snapshot in two steps, so the engine thread pays only for the first: capture() encodes
  // the state section and takes the remembered replies by reference (engine/remembered_log.hpp);
  // Image::bytes() makes the blob save() gives, on any thread, any time later (the image does
  // not refer to the domain).
  class Image {
   public:
    std::string bytes() const;  // blob().join()
    snap::Blob blob() const;    // the same bytes in pieces, the sealed chunks by reference

   private:
    friend class Domain;
    RememberedLog::Image remembered;
    // The state section in parts: bytes of its own, or a page of live orders (its base and
    // the deltas since, by reference: blob() merges them).
    struct Part {
      std::string own;
      std::shared_ptr<const Market::PageBytes> base;
      std::vector<std::shared_ptr<const Market::PageDelta>> deltas;
      std::size_t orders = 0;  // a page's live orders: what the merge gives
    };
    std::vector<Part> state;
    SealedLog::Image transfers, finished;  // the ledger's log, the finished orders
  };
  Image capture() const;
  // Idle time (the engine thread, no command waiting): encodes up to `budget` of the live
  // orders changed since their last encoding, ahead of the next capture, so that capture's
  // pause holds only what changed since (docs/BENCHMARKS.md "Sixth round"). The bytes are
  // what capture would make (an order's encoding is made again after any change: order_meta).
  // Returns whether any are left.
  bool precapture(std::size_t budget) const;
  // The next capture encodes the live orders again from scratch, not from its cached pages
  // (Market::pages): what a test compares the cached bytes with.
  void forget_snapshot_cache();
  // A snapshot keeps a resting order's view as its metadata's `last` (the book's last view of
  // it, kept current by every book event): the first resting order whose `last` is not the
  // book's view of it, or whose metadata is missing, or a live order off the book; nullopt when
  // none (tests check it after every call).
  std::optional<std::string> orders_unlike_book() const;
  bool load(std::string_view bytes, std::string& error,
            std::optional<std::uint64_t> expect_hash = std::nullopt);

  // Applies one command at engine time `now` (>= every earlier now). Deterministic.
  // `sent`: the params as the request carried them, canonical JSON text (what a retry of the
  // same request_id is compared with); empty: encoded here from `params`.
  // `invalid`: the params failed the codec (BAD_REQUEST with this message); the command only
  // records that reply for its request_id (PROTOCOL "Idempotency": error replies are kept).
  // The params' own checks (BAD_REQUEST: values outside their sets or ranges, fields that do
  // not go together), which PROTOCOL "Edges" puts before the role (FORBIDDEN) and before any
  // state. Pure: no state, no clock (any thread; the gateway asks before it answers
  // FORBIDDEN). The handlers make the same checks first, through the same functions.
  static Outcome shape(Method m, const Params& p);
  Outcome apply(Method m, const std::string& actor, const std::string& request_id,
                const Params& params, std::int64_t now, std::vector<Push>& pushes,
                std::string_view sent = {}, const std::string* invalid = nullptr);

  std::int64_t now() const { return now_; }
  void set_now(std::int64_t now) { now_ = now; }
  // The next timer's due time (auction opens/closes, Dutch ticks, order expiries, payment
  // deadlines, round scheduling); nullopt when none.
  std::optional<std::int64_t> next_due() const;
  std::uint64_t state_hash() const;  // of scheme snap::kStateHashScheme
  // Replay: pushes are dropped, so their channel snapshots are not built.
  void set_replaying(bool on) { replaying_ = on; }
  // Nobody sees the pushes (an engine without a publisher): balance pushes and channel
  // snapshots are not built, as in replay. Results and state are the same either way.
  void set_observed(bool on) { observed_ = on; }
  // True when pushes are dropped (replay, or no publisher): informational pushes need not be
  // built. Pushes on auction channels are still made (they drive the timer index).
  bool quiet() const { return replaying_ || !observed_; }
  // Channel snapshots per command (default) or left to the caller (the Engine attaches them
  // once per batch, see Engine::apply_batch).
  // In that mode balance pushes are also left to the caller: a participant whose balance
  // changed gets one `balance` push per batch (its account after the batch), from
  // flush_balances(), instead of one per command.
  void set_snapshots_per_command(bool on) { snapshots_per_command_ = on; }
  void flush_balances(std::vector<Push>& pushes);
  // A channel's current state ("auction.A-1", "book.M", "disposal.C-1", "private.P-1");
  // null when it has none or does not exist.
  json::value channel_snapshot(const std::string& channel) const;
  std::vector<std::string> channels() const;  // every channel that has a snapshot

  const Participant* participant(const std::string& id) const;
  std::vector<Credential> credentials() const;  // every participant's, for the gateway
  std::vector<Credential> take_new_credentials() { return std::exchange(new_credentials_, {}); }
  // Admission of a state-changing command, before the journal (the engine's): the ledger's
  // upkeep (compaction when due), then false if the command is refused UNAVAILABLE because
  // the live log is within 1/16 of its capacity (open holds fill it), so that a journal never
  // holds a refusal that depends on the capacity it was run with. The apply() of the admitted
  // command that follows does not ask again; a Domain driven without admit() (tests, tools)
  // has apply() do both itself.
  bool admit(Method m, std::string_view actor_id, std::string_view request_id, bool invalid,
             std::int64_t now);
  // The refusal alone. Not refused: cancels and the timers, and what is answered before any
  // transfer (invalid params, an unknown participant, a role's FORBIDDEN, a retry of a
  // remembered request_id).
  bool ledger_refuses(Method m, std::string_view actor_id, std::string_view request_id,
                      bool invalid, std::int64_t now) const;
  // Off: nothing is retired (ipx-ledger backfill: every transfer, to write what a database
  // lacks). Not state.
  void set_retire_ledger(bool on) { retire_ledger_ = on; }
  static Outcome ledger_full_outcome();
  ledger::Ledger& ledger() { return ledger_; }
  const ledger::Ledger& ledger() const { return ledger_; }

 private:
  using Pushes = std::vector<Push>;
  struct Ctx {
    const Participant* actor;
    std::int64_t now;
    Pushes& pushes;
    std::uint64_t seq_transfer = 0;  // next transfer sub-id of this command
  };

  Outcome dispatch(Method m, Ctx& ctx, const Params& params);
  void attach_snapshots(std::vector<Push>& pushes, std::size_t first) const;
  void fire_timers(std::int64_t until, Ctx& ctx);

  // participants, accounts, assets, pledges (domain.cpp)
  Outcome participant_create(Ctx& c, const ParticipantCreate& p);
  Outcome account_fund(Ctx& c, const AccountFund& p);
  Outcome account_get(Ctx& c, const AccountGet& p);
  Outcome asset_register(Ctx& c, const AssetRegister& p);
  Outcome pledge_register(Ctx& c, const PledgeRegister& p);
  Outcome pledge_consent(Ctx& c, const AssetRef& p);
  Outcome asset_get(Ctx& c, const AssetRef& p);
  json::object account_json(const Participant& p) const;
  json::object asset_json(const Asset& a) const;
  static json::object pledge_json(const Asset& a, const Pledge& pl);

  // auctions (domain_auctions.cpp)
  Outcome auction_create(Ctx& c, const AuctionCreate& p);
  Outcome auction_cancel(Ctx& c, const AuctionCancel& p);
  Outcome auction_register(Ctx& c, const AuctionRef& p);
  Outcome auction_bid(Ctx& c, const AuctionBid& p);
  Outcome auction_proxy(Ctx& c, const AuctionProxy& p);
  Outcome auction_accept(Ctx& c, const AuctionRef& p);
  Outcome auction_get(Ctx& c, const AuctionGet& p);
  Outcome auction_list(Ctx& c, const AuctionList& p);
  void advance_auction(Auction& a, std::int64_t until, Ctx& c);
  // The same for every reader (the auction.<id> channel's snapshot is this: PROTOCOL.md).
  void with_auction_state(json::object& d, const Auction& a) const;
  json::object auction_json(const Auction& a) const;
  Outcome check_listing(const Ctx& c, const std::vector<std::string>& lot,
                        const std::optional<Licence>& licence, std::string& seller);
  Outcome check_licence(const Asset& a, const Licence& l, std::int64_t now) const;
  Outcome check_licence_overlap(const Asset& a, const Licence& l, std::int64_t from_ms) const;
  static Outcome check_licence_term(const Asset& a, const Licence& l, std::int64_t from_ms);
  static Outcome check_consents(const Asset& a);
  Outcome check_may_license(const Market& m) const;
  static Outcome check_licence_shape(const Licence& l);
  bool in_live_sale(const std::string& asset_id) const;  // a title sale not yet settled
  static Outcome participant_shape(const ParticipantCreate& p);
  static Outcome asset_shape(const AssetRegister& p);
  static Outcome auction_shape(const AuctionCreate& p, matching::Format& format);
  static Outcome market_shape(const MarketCreate& p);
  static Outcome offer_shape(const BackstopOffer& p);
  static Outcome report_shape(const ReportDisposals& p);
  // Rule 6's default holders of a sale of `assets`' titles: their co-owners but `seller`.
  std::vector<PriorityHolder> co_owner_holders(const std::vector<std::string>& assets,
                                               const std::string& seller) const;
  static Outcome disposal_shape(const DisposalOpen& p, CasePlan& plan);
  json::object create_auction(Ctx& c, const AuctionCreate& p, const matching::AuctionConfig& cfg,
                              const std::string& seller, const std::string& case_id);
  Outcome check_bidder(const Ctx& c, const std::string& auction_id, Auction*& out);
  Outcome bid_reply(Ctx& c, Auction& a, const matching::Result<matching::BidReply>& r,
                    std::vector<matching::AuctionEvent>& events,
                    const std::vector<matching::AuctionView>& at_bid, std::string_view method);
  // at_bid: the mechanism's view as each bid was accepted (EventLog), for the bid pushes;
  // null: the view after the call.
  void apply_auction_events(Auction& a, const std::vector<matching::AuctionEvent>& events,
                            Ctx& c, const std::vector<matching::AuctionView>* at_bid = nullptr);
  void close_auction(Auction& a, const matching::AuctionEvent& e, Ctx& c);
  void release_deposits(Auction& a, const std::string& keep, Ctx& c);

  // markets and orders (domain_markets.cpp)
  Outcome market_create(Ctx& c, const MarketCreate& p);
  Outcome market_get(Ctx& c, const MarketRef& p);
  Outcome units_issue(Ctx& c, const UnitsIssue& p);
  Outcome order_place(Ctx& c, const OrderPlace& p);
  Outcome order_cancel(Ctx& c, const OrderRef& p);
  Outcome order_replace(Ctx& c, const OrderReplace& p);
  void expire_orders(std::int64_t until, Ctx& c);
  json::object book_json(const Market& m) const;
  json::object market_json(const Market& m) const;
  // An order as JSON text, {order_id, client_order_id, market_id, side, type, status, qty,
  // filled_qty, leaves_qty, price, fills[{trade_id, price, qty}]}, in json::serialize's form,
  // written without building an object: the replies of order.place, order.cancel and
  // order.replace (Outcome::result_text) and the private "order" pushes (Push::data_text).
  std::string order_text(const OrderMeta& meta, const matching::order_view& v) const;
  std::string order_text(const OrderMeta& meta) const {
    return meta.last ? order_text(meta, *meta.last) : std::string("{}");
  }
  static Outcome order_params(const Market& m, const OrderPlace& p, std::uint64_t id,
                              matching::order_params& out);
  // `reply_id`: the order the command answers with (0: none); the text pushed for its last
  // event is also written to *reply_text, so that the reply is not made a second time.
  void settle_book_events(Market& m, Ctx& c, const void* before_depth,
                          std::uint64_t reply_id = 0, std::string* reply_text = nullptr);
  // The order's text for a reply: what settle_book_events pushed for it, or made now.
  std::string reply_order_text(const OrderMeta& meta, std::string&& pushed) const {
    return pushed.empty() ? order_text(meta) : std::move(pushed);
  }
  void release_hold(OrderMeta& meta, Ctx& c, std::vector<ledger::Transfer>& set);
  void make_hold(Market& m, OrderMeta& meta, const matching::order_view& v, Ctx& c,
                 std::vector<ledger::Transfer>& set);
  Outcome find_order(const Ctx& c, const OrderRef& p, Market*& m, std::uint64_t& id);
  // A live order's metadata, to change: marks its snapshot encoding stale (Market::pages).
  OrderMeta& order_meta(Market& m, std::uint64_t id) {
    OrderMeta& meta = m.orders.at(id);
    if (!meta.dirty) {
      meta.dirty = true;
      unencoded_.emplace_back(&m, id);
    }
    return meta;
  }

  // disposal cases and backstop offers (domain_disposals.cpp)
  Outcome disposal_open(Ctx& c, const DisposalOpen& p);
  Outcome disposal_get(Ctx& c, const CaseRef& p);
  Outcome disposal_list(Ctx& c, const DisposalList& p);
  Outcome backstop_offer(Ctx& c, const BackstopOffer& p);
  Outcome report_disposals(Ctx& c, const ReportDisposals& p);
  void on_round_closed(DisposalCase& dc, Auction& a, Ctx& c);
  // A settlement of a case's round ended without a sale (default or failure): re-run it.
  void on_settlement_lost(DisposalCase& dc, SettlementRec& s, Ctx& c);
  // Proceeds of a confirmed case settlement: the waterfall and the risk fund (rules 14, 17).
  void on_case_settled(DisposalCase& dc, SettlementRec& s, Ctx& c);
  // Rule 14's waterfall: claims in registration order, each paid up to `remaining`.
  struct Claim {
    std::string pledgee;
    std::int64_t remaining = 0;
  };
  static std::vector<Claim> case_claims(const DisposalCase& dc);  // what the case still owes
  // Live pledges on a voluntary sale's lot (or a market's asset), in the order they are paid:
  // active ones, and those a live disposal case holds (foreclosed: a licence sold or units
  // traded meanwhile still pay the pledgee first, rule 13, and count toward the case).
  struct SalePledge {
    Pledge* pledge = nullptr;
    CasePledge* in_case = nullptr;  // the case's record of it, when a live case holds it
    DisposalCase* dc = nullptr;
  };
  std::vector<Claim> sale_claims(const std::vector<std::string>& lot, std::vector<SalePledge>& which);
  SalePledge held_by_case(const std::string& asset_id, Pledge& pl);
  // Records what each was paid (sale_claims' order), in the case too.
  static void record_sale_paid(const std::vector<SalePledge>& which,
                               const std::vector<std::int64_t>& shares);
  // Pays `amount` out of `escrow` down `claims` (one transfer per claim paid, appended to
  // `set`); shares[i] = claims[i]'s part; returns the rest (the pledgor's).
  std::int64_t pay_claims(const std::vector<Claim>& claims, std::int64_t amount,
                          std::uint64_t escrow, std::uint16_t code, std::uint64_t ref, Ctx& c,
                          std::vector<ledger::Transfer>& set, std::vector<std::int64_t>& shares);
  void push_paid(Ctx& c, const std::vector<Claim>& claims, const std::vector<std::int64_t>& shares);
  // Records a case's shares (of case_claims(dc)) once their transfers are in the ledger.
  static void commit_waterfall(DisposalCase& dc, const std::vector<std::int64_t>& shares);
  static std::int64_t paid_to_case_bank(const DisposalCase& dc);
  void release_case_pledges(DisposalCase& dc);
  void advance_cases(std::int64_t until, Ctx& c);
  std::optional<std::int64_t> next_case_due() const;
  static Outcome plan_shape(const DisposalOpen& p, CasePlan& plan);  // all but the fund
  Outcome plan_fund(const DisposalOpen& p, CasePlan& plan) const;    // after plan_shape
  void start_round(DisposalCase& dc, int round, const std::string& kind, std::int64_t start,
                   std::int64_t opens_at, Ctx& c);
  void note(DisposalCase& dc, const Ctx& c, const std::string& event, const std::string& reason);
  void after_sell_off(DisposalCase& dc, const Round& r, Ctx& c);
  bool backstop_purchase(DisposalCase& dc, BackstopOfferRec& o, std::int64_t price,
                         const Round& r, Ctx& c);
  void transfer_in_lieu(DisposalCase& dc, std::int64_t price, Ctx& c);
  void close_case(DisposalCase& dc, const std::string& outcome, Ctx& c);
  json::object case_json(const DisposalCase& dc) const;
  json::object report_row(const DisposalCase& dc) const;

  // settlements (domain_settlements.cpp)
  Outcome settlement_get(Ctx& c, const SettlementRef& p);
  Outcome settlement_pay(Ctx& c, const SettlementRef& p);
  Outcome settlement_confirm(Ctx& c, const SettlementConfirm& p);
  Outcome settlement_fail(Ctx& c, const SettlementFail& p);
  void open_settlement(Auction& a, const std::string& buyer, std::int64_t price,
                       std::int64_t closed_at, Ctx& c);
  ledger::Transfer cash_move(Ctx& c, std::uint64_t from, std::uint64_t to, std::int64_t amount,
                             std::uint16_t code, std::uint64_t ref);
  void check_payment_deadlines(std::int64_t until, Ctx& c);
  void forfeit_deposit(SettlementRec& s, Ctx& c);  // rule 7
  json::object settlement_json(const SettlementRec& s) const;
  Outcome find_settlement(const Ctx& c, const std::string& id, SettlementRec*& out);

  // ledger helpers (domain.cpp)
  std::uint64_t next_transfer_id(Ctx& c);
  std::uint64_t cash_account(const Participant& p);
  std::uint64_t escrow_account(const Auction& a);
  std::uint64_t title_account(const Participant& p, const Asset& a);
  std::uint64_t units_account(const Participant& p, const Market& m);
  std::uint64_t ensure_account(std::uint64_t id, std::uint32_t ledger, std::uint16_t code,
                               std::uint16_t flags, std::uint64_t owner);
  std::int64_t cash_available(const Participant& p) const;
  void push_private(Ctx& c, const std::string& participant_id, const std::string& type,
                    json::object data);
  // The same with the data written as JSON text (Push::data_text).
  void push_private_text(Ctx& c, const std::string& participant_id, const char* type,
                         std::string data_text);
  void push_balance(Ctx& c, const std::string& participant_id);
  // A settlement's state to each of its parties' private channels: the buyer, the seller and,
  // for a disposal's, the case's bank (the parties settlement.get answers).
  void push_settlement(Ctx& c, const SettlementRec& s);

  Participant* find_participant(const std::string& id);
  std::string next_id(const char* prefix, std::uint64_t& counter);

  // snapshots (domain_snapshot.cpp)
  struct Unfilled {};
  // A domain to load into: no admin, no accounts, a minimal ledger (load makes the real
  // one), so a load does not pay for a full-size ledger twice.
  explicit Domain(Unfilled);
  static void install_book(Market& m);  // the market's order book and its sink, empty
  // `w` appends to `out`, which goes into `blob` before the live orders' pages, which are
  // added to it by reference.
  void save_state(snap::Writer& w, std::string& out, std::vector<Image::Part>& parts) const;
  void load_state(snap::Reader& r, const snap::Section& transfers, const snap::Section& finished,
                  const ledger::Limits& limits);
  void save_ledger(snap::Writer& w) const;
  void load_ledger(snap::Reader& r, const snap::Section& transfers, const ledger::Limits& limits);
  void save_market(snap::Writer& w, std::string& out, std::vector<Image::Part>& parts,
                   const Market& m) const;
  // Appends the order's entry to its page's open delta (clean), merging the page when its
  // deltas outweigh its base.
  static void encode_order(const Market& m, std::uint64_t id, const OrderMeta& meta);
  static void merge_page_now(Market::OrderPage& page);
  void load_market(snap::Reader& r, Market& m) const;
  void load_remembered(snap::Reader& r);
  void load_finished(snap::Reader& r);
  static void write_finished(snap::Writer& w, const FinishedOrder& f);
  static FinishedOrder read_finished(snap::Reader& r);  // checks what a reader must
  static FinishedOrder read_finished(std::string_view at);  // finished_log_'s own bytes
  void rebuild_lookups(snap::Reader& r);
  // Brings transfer_log_ up to the ledger's log (capture(), and every kEncodeEvery transfers
  // after a change, so a capture encodes only the last few).
  void encode_transfers() const;
  static constexpr std::size_t kEncodeEvery = 4096;
  // Retires the ledger's settled history (ledger::Ledger::compact), keeping what settlements
  // list. Not state: the state hash, every balance and every reply are the same whenever it
  // runs (maintain_ledger() decides when; submit_transfers() also before a command's transfers
  // that would not fit).
  void compact_ledger();
  // The ledger's upkeep at the start of a state-changing command: compacts when due.
  void maintain_ledger();
  ledger::SubmitResult submit_transfers(std::span<const ledger::Transfer> set, Ms now);
  // After every change: moves the orders it finished out of their markets (retiring_) into
  // finished_log_, and keeps transfer_log_ nearly current.
  void after_change();
  void check_loaded(snap::Reader& r) const;

  std::int64_t now_ = 0;
  ledger::Ledger ledger_;
  bool retire_ledger_ = true;
  bool admitted_ = false;  // admit() said yes to the command apply() is about to take
  std::map<std::string, Participant> participants_;
  std::unordered_map<std::string, std::string> participant_by_key_;
  std::map<std::string, Asset> assets_;
  std::map<std::string, Auction> auctions_;
  std::map<std::string, Market> markets_;
  std::map<std::string, DisposalCase> cases_;
  std::map<std::string, SettlementRec> settlements_;
  std::map<std::string, BackstopOfferRec> offers_;
  // (participant, client_order_id) -> the book's order id; key: pair_key(participant, coid).
  // Open addressing (one probe group, then the key): these two tables hold an entry per order or
  // per request, millions after a day, where a node-based map's chain walks miss the cache.
  ShardedMap<std::string, std::uint64_t> client_order_ids_;
  // Orders done (filled, cancelled, expired: off the book, nothing held) leave their market's
  // `orders` once the command that finished them is applied (after_change): a later command
  // needs only which market and participant one was (a cancel or replace of a done order is
  // INVALID_STATE, of someone else's NOT_FOUND) and its client_order_id (taken for good).
  // Those are kept encoded as a snapshot stores them (id, market num, owner, client_order_id),
  // in the order the orders finished; finished_ finds one by id. ~600k orders at 1M commands:
  // a snapshot takes the sealed chunks by reference instead of encoding them again.
  SealedLog finished_log_;
  ShardedMap<std::uint64_t, SealedLog::Ref> finished_;
  std::vector<std::pair<Market*, std::uint64_t>> retiring_;  // transient: empty between commands
  // The live orders whose snapshot encoding is stale (OrderMeta::dirty), for precapture(): one
  // entry per order made dirty (some since retired or encoded by a capture: skipped). A cache
  // index, not state; compacted (after_change) when it has doubled since the last compaction,
  // which leaves only the live orders still dirty.
  mutable std::vector<std::pair<const Market*, std::uint64_t>> unencoded_;
  std::size_t unencoded_compact_at_ = 4096;
  // The ledger's transfer log as a snapshot's "transfers" section holds it (save_ledger's
  // compact form), encoded up to transfer_coder_.encoded: a cache of ledger_'s log (capture()
  // catches it up, hence mutable), sealed chunks shared with the snapshots that hold them.
  struct TransferCoder {
    std::size_t encoded = 0;  // transfers in the log
    std::uint64_t prev_id = 0;
    std::int64_t prev_ts = 0;
    std::size_t accounts = 0;  // accounts indexed
    boost::unordered_flat_map<std::uint64_t, std::uint64_t> index;  // account id -> position
  };
  mutable SealedLog transfer_log_;
  mutable TransferCoder transfer_coder_;
  std::vector<Credential> new_credentials_;

  // Idempotency (PROTOCOL.md "Idempotency"): (participant, request_id) -> first reply, kept
  // for 24 h of engine time.
  // Keyed by pair_key(participant, request_id). The replies are in remembered_log_, in the
  // order they were remembered (engine time never goes back: the log is also the time index),
  // each encoded once as a snapshot stores it; the reply is its result's JSON text (the bytes
  // the state hash already reads).
  RememberedLog remembered_log_;
  RememberedIndex remembered_;

  std::uint64_t participants_n_ = 0, assets_n_ = 0, auctions_n_ = 0, markets_n_ = 0,
                cases_n_ = 0, settlements_n_ = 0, offers_n_ = 0, orders_n_ = 0,
                bidder_codes_n_ = 0;
  std::uint64_t command_n_ = 0;  // commands applied: transfer ids derive from it
  bool replaying_ = false;
  bool observed_ = true;
  bool snapshots_per_command_ = true;
  // Participants to flush_balances(), in first-touch order (transient: empty between batches).
  std::vector<std::string> balances_due_;
  std::unordered_set<std::string> balances_due_set_;
  // When each of them last changed in the batch (the push's ts). Not state: empty between
  // batches, as balances_due_ is when a snapshot is taken.
  std::unordered_map<std::string, std::int64_t> balance_changed_at_;
  // Timer index: each live auction's next due time (re-read after every command that pushed
  // on its channel: every change to an auction pushes there), and settlements awaiting
  // payment by due_at. next_due() is then O(log n) plus the (few) markets.
  // Timers due at the same ms fire in creation order: the ids' numbers (an id "S-9" before
  // "S-10": same prefix, so the shorter first, then the text).
  struct IdOrder {
    bool operator()(std::string_view a, std::string_view b) const {
      return a.size() != b.size() ? a.size() < b.size() : a < b;
    }
  };
  struct DueOrder {
    bool operator()(const std::pair<std::int64_t, std::string>& a,
                    const std::pair<std::int64_t, std::string>& b) const {
      return a.first != b.first ? a.first < b.first : IdOrder{}(a.second, b.second);
    }
  };
  // (due ms, auction or settlement id), in DueOrder: a snapshot's set reader refuses any
  // other order.
  using DueIndex = std::set<std::pair<std::int64_t, std::string>, DueOrder>;
  DueIndex auction_due_;
  std::unordered_map<std::string, std::int64_t> auction_due_of_;
  DueIndex payment_due_;
  void reindex_auction(const std::string& id);
  void reindex_from(const std::vector<Push>& pushes, std::size_t first);
  // Per participant: the assets and markets it has ever held (so account.get reads only
  // its own positions).
  std::map<std::uint64_t, std::set<std::string>> titles_held_, units_held_;
  std::uint64_t hash_ = 0;       // running hash of applied commands' outcomes
};

}  // namespace ipx::engine
