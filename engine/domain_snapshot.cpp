// Domain: snapshots. Domain::save writes every member that can change what a later command
// does, except the lookups that are functions of the rest (participant_by_key_,
// auction_due_of_, client_order_ids_, balances_due_set_: rebuilt on load and checked);
// Domain::load reads them back in the same order into a fresh Domain and moves it in. Each
// stored type lists its fields once (fields() below), for both directions. The matching
// mechanisms and the ledger are saved through their own snapshot APIs (config + State, the
// resting orders in priority order, the accounts and the transfer log).
//
// Format version 5 (engine/snapshot_io.hpp frames it; 2: an asset's pledges are a list in
// registration order, and a case keeps the pledges it pays; 3: the transfers and the finished
// orders have sections of their own; 4: a book's queues come from its orders' priority
// stamps; 5: the ledger's history, and only its live log). Sections: "remembered", the idempotency table in the order of its time index;
// "state", in order: counters and clock; the ledger's accounts, its history and its live
// transfer count;
// participants, assets; auctions (mechanism config + state); markets (the book's counters,
// and the metadata of the live orders, whose `last` view, with its priority stamp, is what
// the book is rebuilt from); cases, settlements, backstop offers,
// new credentials, balances due; the timer indexes; the holdings indexes; "transfers", the
// ledger's live log (save_ledger's compact form); "finished", the orders done, in the order they
// finished. The first, third and fourth are kept encoded as the engine runs (RememberedLog,
// SealedLog), and the live orders' metadata in pages (Market::pages), so a capture encodes
// only what changed since the last one. A change to any of these types is a
// new format version (the reader refuses other versions: recovery then falls back to an older
// snapshot or a full replay).
#include <algorithm>
#include <limits>
#include <exception>
#include <thread>
#include <unordered_map>

#include <boost/unordered/unordered_flat_set.hpp>

#include "engine/domain.hpp"
#include "engine/snapshot_io.hpp"
#include "matching/assert.hpp"

namespace ipx::engine::snap {

// ---- field lists (the same list writes and reads) --------------------------------------------

template <class Io>
void fields(Io& io, Like<Participant> auto& p) {
  io(p.id, p.num, p.name, p.kind, p.region, p.whitelisted, p.roles, p.api_key, p.api_secret);
}
template <class Io>
void fields(Io& io, Like<Credential> auto& c) {
  io(c.key, c.secret, c.participant_id, c.kind);
}
template <class Io>
void fields(Io& io, Like<Pledge> auto& p) {
  io(p.pledgee, p.pledgor, p.registration_no, p.loan_outstanding, p.interest, p.penalties, p.costs,
     p.status, p.consented, p.seq, p.registered_at, p.paid);
}
template <class Io>
void fields(Io& io, Like<CasePledge> auto& p) {
  io(p.asset_id, p.registration_no, p.pledgee, p.seq, p.claim, p.paid);
}
template <class Io>
void fields(Io& io, Like<ConfirmedLicence> auto& l) {
  io(l.kind, l.field, l.territory, l.from_ms, l.to_ms);
}
template <class Io>
void fields(Io& io, Like<Asset> auto& a) {
  io(a.id, a.num, a.kind, a.title, a.owner, a.region, a.industry, a.legal_status, a.valuation,
     a.valuation_date, a.expires_at, a.co_owners, a.pledges, a.licences, a.open_licence);
}
template <class Io>
void fields(Io& io, Like<Licence> auto& l) {
  io(l.kind, l.territory, l.field, l.term_months, l.royalty_bp);
}
template <class Io>
void fields(Io& io, Like<PriorityHolder> auto& h) {
  io(h.participant_id, h.rank);
}
template <class Io>
void fields(Io& io, Like<Registration> auto& r) {
  io(r.participant_id, r.bidder_code, r.hold_id, r.released);
}
template <class Io>
void fields(Io& io, Like<SettlementRec> auto& s) {
  io(s.id, s.auction_id, s.buyer, s.seller, s.case_id, s.state, s.price, s.buyer_premium,
     s.seller_commission, s.deposit, s.due_at, s.deposit_hold, s.payment_hold, s.registration_no,
     s.reason, s.transfers, s.paid_at, s.confirmed_at);
}
template <class Io>
void fields(Io& io, Like<Round> auto& r) {
  io(r.round, r.kind, r.auction_id, r.start_price, r.state, r.price, r.bidders);
}
template <class Io>
void fields(Io& io, Like<CasePlan> auto& p) {
  io(p.regime, p.start_bp, p.deposit_bp, p.cut_bp, p.notice_ms, p.renotice_ms, p.bidding_ms,
     p.sell_off_ms, p.payment_ms, p.extend_window_ms, p.extend_by_ms, p.after_sell_off, p.risk_fund,
     p.risk_share_bp, p.min_bidders, p.buyer_premium_bp);
}
template <class Io>
void fields(Io& io, Like<DisposalCase> auto& c) {
  io(c.id, c.num, c.assets, c.pledgee, c.pledgor, c.region, c.industry, c.valuation, c.claim,
     c.opened_at, c.plan, c.state, c.outcome, c.rounds, c.settlement_id, c.barred, c.forfeited,
     c.hammer, c.net_to_bank, c.fund_share, c.sold_at, c.cash_at, c.registered_at, c.closed_at,
     c.defaults, c.timeline, c.pledges);
}
template <class Io>
void fields(Io& io, Like<BackstopOfferRec> auto& o) {
  io(o.num, o.id, o.participant_id, o.price_bp, o.max_amount, o.used, o.regions, o.industries,
     o.expires_at);
}
template <class Io>
void fields(Io& io, Like<matching::order_view> auto& v) {
  io(v.id, v.owner, v.side_, v.type, v.tif_, v.stp_, v.post_only, v.price, v.expire_at, v.qty,
     v.filled, v.leaves, v.status, v.reason, v.priority);
}

template <class Io>
void fields(Io& io, Like<OrderFill> auto& f) {
  io(f.trade_id, f.price, f.qty);
}
template <class Io>
void fields(Io& io, Like<OrderMeta> auto& o) {
  io(o.id, o.client_order_id, o.owner, o.market_id, o.hold_id, o.hold_amount, o.limit_price,
     o.fills, o.last);
}

// ---- matching: auction mechanisms and the order book --------------------------------------

template <class Io>
void fields(Io& io, Like<matching::IncrementTier> auto& t) {
  io(t.from, t.increment);
}
template <class Io>
void fields(Io& io, Like<matching::PriorityHolder> auto& h) {
  io(h.bidder, h.rank);
}
template <class Io>
void fields(Io& io, Like<matching::DutchParams> auto& d) {
  io(d.decrement, d.interval_ms, d.floor);
}
template <class Io>
void fields(Io& io, Like<matching::AuctionConfig> auto& c) {
  io(c.format, c.start_price, c.increment, c.tiers, c.reserve, c.reserve_hidden, c.opens_at,
     c.closes_at, c.extend_window_ms, c.extend_by_ms, c.first_bid_close_ms, c.dutch,
     c.priority_holders, c.max_bidders);
}
template <class Io>
void fields(Io& io, Like<matching::EnglishAuction::Proxy> auto& p) {
  io(p.max, p.rank, p.seq, p.bidder);
}
template <class Io>
void fields(Io& io, Like<matching::EnglishAuction::Slot> auto& s) {
  io(s.bidder, s.proxy_max, s.proxy_seq);
}
template <class Io>
void fields(Io& io, Like<matching::EnglishAuction::State> auto& s) {
  io(s.closes_at, s.last_now, s.state, s.unsold_reason, s.has_high, s.high, s.leader, s.leader_rank,
     s.leader_bid_seq, s.bids, s.seq, s.slots, s.proxies, s.first_live);
}
template <class Io>
void fields(Io& io, Like<matching::DutchAuction::State> auto& s) {
  io(s.last_now, s.state, s.unsold_reason, s.next_step, s.current, s.winner);
}
template <class Io>
void fields(Io& io, Like<matching::SealedAuction::Slot> auto& s) {
  io(s.bidder, s.amount, s.when);
}
template <class Io>
void fields(Io& io, Like<matching::SealedAuction::State> auto& s) {
  io(s.last_now, s.state, s.unsold_reason, s.bids, s.seq, s.slots, s.winner, s.clearing);
}
template <class Io>
void fields(Io& io, Like<matching::FixedPriceListing::State> auto& s) {
  io(s.last_now, s.state, s.unsold_reason, s.converted, s.buyers, s.winner, s.english);
}

void put(Writer& w, const matching::Auction::State& s) {
  w.u64(s.index());
  std::visit([&w](const auto& x) { put(w, x); }, s);
}
void get(Reader& r, matching::Auction::State& s) {
  switch (r.u64()) {
    case 0:
      get(r, s.emplace<0>());
      return;
    case 1:
      get(r, s.emplace<1>());
      return;
    case 2:
      get(r, s.emplace<2>());
      return;
    case 3:
      get(r, s.emplace<3>());
      return;
    default:
      r.fail("an auction state of no known format");
  }
}

// A mechanism is its config and its state: rebuilt by construction, then restore.
void put(Writer& w, const std::unique_ptr<matching::Auction>& a) {
  w(a->config(), a->save());
}
void get(Reader& r, std::unique_ptr<matching::Auction>& a) {
  matching::AuctionConfig cfg;
  matching::Auction::State state;
  r(cfg, state);
  if (cfg.format > matching::Format::fixed_price || matching::validate(cfg) != matching::errc::ok) {
    r.fail("an auction config the mechanisms refuse");
  }
  a = std::make_unique<matching::Auction>(cfg);
  if (a->restore(state) != matching::errc::ok) r.fail("an auction state its config refuses");
}

// An unordered map is written sorted by key, so equal states give equal bytes. Integer keys
// (a market's ~600k orders at 1M commands, part of the engine's snapshot pause) are sorted
// beside their row's address, so the sort never reads the scattered rows.
template <class K, class V>
void put(Writer& w, const std::unordered_map<K, V>& m) {
  using Row = typename std::unordered_map<K, V>::value_type;
  w.u64(m.size());
  if constexpr (std::is_integral_v<K>) {
    std::vector<std::pair<K, const Row*>> rows;
    rows.reserve(m.size());
    for (const auto& kv : m) rows.emplace_back(kv.first, &kv);
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [k, kv] : rows) w(k, kv->second);
  } else {
    std::vector<const Row*> rows;
    rows.reserve(m.size());
    for (const auto& kv : m) rows.push_back(&kv);
    std::sort(rows.begin(), rows.end(),
              [](const auto* a, const auto* b) { return a->first < b->first; });
    for (const auto* kv : rows) w(kv->first, kv->second);
  }
}
template <class K, class V>
void get(Reader& r, std::unordered_map<K, V>& m) {
  const std::size_t n = r.count();
  m.clear();
  m.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    K k{};
    get(r, k);
    auto [it, inserted] = m.try_emplace(std::move(k));
    if (!inserted) r.fail("a repeated key");
    get(r, it->second);
  }
}

template <class Io>
void fields(Io& io, Like<Auction> auto& a) {
  io(a.id, a.num, a.lot, a.purpose, a.format, a.seller, a.start_price, a.increment, a.deposit,
     a.opens_at, a.reserve, a.hidden_reserve, a.buyer_premium_bp, a.seller_commission_bp,
     a.payment_ms, a.licence, a.priority_holders, a.mech, a.state, a.registrations, a.bidders,
     a.case_id, a.settlement_id, a.closed_at, a.min_bidders);
}

// ---- settlement: the ledger's accounts ----------------------------------------------------

template <class Io>
void fields(Io& io, Like<ledger::Account> auto& a) {
  io(a.id, a.owner, a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted,
     a.ledger, a.code, a.flags);
}

}  // namespace ipx::engine::snap

namespace ipx::engine {

Domain::Domain(Unfilled) : ledger_(ledger::Limits{1, 1}) {}

// Two sections: the remembered replies (most of the bytes) and everything else. capture()
// encodes the second on the engine thread and shares the first, which is kept encoded
// (RememberedLog); bytes() frames both and checksums them, on the thread that wants them. A
// load reads the two at once on two threads (a restart takes the longer, not the sum); they
// fill disjoint members of the fresh domain.
bool Domain::precapture(std::size_t budget) const {
  while (budget > 0 && !unencoded_.empty()) {
    const auto [m, id] = unencoded_.back();
    unencoded_.pop_back();
    auto o = m->orders.find(id);
    if (o == m->orders.end() || !o->second.dirty) continue;
    encode_order(*m, id, o->second);
    --budget;
  }
  return !unencoded_.empty();
}

// Deltas up to the base's size (at least this) before the engine merges a page: a merge
// copies base and deltas once, so it costs about what was appended since the last one.
constexpr std::size_t kPageDeltaMin = 4096;

void Domain::encode_order(const Market& m, std::uint64_t id, const OrderMeta& meta) {
  Market::OrderPage& page = m.pages.at(id >> Market::kOrderPageBits);
  Market::PageDelta& d = page.open;
  const auto from = static_cast<std::uint32_t>(d.bytes.size());
  snap::Writer w(d.bytes);
  w.u64(id);
  w(meta);
  const auto to = static_cast<std::uint32_t>(d.bytes.size());
  d.entries.push_back({id, from, to});
  meta.dirty = false;
  std::size_t delta_bytes = d.bytes.size();
  for (const auto& f : page.frozen) delta_bytes += f->bytes.size();
  if (delta_bytes > std::max(kPageDeltaMin, page.base ? page.base->bytes.size() : 0)) {
    merge_page_now(page);
  }
}

void Domain::merge_page_now(Market::OrderPage& page) {
  std::vector<const Market::PageDelta*> deltas;
  deltas.reserve(page.frozen.size() + 1);
  for (const auto& d : page.frozen) deltas.push_back(d.get());
  deltas.push_back(&page.open);
  page.base = std::make_shared<const Market::PageBytes>(Market::merge_page(page.base.get(), deltas));
  page.frozen.clear();
  page.open.bytes.clear();
  page.open.entries.clear();
}

Market::PageBytes Market::merge_page(const PageBytes* base,
                                     const std::vector<const PageDelta*>& deltas) {
  // Every delta entry, newest last among equal ids (a stable sort of them in order).
  struct Ref {
    std::uint64_t id;
    const PageDelta* d;
    std::uint32_t i;
  };
  std::vector<Ref> refs;
  std::size_t n = 0, delta_size = 0;
  for (const PageDelta* d : deltas) {
    n += d->entries.size();
    delta_size += d->bytes.size();
  }
  refs.reserve(n);
  for (const PageDelta* d : deltas) {
    for (std::uint32_t i = 0; i < d->entries.size(); ++i) refs.push_back({d->entries[i].id, d, i});
  }
  std::stable_sort(refs.begin(), refs.end(), [](const Ref& a, const Ref& b) { return a.id < b.id; });
  static const PageBytes kEmpty;
  const PageBytes& b = base ? *base : kEmpty;
  PageBytes out;
  out.bytes.reserve(b.bytes.size() + delta_size);
  out.at.reserve(b.at.size() + n);
  const std::size_t nb = b.at.size();
  auto copy_base = [&](std::size_t i) {
    const std::size_t from = b.at[i].second;
    const std::size_t to = i + 1 < nb ? b.at[i + 1].second : b.bytes.size();
    out.at.emplace_back(b.at[i].first, static_cast<std::uint32_t>(out.bytes.size()));
    out.bytes.append(b.bytes, from, to - from);
  };
  std::size_t bi = 0;
  for (std::size_t ri = 0; ri < refs.size(); ++ri) {
    const std::uint64_t id = refs[ri].id;
    if (ri + 1 < refs.size() && refs[ri + 1].id == id) continue;  // a newer entry follows
    while (bi < nb && b.at[bi].first < id) copy_base(bi++);
    if (bi < nb && b.at[bi].first == id) ++bi;  // replaced or removed
    const PageDelta::Entry& e = refs[ri].d->entries[refs[ri].i];
    if (e.from == e.to) continue;  // removed
    out.at.emplace_back(id, static_cast<std::uint32_t>(out.bytes.size()));
    out.bytes.append(refs[ri].d->bytes, e.from, e.to - e.from);
  }
  while (bi < nb) copy_base(bi++);
  return out;
}

Domain::Image Domain::capture() const {
  Image image;
  image.remembered = remembered_log_.image();
  encode_transfers();
  image.transfers = transfer_log_.image();
  image.finished = finished_log_.image();
  precapture(std::numeric_limits<std::size_t>::max());  // every live order encoded
  // The live orders' pages are taken by reference; the rest is small (accounts, auctions,
  // cases, the resting orders' ids).
  std::string out;
  out.reserve(std::size_t{1} << 20);
  snap::Writer w(out);
  save_state(w, out, image.state);
  if (!out.empty()) image.state.push_back({std::move(out), nullptr, {}, 0});
  return image;
}

snap::Blob Domain::Image::blob() const {
  snap::Blob b;
  std::string head;
  snap::begin_frame(head);
  b.add(head);
  snap::Blob section;
  remembered.add_to(section);
  b.add_section(section);
  section = {};
  std::vector<const Market::PageDelta*> deltas;
  for (const Part& p : state) {
    if (!p.own.empty()) {
      section.add(p.own);
      continue;
    }
    std::shared_ptr<const Market::PageBytes> page = p.base;
    if (!p.deltas.empty()) {
      deltas.clear();
      for (const auto& d : p.deltas) deltas.push_back(d.get());
      page = std::make_shared<const Market::PageBytes>(Market::merge_page(p.base.get(), deltas));
    }
    IPX_ASSERT(page && page->at.size() == p.orders);
    section.add(std::shared_ptr<const std::string>(page, &page->bytes));
  }
  b.add_section(section);
  for (const SealedLog::Image* log : {&transfers, &finished}) {
    section = {};
    log->add_to(section);
    b.add_section(section);
  }
  return b;
}

std::string Domain::Image::bytes() const { return blob().join(); }

std::string Domain::save() const { return capture().bytes(); }

std::optional<std::string> Domain::orders_unlike_book() const {
  for (const auto& [mid, m] : markets_) {
    std::optional<std::string> bad;
    for (const matching::side s : {matching::side::buy, matching::side::sell}) {
      m.book->for_each_order(s, [&](const matching::order_view& v) {
        auto o = m.orders.find(v.id);
        if (bad) return;
        if (o == m.orders.end()) {
          bad = "market " + mid + ": order " + std::to_string(v.id) + " rests without metadata";
        } else if (!o->second.last || *o->second.last != v) {
          bad = "market " + mid + ": order " + std::to_string(v.id) + "'s last view is not the book's";
        }
      });
    }
    if (bad) return bad;
    if (m.orders.size() != m.book->order_count()) {
      return "market " + mid + ": " + std::to_string(m.orders.size()) + " live orders, " +
             std::to_string(m.book->order_count()) + " on the book";
    }
  }
  return std::nullopt;
}

void Domain::forget_snapshot_cache() {
  for (auto& [id, m] : markets_) {
    for (auto& [key, page] : m.pages) {
      page.base.reset();
      page.frozen.clear();
      page.open = {};
    }
    for (auto& [order, meta] : m.orders) {
      meta.dirty = true;
      unencoded_.emplace_back(&m, order);
    }
  }
}

bool Domain::load(std::string_view bytes, std::string& error,
                  std::optional<std::uint64_t> expect_hash) {
  try {
    const auto sections =
        snap::read_frame(bytes, {"remembered", "state", "transfers", "finished"});
    Domain fresh{Unfilled{}};
    std::exception_ptr failed;
    {
      std::jthread other([&] {
        try {
          snap::Reader r(sections[0]);
          fresh.load_remembered(r);
          if (!r.done()) r.fail("bytes left after the remembered replies");
        } catch (...) {
          failed = std::current_exception();
        }
      });
      snap::Reader r(sections[1]);
      fresh.load_state(r, sections[2], sections[3], ledger_.limits());  // this Domain's limits
      if (!r.done()) r.fail("bytes left after the state");
      fresh.check_loaded(r);
    }  // joins `other` (also when the state's reading threw)
    if (failed) std::rethrow_exception(failed);
    if (expect_hash && fresh.state_hash() != *expect_hash) {
      error = "snapshot: the state loads but its state hash is not the snapshot's";
      return false;
    }
    fresh.replaying_ = replaying_;
    fresh.observed_ = observed_;
    fresh.snapshots_per_command_ = snapshots_per_command_;
    fresh.retire_ledger_ = retire_ledger_;
    *this = std::move(fresh);
    return true;
  } catch (const snap::Error& e) {
    error = e.what();
    return false;
  }
}

void Domain::save_state(snap::Writer& w, std::string& out,
                        std::vector<Image::Part>& parts) const {
  w(now_, command_n_, hash_, participants_n_, assets_n_, auctions_n_, markets_n_, cases_n_,
    settlements_n_, offers_n_, orders_n_, bidder_codes_n_);
  save_ledger(w);
  w(participants_, assets_, auctions_);
  w.u64(markets_.size());
  for (const auto& [id, m] : markets_) save_market(w, out, parts, m);
  w(cases_, settlements_, offers_, new_credentials_, balances_due_);
  w(auction_due_, payment_due_, titles_held_, units_held_);
}

void Domain::load_state(snap::Reader& r, const snap::Section& transfers,
                        const snap::Section& finished, const ledger::Limits& limits) {
  r(now_, command_n_, hash_, participants_n_, assets_n_, auctions_n_, markets_n_, cases_n_,
    settlements_n_, offers_n_, orders_n_, bidder_codes_n_);
  load_ledger(r, transfers, limits);
  r(participants_, assets_, auctions_);
  markets_.clear();
  for (std::size_t i = 0, n = r.count(); i < n; ++i) {
    Market m;
    load_market(r, m);
    if (!markets_.empty() && !(markets_.rbegin()->first < m.id)) r.fail("markets out of order");
    const std::string id = m.id;
    markets_.emplace_hint(markets_.end(), id, std::move(m));
  }
  for (const auto& [id, m] : markets_) {  // none encoded yet: idle time may do it
    for (const auto& [order, meta] : m.orders) unencoded_.emplace_back(&m, order);
  }
  r(cases_, settlements_, offers_, new_credentials_, balances_due_);
  r(auction_due_, payment_due_, titles_held_, units_held_);
  rebuild_lookups(r);
  snap::Reader f(finished);
  load_finished(f);
  if (!f.done()) f.fail("bytes left after the finished orders");
}

// The lookups that are functions of the state read: rebuilt, and refused when the state read
// cannot have made them (two participants with one key, one client_order_id twice).
void Domain::rebuild_lookups(snap::Reader& r) {
  participant_by_key_.clear();
  for (const auto& [id, p] : participants_) {
    if (!p.api_key.empty() && !participant_by_key_.emplace(p.api_key, id).second) {
      r.fail("an api_key used twice");
    }
  }
  auction_due_of_.clear();
  for (const auto& [due, id] : auction_due_) {
    if (!auction_due_of_.emplace(id, due).second) r.fail("an auction due twice");
  }
  // Every order placed took its client_order_id for good, and only orders do.
  client_order_ids_.clear();
  client_order_ids_.reserve(orders_n_);
  for (const auto& [mid, m] : markets_) {
    for (const auto& [id, meta] : m.orders) {
      if (!client_order_ids_.try_emplace(pair_key(meta.owner, meta.client_order_id), id)) {
        r.fail("client_order_id " + meta.client_order_id + " used twice");
      }
    }
  }
  balances_due_set_.clear();
  for (const auto& p : balances_due_) {
    if (!balances_due_set_.insert(p).second) r.fail("a balance due twice");
  }
}

// The ledger: its accounts (with balances, checked against the log on the way in) and its
// history (what compaction retired: counts, hash, the base balances) in the state section,
// and its live log in the "transfers" section; its limits are the engine's configuration,
// not state (a replay would use the engine's own too). Transfers are the bulk, so they are
// written compactly: account ids as their index in the account table (accounts are only ever
// appended), the id, pending id and time as deltas; a carried entry (kept by the last
// compaction) also has its pending state. They are encoded as the ledger grows
// (encode_transfers), not per snapshot, and again from the start after a compaction.
void Domain::save_ledger(snap::Writer& w) const {
  const auto accounts = ledger_.accounts();
  w.u64(accounts.size());
  for (const ledger::Account& a : accounts) w(a);
  const ledger::Ledger::History h = ledger_.history();
  w(h.retired, h.carried, h.hash_transfers, h.max_id);
  w.u64(h.base.size());
  for (const ledger::Account& a : h.base) w(a);
  IPX_ASSERT(transfer_coder_.encoded == ledger_.live_log().size());
  w.u64(ledger_.live_log().size());
}

void Domain::encode_transfers() const {
  TransferCoder& k = transfer_coder_;
  const auto accounts = ledger_.accounts();
  for (; k.accounts < accounts.size(); ++k.accounts) k.index.emplace(accounts[k.accounts].id, k.accounts);
  const auto log = ledger_.live_log().subspan(k.encoded);
  const std::size_t carried = ledger_.carried_count();
  for (std::size_t i = k.encoded; const ledger::Transfer& t : log) {
    transfer_log_.append([&](snap::Writer& w) {
      w.i64(static_cast<std::int64_t>(t.id - k.prev_id));
      w(k.index.at(t.debit_account_id), k.index.at(t.credit_account_id), t.amount);
      w.i64(t.pending_id == 0 ? 0 : static_cast<std::int64_t>(t.id - t.pending_id));
      w(t.code, t.ref, t.expires_at_ms);
      w.i64(t.ts_ms - k.prev_ts);
      w(t.ledger, t.flags);
      if (i < carried) w.u8(static_cast<std::uint8_t>(ledger_.carried_state(i)));
    });
    k.prev_id = t.id;
    k.prev_ts = t.ts_ms;
    ++i;
  }
  k.encoded += log.size();
}

void Domain::compact_ledger() {
  // Kept besides the open pendings: the transfers a settlement lists (settlement.get shows
  // each with its state). The rest is in the database's ledger_transfers.
  boost::unordered_flat_set<std::uint64_t> listed;
  for (const auto& [id, s] : settlements_) listed.insert(s.transfers.begin(), s.transfers.end());
  ledger_.compact([&](const ledger::Transfer& t) { return listed.contains(t.id); });
  // The snapshot's encoding of the log starts again from the live log.
  transfer_log_ = SealedLog{};
  TransferCoder fresh;
  fresh.accounts = transfer_coder_.accounts;
  fresh.index = std::move(transfer_coder_.index);
  transfer_coder_ = std::move(fresh);
}

void Domain::load_ledger(snap::Reader& r, const snap::Section& transfers,
                         const ledger::Limits& lim) {
  std::vector<ledger::Account> accounts;
  r(accounts);
  ledger::Ledger::History h;
  r(h.retired, h.carried, h.hash_transfers, h.max_id);
  r(h.base);
  const std::uint64_t n = r.u64();
  snap::Reader t(transfers);
  if (t.count() != n) t.fail("not the ledger's transfer count");
  if (h.carried > n) t.fail("more carried transfers than transfers");
  const std::size_t from = t.offset();
  std::uint64_t prev_id = 0;
  std::int64_t prev_ts = 0;
  std::uint64_t i = 0;
  auto account_id = [&](std::uint64_t a) {
    if (a >= accounts.size()) t.fail("a transfer names no account");
    return accounts[a].id;
  };
  // Wrapping arithmetic on corrupt deltas is harmless: the ledger re-checks every transfer.
  auto next = [&](ledger::Transfer& x, ledger::Ledger::PendingState& st) {
    x.id = prev_id + static_cast<std::uint64_t>(t.i64());
    std::uint64_t debit = 0, credit = 0;
    t(debit, credit, x.amount);
    x.debit_account_id = account_id(debit);
    x.credit_account_id = account_id(credit);
    const auto back = static_cast<std::uint64_t>(t.i64());
    x.pending_id = back == 0 ? 0 : x.id - back;
    t(x.code, x.ref, x.expires_at_ms);
    x.ts_ms = static_cast<std::int64_t>(static_cast<std::uint64_t>(prev_ts) +
                                        static_cast<std::uint64_t>(t.i64()));
    t(x.ledger, x.flags);
    if (i++ < h.carried) st = static_cast<ledger::Ledger::PendingState>(t.u8());
    prev_id = x.id;
    prev_ts = x.ts_ms;
    return true;
  };
  std::string error;
  auto restored = ledger::Ledger::restore(lim, accounts, h, n, next, error);
  if (!restored) r.fail(error);
  if (!t.done()) t.fail("bytes left after the transfers");
  ledger_ = std::move(*restored);
  // The section's entries are the log's bytes: kept as they are (one sealed chunk).
  transfer_log_.adopt(std::string(t.read_since(from)), n);
  transfer_coder_ = TransferCoder{n, prev_id, prev_ts, 0, {}};
}

// A finished order (FinishedOrder): id, market num, owner, client_order_id.
void Domain::write_finished(snap::Writer& w, const FinishedOrder& f) {
  w.u64(f.id);
  w.u64(f.market_num);
  w.bytes(f.owner);
  w.bytes(f.client_order_id);
}

FinishedOrder Domain::read_finished(snap::Reader& r) {
  FinishedOrder f;
  f.id = r.u64();
  f.market_num = r.u64();
  f.owner = r.bytes();
  f.client_order_id = r.bytes();
  return f;
}

FinishedOrder Domain::read_finished(std::string_view at) {
  snap::Reader r("finished orders", at);
  return read_finished(r);
}

// The finished orders, re-appended in order (so each has its Ref), each checked against the
// state read before it: a market that exists, an order id that was issued and is not live,
// once, and a client_order_id nobody else's order took.
void Domain::load_finished(snap::Reader& r) {
  finished_log_ = SealedLog();
  finished_.clear();
  std::unordered_map<std::uint64_t, const Market*> by_num;
  for (const auto& [id, m] : markets_) by_num.emplace(m.num, &m);
  const std::size_t n = r.count();
  finished_.reserve(n);
  client_order_ids_.reserve(client_order_ids_.size() + n);
  for (std::size_t i = 0; i < n; ++i) {
    const FinishedOrder f = read_finished(r);
    auto m = by_num.find(f.market_num);
    if (m == by_num.end()) r.fail("a finished order of no market");
    if (f.id == 0 || f.id > orders_n_ || m->second->orders.count(f.id)) {
      r.fail("a finished order that is not a done order");
    }
    const SealedLog::Ref ref = finished_log_.append([&](snap::Writer& w) { write_finished(w, f); });
    if (!finished_.try_emplace(f.id, ref)) r.fail("an order finished twice");
    if (!client_order_ids_.try_emplace(pair_key(f.owner, f.client_order_id), f.id)) {
      r.fail("client_order_id " + std::string(f.client_order_id) + " used twice");
    }
  }
}

// A market's own fields, then its book's counters (trade ids, time priority), then the live
// orders' metadata (by book id, sorted), from which a load rebuilds the book: every live order
// rests, and its view is its `last` (orders_unlike_book), whose `priority` places it in its
// level's queue. No walk of the book: its nodes are scattered.
void Domain::save_market(snap::Writer& w, std::string& out, std::vector<Image::Part>& parts,
                         const Market& m) const {
  w(m.id, m.asset_id, m.licensor, m.num, m.licence, m.tick, m.min_qty, m.maker_fee_bp,
    m.taker_fee_bp, m.trades);
  w(m.book->next_trade_id(), m.book->next_priority());
  // The orders' metadata as put(unordered_map) writes it (count, then sorted by id): the
  // pages, each its base and its deltas (the open one frozen now), merged by Image::blob().
  w.u64(m.orders.size());
  parts.push_back({out, nullptr, {}, 0});
  out.clear();
  for (auto& [key, page] : m.pages) {
    if (page.open.entries.size() > 0) {
      page.frozen.push_back(std::make_shared<const Market::PageDelta>(std::move(page.open)));
      page.open = {};
    }
    parts.push_back({{}, page.base, page.frozen, page.live.size()});
  }
}

void Domain::load_market(snap::Reader& r, Market& m) const {
  r(m.id, m.asset_id, m.licensor, m.num, m.licence, m.tick, m.min_qty, m.maker_fee_bp,
    m.taker_fee_bp, m.trades);
  if (m.tick <= 0 || m.min_qty <= 0) r.fail("market " + m.id + ": tick or lot not positive");
  matching::TradeId next_trade_id = 0;
  std::uint64_t next_priority = 0;
  r(next_trade_id, next_priority);
  if (next_priority == 0) r.fail("market " + m.id + ": no priority counter");
  r(m.orders);
  m.pages.clear();
  for (const auto& [id, meta] : m.orders) m.page_add(id, meta);
  // By id, as the pages hold them (not the table's order), so equal priorities (only a corrupt
  // snapshot has them) still make one book.
  std::vector<matching::order_view> resting;
  resting.reserve(m.orders.size());
  for (const auto& [key, page] : m.pages) {
    for (const auto& [id, meta] : page.live) {
      if (!meta->last || meta->last->id != id) {
        r.fail("market " + m.id + ": a live order without its view");
      }
      resting.push_back(*meta->last);
    }
  }
  install_book(m);
  if (m.book->restore(resting, next_trade_id, next_priority) != matching::errc::ok) {
    r.fail("market " + m.id + ": its resting orders do not make a book");
  }
}

// The idempotency table in the order it was remembered (oldest first), as RememberedLog keeps
// it: each entry is read, checked, and appended to the fresh log (encoded again, so the log
// holds exactly what append writes), and the table maps its key to it.
void Domain::load_remembered(snap::Reader& r) {
  remembered_log_ = RememberedLog();
  remembered_.clear();
  const std::size_t n = r.count();
  remembered_.reserve(n);
  std::int64_t last = INT64_MIN;
  for (std::size_t i = 0; i < n; ++i) {
    const RememberedLog::Entry e = RememberedLog::read(r);
    if (e.at_ms < last) r.fail("request ids out of time order");
    last = e.at_ms;
    const auto ref = remembered_log_.append(e.at_ms, e.key, e.params, e.code, e.message,
                                            e.result_json);
    if (!remembered_.insert(e.key, ref, remembered_log_)) {
      r.fail("a request id remembered twice");
    }
  }
}

// Cross-references a later command relies on (pairs with the checks each part made as it
// was read): every timer names a live auction at its mechanism's due time, every auction's
// mechanism agrees with its record, every market's orders are known.
void Domain::check_loaded(snap::Reader& r) const {
  for (const auto& [due, id] : auction_due_) {
    auto a = auctions_.find(id);
    if (a == auctions_.end()) r.fail("a timer for no auction " + id);
    const auto d = a->second.mech->next_due();
    if (!d || d->v != due) r.fail("auction " + id + ": timer disagrees with its mechanism");
  }
  for (const auto& [id, a] : auctions_) {
    if (a.id != id || !a.mech) r.fail("auction " + id + ": malformed");
    if (a.state != "cancelled" && a.mech->next_due() && !auction_due_of_.count(id)) {
      r.fail("auction " + id + ": due without a timer");
    }
  }
  for (const auto& [id, m] : markets_) {
    bool known = true;
    for (const matching::side s : {matching::side::buy, matching::side::sell}) {
      m.book->for_each_order(
          s, [&](const matching::order_view& v) { known = known && m.orders.count(v.id) == 1; });
    }
    if (!known) r.fail("market " + id + ": a resting order without metadata");
  }
  for (const auto& [due, id] : payment_due_) {
    if (!settlements_.count(id)) r.fail("a payment deadline for no settlement " + id);
  }
  for (const auto& [id, a] : assets_) {  // rule 14: live pledges, bounded, in registration order
    if (a.pledges.size() > kPledgesPerAssetMax) r.fail("asset " + id + ": too many pledges");
    for (std::size_t i = 1; i < a.pledges.size(); ++i) {
      if (a.pledges[i - 1].seq >= a.pledges[i].seq)
        r.fail("asset " + id + ": pledges out of order");
    }
    for (const auto& pl : a.pledges) {
      if (pl.paid < 0 || pl.remaining() < 0) r.fail("asset " + id + ": a pledge paid beyond its claim");
    }
  }
  for (const auto& [id, dc] : cases_) {
    for (const auto& cp : dc.pledges) {
      if (cp.paid < 0 || cp.paid > cp.claim)
        r.fail("case " + id + ": a pledge paid beyond its claim");
    }
  }
  if (!participants_.count("admin")) r.fail("no admin participant");
}

}  // namespace ipx::engine
