#pragma once
// The licence-unit order book (PROTOCOL.md "Orders"): price-time priority, limit and market
// orders, GTC/IOC/FOK/GTD, post-only, self-trade prevention, cancel and replace.
//
// Pure and deterministic: explicit inputs (commands and the engine time `now`), outputs through
// a `book_sink`. No I/O, no clock, no allocation after construction (every pool, the id index,
// the price ladders and the expiry heap are sized by `book_config`).
//
// Every reject (a non-ok errc) leaves the state exactly as it was. Done orders (filled,
// cancelled, expired) leave the book at once: `find` sees live orders only; their final state
// is in the command's result and in the sink's `on_order` event.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "matching/errc.hpp"
#include "matching/types.hpp"

namespace ipx::matching {

using OrderId = std::uint64_t;  // given by the engine, unique among live orders
using OwnerId = std::uint64_t;  // participant id
using TradeId = std::uint64_t;  // assigned by the book, sequentially from config.first_trade_id

enum class side : std::uint8_t { buy, sell };
enum class order_type : std::uint8_t { limit, market };
enum class tif : std::uint8_t { gtc, ioc, fok, gtd };
enum class stp : std::uint8_t { cancel_incoming, cancel_resting, cancel_both, reject };
enum class order_status : std::uint8_t { open, partially_filled, filled, cancelled, expired };
// Why an order ended `cancelled`. none for every other status.
enum class cancel_reason : std::uint8_t { none, user, ioc, fok, stp };
// What happened to an order (the sink's on_order): accepted = resting in the book after
// place/replace (status open or partially_filled); the others are final.
enum class order_event : std::uint8_t { accepted, filled, cancelled, expired };

constexpr side opposite(side s) { return s == side::buy ? side::sell : side::buy; }

struct order_params {
  OrderId id = 0;
  OwnerId owner = 0;
  side side_ = side::buy;
  order_type type = order_type::limit;
  tif tif_ = tif::gtc;
  Fen price{0};      // fen per unit; must be 0 (absent) for a market order
  Units qty{0};      // a positive multiple of the lot
  Ms expire_at{0};   // gtd only: expires when expire_at <= now (must be > now at placement)
  bool post_only = false;
  stp stp_ = stp::cancel_incoming;
};

// An order as the engine and the client see it.
struct order_view {
  OrderId id = 0;
  OwnerId owner = 0;
  side side_ = side::buy;
  order_type type = order_type::limit;
  tif tif_ = tif::gtc;
  stp stp_ = stp::cancel_incoming;
  bool post_only = false;
  Fen price{0};
  Ms expire_at{0};
  Units qty{0};     // original quantity (after a replace: the new total)
  Units filled{0};
  Units leaves{0};  // 0 once done
  order_status status = order_status::open;
  cancel_reason reason = cancel_reason::none;
  // Its place in time while it rests: the book's stamp from when it last went to the back of a
  // level (resting, or a replace that lost priority), increasing through the book's life; an
  // earlier stamp is ahead at the same price. 0 for an order that never rested. Not shown to
  // clients: a snapshot keeps it, so a restore needs no walk of the book (restore()).
  std::uint64_t priority = 0;
  bool operator==(const order_view&) const = default;
};

struct trade {
  TradeId trade_id = 0;
  OrderId maker_id = 0;
  OrderId taker_id = 0;
  OwnerId maker_owner = 0;
  OwnerId taker_owner = 0;
  Fen price{0};  // the maker's price
  Units qty{0};
  side aggressor = side::buy;
};

struct depth_level {
  Fen price{0};
  Units qty{0};
  bool operator==(const depth_level&) const = default;
};

struct book_depth {
  std::vector<depth_level> bids;  // best (highest) first
  std::vector<depth_level> asks;  // best (lowest) first
};

// Outputs, in the order they happen within one command. Depth changes are coalesced per level
// per command step: qty is the level's new total, 0 removes it.
class book_sink {
 public:
  virtual ~book_sink() = default;
  virtual void on_trade(const trade&) {}
  virtual void on_order(order_event, const order_view&) {}
  virtual void on_depth(side, Fen /*price*/, Units /*total*/) {}
};

// The engine's funds check (PROTOCOL.md: a limit buy needs price x qty available; a market
// buy the cost of what it would actually take). Called only for buys, exactly between the
// BAD_PRICE and WOULD_CROSS checks. A non-owning reference to any `bool(Fen)` callable;
// default-constructed = always affordable.
class funds_ref {
 public:
  funds_ref() = default;
  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, funds_ref>)
  funds_ref(F&& f)  // NOLINT: implicit by design, like function_ref
      : obj_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, Fen required) { return (*static_cast<std::remove_reference_t<F>*>(o))(required); }) {}
  bool can_afford(Fen required) const { return call_ == nullptr || call_(obj_, required); }
  explicit operator bool() const { return call_ != nullptr; }

 private:
  void* obj_ = nullptr;
  bool (*call_)(void*, Fen) = nullptr;
};

struct book_config {
  Fen tick{1};                     // price grid
  Units lot{1};                    // min_qty
  std::uint32_t orders_max = 1u << 16;  // live (resting) orders
  std::uint32_t levels_max = 1u << 12;  // non-empty price levels, both sides together
  TradeId first_trade_id = 1;
};

// Result of place / replace / cancel: ec == ok, or the reject code (state unchanged).
// On ok, `order` is the order's state after the command (final if done).
struct book_result {
  errc ec = errc::ok;
  order_view order{};
};

class order_book {
 public:
  order_book(const book_config& cfg, book_sink& sink);
  order_book(const order_book&) = delete;
  order_book& operator=(const order_book&) = delete;

  // Checks (first failing wins): shape (bad_request) -> duplicate id -> bad_price ->
  // funds (insufficient_funds) -> post-only (would_cross) -> stp reject (self_trade) ->
  // capacity. Then matches at `now` and rests / cancels the remainder.
  book_result place(const order_params& p, Ms now, funds_ref funds = {});
  // Replace a live order's price and total quantity (new_qty > filled). Same price and a
  // smaller or equal size keeps priority; otherwise the order loses it and is matched as a
  // new order would be (keeping its side, tif, stp, post_only, expire_at and filled qty).
  book_result replace(OrderId id, Fen new_price, Units new_qty, Ms now, funds_ref funds = {});
  // User cancel in O(1). not_found if no live order has this id.
  book_result cancel(OrderId id);
  // Expires every GTD order with expire_at <= now (earliest expire_at first, then by id).
  std::size_t expire(Ms now);
  std::optional<Ms> next_expiry() const;

  std::optional<order_view> find(OrderId id) const;
  // The best levels of one side, best first; returns how many were written.
  std::size_t depth(side s, std::span<depth_level> out) const;
  book_depth depth(std::size_t n) const;  // allocates: for snapshots, not the hot path
  std::optional<Fen> best(side s) const;

  std::size_t order_count() const { return orders_live_; }
  std::size_t level_count() const { return live_levels(side::buy) + live_levels(side::sell); }
  TradeId next_trade_id() const { return next_trade_id_; }
  std::uint64_t next_priority() const { return next_priority_; }
  const book_config& config() const { return cfg_; }

  // Visits live orders of one side in priority order (price, then time).
  template <class F>
  void for_each_order(side s, F&& f) const {
    const ladder& l = ladders_[idx(s)];
    for (std::size_t k = l.keys.size(); k-- > 0;) {
      for (std::uint32_t i = levels_[l.lv[k]].head; i != nil; i = nodes_[i].next) f(view(i));
    }
  }
  // A digest of the whole observable state (orders in priority order, trade id counter).
  std::uint64_t state_digest() const;
  // Heavy consistency check (tests): aborts through IPX_ASSERT on any broken invariant.
  void check_invariants() const;
  // Empties the book (O(capacity)) and restarts trade ids at config.first_trade_id.
  void clear();
  // Snapshots: puts back the live orders (views as find() or for_each_order give them, in any
  // order: at each price they queue by their `priority`, equal ones in the order given), the
  // trade id counter and the priority counter (0: after the latest order given), without
  // matching and without sink events. The book ends observably equal to the one saved (the
  // same orders in the same priority, the same state_digest(), the same views);
  // internal layout (pool slots, empty levels kept below the top) may differ and does not
  // show. Any malformed order (shape, grid, status, a repeated id, a crossed book, capacity, a
  // priority not below `next_priority`) is bad_request and leaves the book empty.
  errc restore(std::span<const order_view> orders, TradeId next_trade_id,
               std::uint64_t next_priority = 0);

 private:
  static constexpr std::uint32_t nil = 0xFFFF'FFFFu;

  struct node {  // one resting order: 80 bytes, pooled
    OrderId id;
    OwnerId owner;
    std::int64_t price;
    std::int64_t qty;     // original (or replaced) total; filled = qty - leaves
    std::int64_t leaves;
    std::int64_t expire_at;
    std::uint32_t prev, next;  // FIFO within the level (intrusive)
    std::uint32_t level;       // index into levels_
    std::uint32_t heap_pos;    // position in the expiry heap (gtd), else nil
    side side_;
    order_type type;
    tif tif_;
    stp stp_;
    bool post_only;
    order_status status;
    std::uint64_t priority;  // order_view::priority
  };
  struct level {
    std::int64_t price;
    std::int64_t total;  // sum of leaves
    std::uint32_t head, tail, count;
    side side_;
  };
  // One side's levels sorted by key (price for bids, -price for asks), so the best level is
  // always at the back: touching the top is O(1) and inserting or erasing a level near the
  // top moves few entries. A level emptied below the top stays in place as a "ghost"
  // (count 0, invisible) so the next order at its price needs no insert and the emptying no
  // erase; the back is never a ghost, and ghosts are purged when they outnumber live levels
  // (+ kGhostSlack) or a new level needs their slot.
  struct ladder {
    std::vector<std::int64_t> keys;
    std::vector<std::uint32_t> lv;
  };
  struct slot {  // id index entry (open addressing, linear probing)
    OrderId key;
    std::uint32_t val;   // nil = empty
    std::uint32_t home;  // home(key), kept so deletes need not rehash the cluster
  };
  struct taker {  // the incoming order while it matches (not pooled until it rests)
    order_params p;
    std::int64_t filled;
    std::int64_t leaves;
  };
  struct plan {  // a dry run of the match: what the order would do, changing nothing
    std::int64_t fill = 0;
    std::int64_t cost_fen = 0;
    bool cost_overflow = false;
    bool reaches_own = false;
  };

  static std::size_t idx(side s) { return s == side::buy ? 0 : 1; }
  static std::int64_t key_of(side s, std::int64_t price) { return s == side::buy ? price : -price; }
  static bool expired_at(const node& n, Ms now) {
    return n.tif_ == tif::gtd && n.expire_at <= now.v;
  }
  static bool crosses(const taker& t, std::int64_t level_price);

  errc check_shape(const order_params& p, Ms now) const;
  errc check_funds(const taker& t, const plan& pl, funds_ref funds) const;
  errc check_rules(const taker& t, Ms now, funds_ref funds, std::uint32_t replacing,
                   plan& pl) const;
  bool room_to_rest(const taker& t, std::uint32_t replacing) const;
  plan dry_run(const taker& t, Ms now) const;
  bool crosses_live(const taker& t, Ms now) const;
  book_result execute(taker& t, Ms now, const plan& pl);
  book_result amend(std::uint32_t i, std::int64_t new_leaves);
  book_result requeue(std::uint32_t i, const taker& t);
  std::uint32_t find_level(side s, std::int64_t price) const;
  bool match(taker& t, Ms now);
  bool match_level(taker& t, std::uint32_t lv, Ms now);
  void fill(taker& t, std::uint32_t maker, level& lv);
  std::uint32_t rest(const taker& t);
  book_result finish(const taker& t, order_status st, cancel_reason r);
  errc check_restored(const order_view& v) const;
  errc restore_one(const order_view& v);
  order_view retire(std::uint32_t i, order_status st, cancel_reason r, bool notify);
  void level_changed(std::uint32_t lv);
  void free_level(std::uint32_t lvi);
  void purge_ghosts(std::size_t s);
  std::size_t live_levels(side s) const { return ladders_[idx(s)].keys.size() - ghosts_[idx(s)]; }
  static constexpr std::size_t kGhostSlack = 64;
  std::uint32_t level_for(side s, std::int64_t price);
  std::uint32_t new_level(side s, std::int64_t price);
  void unlink(std::uint32_t i);
  void link_tail(std::uint32_t i, std::uint32_t lvi);
  // price -> level cache (see order_book.cpp)
  std::size_t price_slot(side s, std::int64_t price) const;
  void price_cache_add(std::uint32_t lvi);
  void price_cache_remove(std::uint32_t lvi);
  bool multiple_of_lot(std::int64_t v) const {
    return lot_mask_ >= 0 ? (v & lot_mask_) == 0 : v % cfg_.lot.v == 0;
  }
  bool multiple_of_tick(std::int64_t v) const {
    return tick_mask_ >= 0 ? (v & tick_mask_) == 0 : v % cfg_.tick.v == 0;
  }
  order_view view(std::uint32_t i) const;

  // id index
  std::size_t home(OrderId id) const;
  std::uint32_t index_find(OrderId id) const;
  void index_insert(OrderId id, std::uint32_t val);
  void index_erase(OrderId id);
  // expiry heap
  bool heap_less(std::uint32_t a, std::uint32_t b) const;
  void heap_push(std::uint32_t i);
  void heap_erase(std::uint32_t i);
  void heap_sift_up(std::size_t pos);
  void heap_sift_down(std::size_t pos);
  void heap_set(std::size_t pos, std::uint32_t i);

  book_config cfg_;
  book_sink& sink_;
  std::vector<node> nodes_;
  std::vector<std::uint32_t> free_nodes_;
  std::vector<level> levels_;
  std::vector<std::uint32_t> free_levels_;
  ladder ladders_[2];
  std::vector<slot> index_;
  // price -> level cache: one direct-mapped slot per hashed (side, price); a level whose
  // slot is taken by another price is "spilled" and found by binary search instead.
  std::vector<std::uint32_t> price_slots_;
  unsigned price_shift_ = 0;
  std::uint32_t spilled_[2] = {0, 0};
  std::size_t ghosts_[2] = {0, 0};  // empty levels kept in each ladder
  std::int64_t lot_mask_ = -1;   // lot - 1 when the lot is a power of two, else -1
  std::int64_t tick_mask_ = -1;  // the same for the tick
  std::size_t index_mask_ = 0;
  unsigned index_bits_ = 0;
  std::vector<std::uint32_t> heap_;
  std::size_t orders_live_ = 0;
  TradeId next_trade_id_ = 1;
  std::uint64_t next_priority_ = 1;
};

}  // namespace ipx::matching
