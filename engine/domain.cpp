// Domain: dispatch, idempotency, timers, participants, accounts, assets, pledges, and the
// ledger helpers every other part uses.
#include "engine/domain.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "engine/ids.hpp"
#include "matching/assert.hpp"

namespace ipx::engine {

namespace {
constexpr std::int64_t kRememberMs = 24LL * 3600 * 1000;  // request_id memory (PROTOCOL)

bool keeps_reply(Code c) {
  return c != Code::unavailable && c != Code::rate_limited && c != Code::too_large &&
         c != Code::internal;
}

// The outcome hash (state hash scheme 2, snap::kStateHashScheme): the reply's text eight
// bytes at a time (little-endian words, the tail bytes one by one), each step
// h = rotl((h ^ w) * K, 29) with K odd: a bijection of h for each word, so two texts that
// differ in one word never hash alike. Scheme 1 (snapshots written before session 13) took
// one byte per step, FNV-1a: a serial chain of ~4 cycles per byte, 8 % of a replay's time.
std::uint64_t mix_bytes(std::uint64_t h, std::string_view bytes) {
  constexpr std::uint64_t kMul = 0x9E37'79B9'7F4A'7C15ull;
  const char* p = bytes.data();
  std::size_t n = bytes.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = std::rotl((h ^ w) * kMul, 29);
  }
  for (; n > 0; ++p, --n) h = std::rotl((h ^ static_cast<unsigned char>(*p)) * kMul, 29);
  return h ^ (h >> 29);
}

// The same over json::serialize(o) (rare: most replies are made as text).
std::uint64_t mix_json(std::uint64_t h, const json::object& o) {
  thread_local std::string text;
  text.clear();
  json::serializer sr;
  sr.reset(&o);
  char buf[4096];
  while (!sr.done()) text.append(sr.read(buf, sizeof buf));
  return mix_bytes(h, text);
}

}  // namespace

// The one mapping from a matching reject to the protocol's code.
Code code_of(matching::errc e) {
  using matching::errc;
  switch (e) {
    case errc::ok:
      return Code::ok;
    case errc::bad_request:
      return Code::bad_request;
    case errc::bad_price:
      return Code::bad_price;
    case errc::not_found:
      return Code::not_found;
    case errc::duplicate:
      return Code::duplicate;
    case errc::would_cross:
      return Code::would_cross;
    case errc::self_trade:
      return Code::self_trade;
    case errc::bid_too_low:
      return Code::bid_too_low;
    case errc::already_leading:
      return Code::already_leading;
    case errc::auction_not_open:
      return Code::auction_not_open;
    case errc::auction_closed:
      return Code::auction_closed;
    case errc::not_qualified:
      return Code::not_qualified;
    case errc::invalid_state:
      return Code::invalid_state;
    case errc::insufficient_funds:
      return Code::insufficient_funds;
    case errc::capacity:
      return Code::unavailable;
  }
  return Code::internal;
}

bool valid_region(std::string_view r) {
  if (r.empty() || r.size() > 64) return false;
  return std::all_of(r.begin(), r.end(),
                     [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'; });
}

bool valid_industry(std::string_view s) {
  static constexpr std::string_view kIndustries[] = {
      "electronic_information", "equipment_manufacturing", "food_light_textile",
      "advanced_materials",     "energy_chemical",         "medicine_health",
      "other"};
  return std::find(std::begin(kIndustries), std::end(kIndustries), s) != std::end(kIndustries);
}

bool valid_asset_kind(std::string_view s) {
  static constexpr std::string_view kKinds[] = {"invention_patent", "utility_model",
                                                "design_patent",    "trademark",
                                                "copyright",        "software_copyright"};
  return std::find(std::begin(kKinds), std::end(kKinds), s) != std::end(kKinds);
}

Domain::Domain() : Domain(kLedgerLimits) {}

namespace {
ledger::Limits growing(ledger::Limits l) {
  l.grow = true;
  return l;
}
}  // namespace

Domain::Domain(ledger::Limits ledger_limits) : ledger_(growing(ledger_limits)) {
  // The built-in admin (credentials come from configuration, never from the journal).
  Participant admin;
  admin.id = "admin";
  admin.num = 0;
  admin.name = "administrator";
  admin.kind = "admin";
  admin.region = "cn";
  admin.roles = roles_of_kind("admin");
  participants_.emplace(admin.id, admin);
  ensure_account(ids::kExternalCny, ledger::kLedgerCny, ids::code_external, 0, 0);
  ensure_account(ids::kExternalTitles, ledger::kLedgerTitles, ids::code_external, 0, 0);
  ensure_account(ids::kFeesCny, ledger::kLedgerCny, ids::code_fees, 0, 0);
}

Domain::~Domain() = default;

Outcome Domain::apply(Method m, const std::string& actor_id, const std::string& request_id,
                      const Params& params, std::int64_t now, std::vector<Push>& pushes,
                      std::string_view sent, const std::string* invalid) {
  const bool admitted = std::exchange(admitted_, false);  // whatever this call returns
  const MethodInfo& info = method_info(m);
  const Participant* actor = participant(actor_id);
  if (actor == nullptr && info.roles != role_system && m != Method::time_now) {
    return Outcome::error(Code::unauthenticated, "unknown participant");
  }
  // Well-formed comes before the role (PROTOCOL "Edges"): invalid params skip the role check.
  // A refused change with a request_id is kept like any other reply (PROTOCOL "Idempotency":
  // the first reply, success or error), so it goes on below and is remembered.
  const bool forbidden = invalid == nullptr && info.roles != role_any &&
                         info.roles != role_system && (actor->roles & info.roles) == 0;
  // PROTOCOL "Edges": params that are not well formed (shape) are BAD_REQUEST before the role.
  auto forbidden_outcome = [&] {
    if (Outcome s = shape(m, params); !s.ok()) return s;
    return Outcome::error(Code::forbidden,
                          std::string(info.name) + " is not allowed for role " + actor->kind);
  };
  if (forbidden && (!info.mutating || request_id.empty() || m == Method::time_advance)) {
    return forbidden_outcome();
  }
  if (!info.mutating) {
    // Reads change nothing, fire no timer, and are not journaled.
    Ctx ctx{actor, std::max(now, now_), pushes};
    return dispatch(m, ctx, params);
  }
  IPX_ASSERT(now >= now_);
  // The ledger's live log has a (soft) capacity, and compaction keeps it under half unless
  // what it must keep (open holds, what settlements list) fills it. Near it, commands are
  // refused (UNAVAILABLE, nothing applied, not remembered) before anything happens, timers
  // included, rather than let a transfer fail midway; the headroom is for what timers already
  // due may still post. The engine asks the same before a command reaches the journal
  // (admit()), with the same state, so a journaled command never meets this and a replay,
  // whatever its capacity, skips it; here it guards a Domain driven without the engine.
  if (!admitted) {
    maintain_ledger();
    if (!replaying_ && ledger_refuses(m, actor_id, request_id, invalid != nullptr, now)) {
      return ledger_full_outcome();
    }
  }
  // Runs once the reply below is made, whichever return makes it.
  struct AfterChange {
    Domain& d;
    ~AfterChange() { d.after_change(); }
  } after_change_guard{*this};
  Ctx ctx{actor, now, pushes};
  const std::size_t pushes_first = pushes.size();
  ++command_n_;
  // Timers due up to now fire first, each at its own due time (PROTOCOL "Edges").
  if (m != Method::time_advance) fire_timers(now, ctx);
  now_ = now;
  // Forget request_ids older than 24 h of engine time.
  while (!remembered_log_.empty() && remembered_log_.front().at_ms + kRememberMs <= now) {
    remembered_.erase(remembered_log_.front().key, remembered_log_);
    remembered_log_.pop_front();
  }
  // The request as a retry is compared with: the method name, a space, the params' text
  // (the method is part of the request: the same request_id on another method with the same
  // params is DUPLICATE, not the other method's reply). Kept in pieces, not joined.
  const std::string_view method_name = info.name;
  std::string encoded, key;
  if (!request_id.empty()) {
    if (sent.empty()) {
      info.encode_text(params, encoded);
      sent = encoded;
    }
    key = pair_key(actor_id, request_id);
    if (const RememberedLog::Ref* ref = remembered_.find(key, remembered_log_); ref != nullptr) {
      const RememberedLog::Entry r = remembered_log_.get(*ref);
      const bool same = r.params.size() == method_name.size() + 1 + sent.size() &&
                        r.params.starts_with(method_name) && r.params[method_name.size()] == ' ' &&
                        r.params.ends_with(sent);
      if (!same) {
        return Outcome::error(Code::duplicate, "request_id already used with other params");
      }
      if (r.code != Code::ok) return Outcome::error(r.code, std::string(r.message));
      return Outcome::success(json::parse(r.result_json).as_object());
    }
  }
  const std::size_t pushes_before = pushes.size();
  const std::size_t transfers_before = ledger_.transfer_count();
  Outcome out = invalid != nullptr ? Outcome::error(Code::bad_request, *invalid)
                : forbidden       ? forbidden_outcome()
                                  : dispatch(m, ctx, params);
  if (!out.ok()) {
    // A rejected request changes nothing: handlers check before they change; pushes made by
    // timers that fired before the command stay (they are the timers' own effects).
    IPX_ASSERT(ledger_.transfer_count() == transfers_before || m == Method::time_advance);
    pushes.resize(pushes_before);
  }
  reindex_from(pushes, pushes_first);
  if (!replaying_ && observed_ && snapshots_per_command_) attach_snapshots(pushes, pushes_first);
  const bool text_result = !out.result_text.empty();
  if (request_id.empty() || !keeps_reply(out.code)) {
    hash_ = text_result ? mix_bytes(hash_ ^ static_cast<std::uint64_t>(out.code), out.result_text)
                        : mix_json(hash_ ^ static_cast<std::uint64_t>(out.code), out.result);
    return out;
  }
  // Remembered: the result's text is made once, for the hash and for the table.
  const std::string serialized = text_result ? std::string() : json::serialize(out.result);
  const std::string& text = text_result ? out.result_text : serialized;
  hash_ = mix_bytes(hash_ ^ static_cast<std::uint64_t>(out.code), text);
  // Not remembered yet (looked up above), so the key is new to the table.
  const auto ref = remembered_log_.append(now, key, {method_name, " ", sent}, out.code, out.message,
                                          out.ok() ? std::string_view(text) : std::string_view());
  const bool inserted = remembered_.insert(key, ref, remembered_log_);
  IPX_ASSERT(inserted);
  return out;
}

Outcome Domain::shape(Method m, const Params& p) {
  switch (m) {
    case Method::participant_create: return participant_shape(std::get<ParticipantCreate>(p));
    case Method::asset_register: return asset_shape(std::get<AssetRegister>(p));
    case Method::disposal_open: {
      CasePlan plan;
      return disposal_shape(std::get<DisposalOpen>(p), plan);
    }
    case Method::auction_create: {
      matching::Format format{};
      return auction_shape(std::get<AuctionCreate>(p), format);
    }
    case Method::backstop_offer: return offer_shape(std::get<BackstopOffer>(p));
    case Method::market_create: return market_shape(std::get<MarketCreate>(p));
    case Method::report_disposals: return report_shape(std::get<ReportDisposals>(p));
    case Method::order_place: {
      const Market probe;  // the lot of any market: qty > 0
      matching::order_params op;
      return order_params(probe, std::get<OrderPlace>(p), 0, op);
    }
    default: return Outcome::success({});
  }
}

Outcome Domain::dispatch(Method m, Ctx& c, const Params& p) {
  switch (m) {
    case Method::time_now:
      return Outcome::success({{"now", c.now}});
    case Method::time_advance: {
      const std::int64_t target = c.now + std::get<TimeAdvance>(p).ms;
      fire_timers(target, c);
      now_ = target;
      c.now = target;
      return Outcome::success({{"now", target}});
    }
    case Method::tick: return Outcome::success({{"now", c.now}});
    case Method::participant_create: return participant_create(c, std::get<ParticipantCreate>(p));
    case Method::account_fund: return account_fund(c, std::get<AccountFund>(p));
    case Method::account_get: return account_get(c, std::get<AccountGet>(p));
    case Method::asset_register: return asset_register(c, std::get<AssetRegister>(p));
    case Method::pledge_register: return pledge_register(c, std::get<PledgeRegister>(p));
    case Method::pledge_consent: return pledge_consent(c, std::get<AssetRef>(p));
    case Method::asset_get: return asset_get(c, std::get<AssetRef>(p));
    case Method::disposal_open: return disposal_open(c, std::get<DisposalOpen>(p));
    case Method::disposal_get: return disposal_get(c, std::get<CaseRef>(p));
    case Method::disposal_list: return disposal_list(c, std::get<DisposalList>(p));
    case Method::auction_create: return auction_create(c, std::get<AuctionCreate>(p));
    case Method::auction_cancel: return auction_cancel(c, std::get<AuctionCancel>(p));
    case Method::auction_register: return auction_register(c, std::get<AuctionRef>(p));
    case Method::auction_bid: return auction_bid(c, std::get<AuctionBid>(p));
    case Method::auction_proxy: return auction_proxy(c, std::get<AuctionProxy>(p));
    case Method::auction_accept: return auction_accept(c, std::get<AuctionRef>(p));
    case Method::auction_get: return auction_get(c, std::get<AuctionGet>(p));
    case Method::auction_list: return auction_list(c, std::get<AuctionList>(p));
    case Method::backstop_offer: return backstop_offer(c, std::get<BackstopOffer>(p));
    case Method::market_create: return market_create(c, std::get<MarketCreate>(p));
    case Method::market_get: return market_get(c, std::get<MarketRef>(p));
    case Method::units_issue: return units_issue(c, std::get<UnitsIssue>(p));
    case Method::order_place: return order_place(c, std::get<OrderPlace>(p));
    case Method::order_cancel: return order_cancel(c, std::get<OrderRef>(p));
    case Method::order_replace: return order_replace(c, std::get<OrderReplace>(p));
    case Method::settlement_get: return settlement_get(c, std::get<SettlementRef>(p));
    case Method::settlement_pay: return settlement_pay(c, std::get<SettlementRef>(p));
    case Method::settlement_confirm: return settlement_confirm(c, std::get<SettlementConfirm>(p));
    case Method::settlement_fail: return settlement_fail(c, std::get<SettlementFail>(p));
    case Method::report_disposals: return report_disposals(c, std::get<ReportDisposals>(p));
  }
  return Outcome::error(Code::internal, "unknown method");
}

// Fires every timer due up to `until`, in due order, each at its own due time.
void Domain::fire_timers(std::int64_t until, Ctx& c) {
  for (int guard = 0; guard < 1'000'000; ++guard) {
    std::optional<std::int64_t> due = next_due();
    if (!due || *due > until) return;
    const std::int64_t at = std::max(*due, now_);
    now_ = at;
    c.now = at;
    const std::size_t first = c.pushes.size();
    while (!auction_due_.empty() && auction_due_.begin()->first <= at) {
      const std::string id = auction_due_.begin()->second;
      advance_auction(auctions_.at(id), at, c);
      reindex_auction(id);
    }
    expire_orders(at, c);
    check_payment_deadlines(at, c);
    advance_cases(at, c);
    reindex_from(c.pushes, first);  // rounds opened by these timers have timers of their own
  }
  IPX_ASSERT(false && "timer loop did not settle");
}

const Participant* Domain::participant(const std::string& id) const {
  auto it = participants_.find(id);
  return it == participants_.end() ? nullptr : &it->second;
}

Participant* Domain::find_participant(const std::string& id) {
  auto it = participants_.find(id);
  return it == participants_.end() ? nullptr : &it->second;
}

std::string Domain::next_id(const char* prefix, std::uint64_t& counter) {
  return std::string(prefix) + "-" + std::to_string(++counter);
}

// Every push carries its channel's state after the command, so the gateway can answer a new
// subscriber with a snapshot that agrees with the channel's seq.
void Domain::attach_snapshots(std::vector<Push>& pushes, std::size_t first) const {
  std::map<std::string, json::value> done;
  for (std::size_t i = first; i < pushes.size(); ++i) {
    Push& p = pushes[i];
    auto it = done.find(p.channel);
    if (it == done.end()) it = done.emplace(p.channel, channel_snapshot(p.channel)).first;
    p.snapshot = it->second;
  }
}

json::value Domain::channel_snapshot(const std::string& channel) const {
  const auto dot = channel.find('.');
  if (dot == std::string::npos) return nullptr;
  const std::string kind = channel.substr(0, dot), id = channel.substr(dot + 1);
  if (kind == "auction") {
    auto it = auctions_.find(id);
    return it == auctions_.end() ? json::value(nullptr) : json::value(auction_json(it->second));
  }
  if (kind == "book") {
    auto it = markets_.find(id);
    return it == markets_.end() ? json::value(nullptr) : json::value(book_json(it->second));
  }
  if (kind == "disposal") {
    auto it = cases_.find(id);
    return it == cases_.end() ? json::value(nullptr) : json::value(case_json(it->second));
  }
  if (kind == "private") {
    const Participant* p = participant(id);
    return p == nullptr ? json::value(nullptr) : json::value(account_json(*p));
  }
  return nullptr;
}

std::vector<std::string> Domain::channels() const {
  std::vector<std::string> out;
  for (const auto& [id, a] : auctions_) out.push_back("auction." + id);
  for (const auto& [id, m] : markets_) out.push_back("book." + id);
  for (const auto& [id, c] : cases_) out.push_back("disposal." + id);
  for (const auto& [id, p] : participants_) out.push_back("private." + id);
  return out;
}

std::uint64_t Domain::state_hash() const { return hash_ ^ (ledger_.state_hash() * 31); }

// ---------------------------------------------------------------- participants and accounts

Outcome Domain::participant_shape(const ParticipantCreate& p) {
  if (!valid_kind(p.kind) || p.kind == "admin") {
    return Outcome::error(Code::bad_request,
                          "kind: must be operator, bank, enterprise, individual, backstop or "
                          "risk_fund");
  }
  if (!valid_region(p.region)) return Outcome::error(Code::bad_request, "region: bad region");
  return Outcome::success({});
}

Outcome Domain::participant_create(Ctx& c, const ParticipantCreate& p) {
  if (Outcome s = participant_shape(p); !s.ok()) return s;
  if (!p.api_key || !p.api_secret) return Outcome::error(Code::internal, "credentials missing");
  if (participant_by_key_.count(*p.api_key)) {
    return Outcome::error(Code::duplicate, "api_key already in use");
  }
  Participant np;
  np.num = participants_n_ + 1;
  np.id = "P-" + std::to_string(np.num);
  np.name = p.name;
  np.kind = p.kind;
  np.region = p.region;
  np.whitelisted = p.whitelisted;
  np.roles = roles_of_kind(p.kind);
  np.api_key = *p.api_key;
  np.api_secret = *p.api_secret;
  ++participants_n_;
  cash_account(np);
  participant_by_key_[np.api_key] = np.id;
  new_credentials_.push_back({np.api_key, np.api_secret, np.id, np.kind});
  auto& stored = participants_.emplace(np.id, std::move(np)).first->second;
  push_balance(c, stored.id);
  return Outcome::success({{"participant_id", stored.id},
                           {"name", stored.name},
                           {"kind", stored.kind},
                           {"region", stored.region},
                           {"whitelisted", stored.whitelisted},
                           {"api_key", stored.api_key},
                           {"api_secret", stored.api_secret}});
}

std::vector<Credential> Domain::credentials() const {
  std::vector<Credential> out;
  for (const auto& [id, p] : participants_) {
    if (!p.api_key.empty()) out.push_back({p.api_key, p.api_secret, p.id, p.kind});
  }
  return out;
}

Outcome Domain::account_fund(Ctx& c, const AccountFund& p) {
  Participant* who = find_participant(p.participant_id);
  if (who == nullptr || who->id == "admin") {
    return Outcome::error(Code::not_found, "no participant " + p.participant_id);
  }
  ledger::Transfer t;
  t.id = next_transfer_id(c);
  t.debit_account_id = ids::kExternalCny;
  t.credit_account_id = cash_account(*who);
  t.amount = p.amount;
  t.ledger = ledger::kLedgerCny;
  t.code = ids::code_funding;
  auto r = submit_transfers(std::span(&t, 1), Ms{c.now});
  if (!r.ok()) {
    // Double entry: every fen funded is also a debit of the one account that stands for the
    // world outside, so the exchange's total funding, not only this account, stays within
    // int64 (2^63 - 1 fen, ~9.2 x 10^16 CNY).
    return Outcome::error(Code::bad_request,
                          "amount: this account, or the exchange's total funding, would pass "
                          "2^63 - 1 fen");
  }
  push_balance(c, who->id);
  return Outcome::success(account_json(*who));
}

Outcome Domain::account_get(Ctx& c, const AccountGet& p) {
  const std::string& id = p.participant_id ? *p.participant_id : c.actor->id;
  const bool may_see_any = (c.actor->roles & (role_admin | role_operator)) != 0;
  const Participant* who = participant(id);
  if (who == nullptr || (!may_see_any && id != c.actor->id)) {
    return Outcome::error(Code::not_found, "no account " + id);
  }
  return Outcome::success(account_json(*who));
}

json::object Domain::account_json(const Participant& p) const {
  json::object o;
  o["participant_id"] = p.id;
  const ledger::Account* cash = ledger_.find_account(ids::cash(p.num));
  o["cash_available"] = cash ? ledger::available(*cash) : 0;
  o["cash_held"] = cash ? ledger::held(*cash) : 0;
  json::array positions;
  static const std::set<std::string> kNone;
  auto held_units = units_held_.find(p.num);
  for (const auto& mid : held_units == units_held_.end() ? kNone : held_units->second) {
    const Market& m = markets_.at(mid);
    const ledger::Account* a = ledger_.find_account(ids::units(p.num, m.num));
    if (a == nullptr || (ledger::posted_balance(*a) == 0 && ledger::held(*a) == 0)) continue;
    positions.push_back(json::object{{"market_id", mid},
                                     {"units", ledger::posted_balance(*a)},
                                     {"units_held", ledger::held(*a)}});
  }
  auto held_titles = titles_held_.find(p.num);
  for (const auto& aid : held_titles == titles_held_.end() ? kNone : held_titles->second) {
    const Asset& asset = assets_.at(aid);
    const ledger::Account* a = ledger_.find_account(ids::title(p.num, asset.num));
    if (a == nullptr || ledger::posted_balance(*a) == 0) continue;
    positions.push_back(json::object{{"asset_id", aid},
                                     {"units", ledger::posted_balance(*a)},
                                     {"units_held", ledger::held(*a)}});
  }
  o["positions"] = std::move(positions);
  return o;
}

std::int64_t Domain::cash_available(const Participant& p) const {
  const ledger::Account* cash = ledger_.find_account(ids::cash(p.num));
  return cash ? ledger::available(*cash) : 0;
}

// -------------------------------------------------------------------------- assets, pledges

Outcome Domain::asset_shape(const AssetRegister& p) {
  if (!valid_asset_kind(p.kind)) return Outcome::error(Code::bad_request, "kind: unknown asset kind");
  if (!valid_industry(p.industry)) return Outcome::error(Code::bad_request, "industry: unknown industry");
  if (!valid_region(p.region)) return Outcome::error(Code::bad_request, "region: bad region");
  return Outcome::success({});
}

Outcome Domain::asset_register(Ctx& c, const AssetRegister& p) {
  if (Outcome s = asset_shape(p); !s.ok()) return s;
  const bool is_operator = (c.actor->roles & role_operator) != 0;
  if (!is_operator && p.owner != c.actor->id) {
    return Outcome::error(Code::forbidden, "owner: a trader registers only its own assets");
  }
  Participant* owner = find_participant(p.owner);
  if (owner == nullptr || owner->id == "admin") {
    return Outcome::error(Code::not_found, "owner: no participant " + p.owner);
  }
  for (const auto& co : p.co_owners) {
    if (participant(co) == nullptr) return Outcome::error(Code::not_found, "co_owners: no participant " + co);
  }
  if (assets_.count(p.asset_id)) return Outcome::error(Code::duplicate, "asset " + p.asset_id + " exists");
  Asset a;
  a.id = p.asset_id;
  a.num = ++assets_n_;
  a.kind = p.kind;
  a.title = p.title;
  a.owner = p.owner;
  a.region = p.region;
  a.industry = p.industry;
  a.valuation = p.valuation;
  a.valuation_date = p.valuation_date.value_or(c.now);
  a.expires_at = p.expires_at;
  a.co_owners = p.co_owners;
  if (p.legal_status) a.legal_status = *p.legal_status;
  a.open_licence = p.open_licence.value_or(false);  // rule 15: takes no exclusive or sole licence
  // The title: one unit from the outside world to the owner.
  ledger::Transfer t;
  t.id = next_transfer_id(c);
  t.debit_account_id = ids::kExternalTitles;
  t.credit_account_id = title_account(*owner, a);
  t.amount = 1;
  t.ledger = ledger::kLedgerTitles;
  t.code = ids::code_title;
  t.ref = a.num;
  auto r = submit_transfers(std::span(&t, 1), Ms{c.now});
  IPX_ASSERT(r.ok());
  auto& stored = assets_.emplace(a.id, std::move(a)).first->second;
  push_balance(c, owner->id);  // the title is one of the owner's positions
  return Outcome::success(asset_json(stored));
}

json::object Domain::asset_json(const Asset& a) const {
  json::object o{{"asset_id", a.id},       {"kind", a.kind},
                 {"title", a.title},       {"owner", a.owner},
                 {"region", a.region},     {"industry", a.industry},
                 {"valuation", a.valuation}, {"valuation_date", a.valuation_date},
                 {"expires_at", a.expires_at}, {"legal_status", a.legal_status},
                 {"open_licence", a.open_licence}};
  json::array co;
  for (const auto& x : a.co_owners) co.push_back(json::string(x));
  o["co_owners"] = std::move(co);
  // PROTOCOL's `pledge`: the first-ranked live pledge (null when none); `pledges`
  // (extension): every live pledge, in registration order (rule 14's order of payment).
  json::array pledges;
  for (const auto& pl : a.pledges) pledges.push_back(pledge_json(a, pl));
  o["pledge"] = a.pledges.empty() ? json::value(nullptr) : pledges.front();
  o["pledges"] = std::move(pledges);
  return o;
}

json::object Domain::pledge_json(const Asset& a, const Pledge& pl) {
  json::object o{{"pledgee", pl.pledgee},
                 {"pledgor", pl.pledgor},
                 {"registration_no", pl.registration_no},
                 {"loan_outstanding", pl.loan_outstanding},
                 {"interest", pl.interest},
                 {"penalties", pl.penalties},
                 {"costs", pl.costs},
                 {"claim", pl.claim()},
                 {"paid", pl.paid},
                 {"status", pl.status},
                 {"consented", pl.consented}};
  // Extensions: the pledge's place in the order of payment (1 = paid first) and its time.
  for (std::size_t i = 0; i < a.pledges.size(); ++i) {
    if (&a.pledges[i] == &pl) o["rank"] = static_cast<std::int64_t>(i + 1);
  }
  o["registered_at"] = pl.registered_at;
  return o;
}

// Rule 14: an asset takes several pledges, ranked in the order they are registered. The same
// registration_no twice on one asset is DUPLICATE; a pledge on an asset under disposal (seized)
// or beyond kPledgesPerAssetMax is INVALID_STATE.
Outcome Domain::pledge_register(Ctx& c, const PledgeRegister& p) {
  auto it = assets_.find(p.asset_id);
  if (it == assets_.end()) return Outcome::error(Code::not_found, "no asset " + p.asset_id);
  const Participant* bank = participant(p.pledgee);
  if (bank == nullptr || bank->kind != "bank") {
    return Outcome::error(Code::not_found, "pledgee: no bank " + p.pledgee);
  }
  const bool is_operator = (c.actor->roles & role_operator) != 0;
  if (!is_operator && p.pledgee != c.actor->id) {
    return Outcome::error(Code::forbidden, "pledgee: a bank registers only its own pledges");
  }
  Asset& a = it->second;
  for (const auto& live : a.pledges) {
    if (live.registration_no == p.registration_no) {
      return Outcome::error(Code::duplicate, "registration_no: pledge " + p.registration_no +
                                                 " is already registered on " + a.id);
    }
  }
  for (const auto& live : a.pledges) {
    if (live.status == "foreclosed") {
      return Outcome::error(Code::invalid_state, "asset " + a.id + " is under disposal");
    }
  }
  // Rule 13: a pledged asset is not assigned without its pledgee's consent; one already for
  // sale would be.
  if (in_live_sale(a.id)) {
    return Outcome::error(Code::invalid_state, "asset " + a.id + " is for sale");
  }
  if (a.pledges.size() >= kPledgesPerAssetMax) {
    return Outcome::error(Code::invalid_state, "asset " + a.id + " already has " +
                                                   std::to_string(kPledgesPerAssetMax) +
                                                   " live pledges (the most it takes)");
  }
  if (p.pledgor && *p.pledgor != a.owner) {
    return Outcome::error(Code::invalid_state, "pledgor: must be the asset's owner " + a.owner);
  }
  if (a.owner == p.pledgee) {  // an asset the bank holds (taken in lieu, say) secures nothing
    return Outcome::error(Code::invalid_state, "asset " + a.id + " is the pledgee's own");
  }
  Pledge pl;
  pl.pledgee = p.pledgee;
  pl.pledgor = a.owner;
  pl.registration_no = p.registration_no;
  pl.loan_outstanding = p.loan_outstanding;
  pl.interest = p.interest.value_or(0);
  pl.penalties = p.penalties.value_or(0);
  pl.costs = p.costs.value_or(0);
  pl.seq = command_n_;
  pl.registered_at = c.now;
  auto sum = checked_add(pl.loan_outstanding, pl.interest);
  if (sum) sum = checked_add(*sum, pl.penalties);
  if (sum) sum = checked_add(*sum, pl.costs);
  if (!sum) return Outcome::error(Code::bad_request, "loan_outstanding: claim overflows");
  IPX_ASSERT(a.pledges.empty() || a.pledges.back().seq < pl.seq);
  a.pledges.push_back(std::move(pl));
  json::object r = pledge_json(a, a.pledges.back());
  r["asset_id"] = a.id;
  return Outcome::success(std::move(r));
}

// Rule 13 with several pledgees: each consents for its own pledges on the asset; the owner may
// list or license it once every live pledgee has. The result is the caller's first-ranked one.
Outcome Domain::pledge_consent(Ctx& c, const AssetRef& p) {
  auto it = assets_.find(p.asset_id);
  Pledge* first = nullptr;
  if (it != assets_.end()) {
    for (auto& pl : it->second.pledges) {
      if (pl.pledgee == c.actor->id && first == nullptr) first = &pl;
    }
  }
  if (first == nullptr)
    return Outcome::error(Code::not_found, "no pledge of yours on " + p.asset_id);
  if (first->status != "active") {
    return Outcome::error(Code::invalid_state, "pledge is " + first->status);
  }
  for (auto& pl : it->second.pledges) {
    if (pl.pledgee == c.actor->id) pl.consented = true;
  }
  json::object r = pledge_json(it->second, *first);
  r["asset_id"] = p.asset_id;
  return Outcome::success(std::move(r));
}

// asset.get (extension): the asset with its pledges, for the operator, the owner and the
// asset's live pledgees; anyone else NOT_FOUND (PROTOCOL "Edges").
Outcome Domain::asset_get(Ctx& c, const AssetRef& p) {
  auto it = assets_.find(p.asset_id);
  bool may = it != assets_.end() &&
             ((c.actor->roles & role_operator) != 0 || it->second.owner == c.actor->id);
  if (it != assets_.end() && !may) {
    for (const auto& pl : it->second.pledges) may = may || pl.pledgee == c.actor->id;
  }
  if (!may) return Outcome::error(Code::not_found, "no asset " + p.asset_id);
  return Outcome::success(asset_json(it->second));
}

// ---------------------------------------------------------------------------- ledger helpers

bool Domain::admit(Method m, std::string_view actor_id, std::string_view request_id,
                   bool invalid, std::int64_t now) {
  maintain_ledger();
  if (ledger_refuses(m, actor_id, request_id, invalid, now)) return false;
  admitted_ = true;
  return true;
}

void Domain::maintain_ledger() {
  if (!retire_ledger_) return;
  // Due: the live log holds half its capacity and has grown by half the room the last
  // compaction left (so holds that fill it are not rescanned for every command). Tight: near
  // the capacity, whatever has been added since may be retired (cancels free their holds).
  const std::size_t live = ledger_.live_log().size(), kept = ledger_.carried_count(),
                    cap = ledger_.limits().transfers_max;
  // (kept may pass cap: the ledger grows past its capacity when nothing can be retired.)
  const std::size_t added = live - kept;
  const bool due = live >= cap / 2 && kept < cap && added >= std::max<std::size_t>(1, (cap - kept) / 2);
  const bool tight = live + cap / 16 >= cap && added >= std::max<std::size_t>(1, cap / 256);
  if (due || tight) compact_ledger();
}

bool Domain::ledger_refuses(Method m, std::string_view actor_id, std::string_view request_id,
                            bool invalid, std::int64_t now) const {
  // A cancel only releases (one void), so it goes on and makes room; the timers (tick,
  // time.advance) must run, and free holds as they expire, forfeit or release them.
  if (m == Method::time_advance || m == Method::tick || m == Method::order_cancel) return false;
  const MethodInfo& info = method_info(m);
  // The live log, or the account table (accounts are never retired; a command may open a
  // few: a participant's cash, a position, an auction's escrow).
  const std::size_t cap = ledger_.limits().transfers_max, accounts = ledger_.limits().accounts_max;
  const bool full = ledger_.live_log().size() + cap / 16 >= cap ||
                    ledger_.accounts().size() + accounts / 16 >= accounts;
  if (!info.mutating || invalid || !full) return false;
  // What is answered before any transfer goes on as ever: an unknown participant, a method
  // its role may not call, and a retry (its first reply, or DUPLICATE).
  const Participant* actor = participant(std::string(actor_id));
  if (actor == nullptr) return false;
  if (info.roles != role_any && info.roles != role_system && (actor->roles & info.roles) == 0) {
    return false;
  }
  if (request_id.empty()) return true;
  // Remembered, and not about to be forgotten (Domain::apply forgets after 24 h first).
  const RememberedLog::Ref* ref = remembered_.find(pair_key(actor_id, request_id), remembered_log_);
  return ref == nullptr || remembered_log_.get(*ref).at_ms + kRememberMs <= std::max(now, now_);
}

Outcome Domain::ledger_full_outcome() {
  return Outcome::error(Code::unavailable,
                        "the ledger is full of open holds: no more commands are accepted");
}

ledger::SubmitResult Domain::submit_transfers(std::span<const ledger::Transfer> set, Ms now) {
  // A command that makes more transfers than the room left (a sweep of many resting orders)
  // compacts first: what the command made so far is either still open or in the ledger's
  // record of what it made (the engine persists that).
  // If nothing can be retired (open holds and what settlements list fill it), the ledger
  // grows past its capacity (ledger::Limits::grow): what reaches here is never refused midway.
  if (retire_ledger_ && ledger_.live_log().size() + set.size() > ledger_.limits().transfers_max) {
    compact_ledger();
  }
  return ledger_.submit(set, now);
}

std::uint64_t Domain::next_transfer_id(Ctx& c) {
  // Deterministic: the command's number and a sub-id within it (replay makes the same ids).
  const std::uint64_t id = (command_n_ << 16) | (++c.seq_transfer);
  IPX_ASSERT(c.seq_transfer < (1u << 16) && id <= ledger::kIdMax);
  return id;
}

std::uint64_t Domain::ensure_account(std::uint64_t id, std::uint32_t ledger_id,
                                     std::uint16_t code, std::uint16_t flags,
                                     std::uint64_t owner) {
  if (ledger_.find_account(id) == nullptr) {
    ledger::Account a;
    a.id = id;
    a.ledger = ledger_id;
    a.code = code;
    a.flags = flags;
    a.owner = owner;
    const auto ec = ledger_.create_account(a);
    IPX_ASSERT(ec == ledger::errc::ok);
  }
  return id;
}

std::uint64_t Domain::cash_account(const Participant& p) {
  return ensure_account(ids::cash(p.num), ledger::kLedgerCny, ids::code_cash,
                        ledger::account_flags::debits_must_not_exceed_credits, p.num);
}

std::uint64_t Domain::escrow_account(const Auction& a) {
  return ensure_account(ids::escrow(a.num), ledger::kLedgerCny, ids::code_escrow, 0, a.num);
}

std::uint64_t Domain::title_account(const Participant& p, const Asset& a) {
  titles_held_[p.num].insert(a.id);
  return ensure_account(ids::title(p.num, a.num), ledger::kLedgerTitles, ids::code_title,
                        ledger::account_flags::debits_must_not_exceed_credits, p.num);
}

std::uint64_t Domain::units_account(const Participant& p, const Market& m) {
  units_held_[p.num].insert(m.id);
  return ensure_account(ids::units(p.num, m.num), ledger::ledger_for_market(
                                                      static_cast<std::uint32_t>(m.num)),
                        ids::code_units, ledger::account_flags::debits_must_not_exceed_credits,
                        p.num);
}

void Domain::push_private(Ctx& c, const std::string& participant_id, const std::string& type,
                          json::object data) {
  if (quiet()) return;  // private channels drive no timer
  c.pushes.push_back({"private." + participant_id, type, c.now, std::move(data)});
}

void Domain::push_private_text(Ctx& c, const std::string& participant_id, const char* type,
                               std::string data_text) {
  if (quiet()) return;
  c.pushes.emplace_back("private." + participant_id, type, c.now, json::object{}).data_text =
      std::move(data_text);
}

void Domain::push_balance(Ctx& c, const std::string& participant_id) {
  if (replaying_ || !observed_) return;
  if (!snapshots_per_command_) {
    // Batched (the Engine): one push per participant per batch, built in flush_balances(),
    // stamped with the engine time of the participant's last change in the batch (a timer's
    // due time, not the time a time.advance reached).
    if (balances_due_set_.insert(participant_id).second) balances_due_.push_back(participant_id);
    balance_changed_at_[participant_id] = c.now;
    return;
  }
  const Participant* p = participant(participant_id);
  if (p != nullptr) push_private(c, participant_id, "balance", account_json(*p));
}

void Domain::flush_balances(std::vector<Push>& pushes) {
  for (const auto& id : balances_due_) {
    const Participant* p = participant(id);
    const auto at = balance_changed_at_.find(id);
    const std::int64_t ts = at != balance_changed_at_.end() ? at->second : now_;
    if (p != nullptr) pushes.push_back({"private." + id, "balance", ts, account_json(*p)});
  }
  balances_due_.clear();
  balances_due_set_.clear();
  balance_changed_at_.clear();
}

}  // namespace ipx::engine

namespace ipx::engine {

std::optional<std::int64_t> Domain::next_due() const {
  std::optional<std::int64_t> due;
  auto take = [&](std::int64_t t) {
    if (!due || t < *due) due = t;
  };
  if (!auction_due_.empty()) take(auction_due_.begin()->first);
  if (!payment_due_.empty()) take(payment_due_.begin()->first);
  for (const auto& [id, m] : markets_) {
    if (auto d = m.book->next_expiry()) take(d->v);
  }
  if (auto d = next_case_due()) take(*d);
  return due;
}

void Domain::reindex_from(const std::vector<Push>& pushes, std::size_t first) {
  for (std::size_t i = first; i < pushes.size(); ++i) {
    const std::string& ch = pushes[i].channel;
    if (ch.compare(0, 8, "auction.") == 0) reindex_auction(ch.substr(8));
  }
}

void Domain::reindex_auction(const std::string& id) {
  if (auto old = auction_due_of_.find(id); old != auction_due_of_.end()) {
    auction_due_.erase({old->second, id});
    auction_due_of_.erase(old);
  }
  auto a = auctions_.find(id);
  if (a == auctions_.end()) return;
  if (auto d = a->second.mech->next_due()) {
    auction_due_.emplace(d->v, id);
    auction_due_of_[id] = d->v;
  }
}

}  // namespace ipx::engine

namespace ipx::engine {

namespace {
bool territories_overlap(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (const auto& x : a) {
    for (const auto& y : b) {
      if (x == y || x == "cn" || y == "cn") return true;
    }
  }
  return false;
}
}  // namespace

Outcome Domain::check_licence_shape(const Licence& l) {
  if (l.kind != "exclusive" && l.kind != "sole" && l.kind != "non_exclusive") {
    return Outcome::error(Code::bad_request, "licence.kind: must be exclusive, sole or non_exclusive");
  }
  if (l.territory.empty()) return Outcome::error(Code::bad_request, "licence.territory: must not be empty");
  for (const auto& t : l.territory) {
    if (!valid_region(t)) return Outcome::error(Code::bad_request, "licence.territory: bad region " + t);
  }
  if (l.term_months > 1200) return Outcome::error(Code::bad_request, "licence.term_months: at most 1200");
  return Outcome::success({});
}

// Rule 15: no term past the patent's expiry; no exclusive/sole licence under an open licence
// or overlapping a confirmed exclusive/sole licence (territory, field, term).
Outcome Domain::check_licence(const Asset& a, const Licence& l, std::int64_t now) const {
  if (Outcome o = check_licence_term(a, l, now); !o.ok()) return o;
  if (l.kind == "non_exclusive") return Outcome::success({});
  if (a.open_licence) {
    return Outcome::error(Code::invalid_state, "an open-licensed patent takes no exclusive or sole licence");
  }
  return check_licence_overlap(a, l, now);
}

// Rule 15's term alone: a licence running from `from_ms` for its term ends by the expiry.
Outcome Domain::check_licence_term(const Asset& a, const Licence& l, std::int64_t from_ms) {
  if (licence_end(from_ms, l) > a.expires_at) {
    return Outcome::error(Code::invalid_state,
                          "licence term runs past the expiry of " + a.id + " (rule 15)");
  }
  return Outcome::success({});
}

// Rule 15's overlap alone, for an exclusive or sole licence running from `from_ms` for its term.
Outcome Domain::check_licence_overlap(const Asset& a, const Licence& l, std::int64_t from_ms) const {
  const std::int64_t to_ms = licence_end(from_ms, l);
  for (const auto& x : a.licences) {
    const bool field = x.field == l.field || x.field == "all" || l.field == "all";
    const bool term = from_ms < x.to_ms && x.from_ms < to_ms;
    if ((x.kind == "exclusive" || x.kind == "sole") && field && term &&
        territories_overlap(x.territory, l.territory)) {
      return Outcome::error(Code::invalid_state,
                            "overlaps a confirmed " + x.kind + " licence of " + a.id + " (rule 15)");
    }
  }
  return Outcome::success({});
}

}  // namespace ipx::engine
