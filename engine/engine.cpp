#include "engine/engine.hpp"

#include <pthread.h>
#include <openssl/rand.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "matching/assert.hpp"

namespace ipx::engine {

namespace {

constexpr std::int64_t kAdvanceMaxMs = 100LL * 365 * 86'400'000;  // time.advance: 100 years
// Live orders Domain::precapture encodes per slice of idle time (~300 ns each, ~40 us a
// slice): a command that arrives meanwhile waits at most one slice.
constexpr std::size_t kPrecaptureSlice = 128;

std::int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  IPX_ASSERT(RAND_bytes(buf.data(), static_cast<int>(buf.size())) == 1);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes * 2);
  for (unsigned char b : buf) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

// Randomness is drawn here, before the command is applied and journaled, so that replay
// applies exactly the same values.
void fill_random(Command& c) {
  if (auto* p = std::get_if<ParticipantCreate>(&c.params)) {
    if (!p->api_key) {
      p->api_key = "k" + random_hex(12);
      c.generated.emplace_back("api_key");
    }
    if (!p->api_secret) {
      p->api_secret = random_hex(24);
      c.generated.emplace_back("api_secret");
    }
  }
}

}  // namespace

// The same bytes as json::serialize(json::object{{"a", ...}, {"r", ...}, {"p", ...}}), built
// without the intermediate object.
// A command with generated fields also carries "g": [names], after "p".
Record encode_record(const Command& c, std::int64_t seq, std::int64_t ts_ms,
                     std::string_view params_json) {
  Record r{seq, ts_ms, static_cast<std::int32_t>(c.method), {}};
  std::string& out = r.payload;
  out.reserve(128 + c.actor.size() + c.request_id.size() + params_json.size());
  out += "{\"a\":";
  codec::append_string(out, c.actor);
  if (!c.request_id.empty()) {
    out += ",\"r\":";
    codec::append_string(out, c.request_id);
  }
  out += ",\"p\":";
  if (params_json.empty()) {
    method_info(c.method).encode_text(c.params, out);
  } else {
    out += params_json;
  }
  if (!c.invalid.empty()) {
    out += ",\"x\":";
    codec::append_string(out, c.invalid);
  }
  if (!c.generated.empty()) {
    out += ",\"g\":[";
    for (std::size_t i = 0; i < c.generated.size(); ++i) {
      if (i > 0) out += ',';
      codec::append_string(out, c.generated[i]);
    }
    out += ']';
  }
  out += '}';
  return r;
}

std::string sent_params(const Command& c) {
  json::object o = method_info(c.method).encode(c.params);
  for (const auto& g : c.generated) o.erase(g);
  return json::serialize(o);
}

bool decode_record(const Record& r, Command& out, std::string& error) {
  if (r.kind < 1 || r.kind > static_cast<std::int32_t>(Method::tick)) {
    error = "unknown method " + std::to_string(r.kind);
    return false;
  }
  out.method = static_cast<Method>(r.kind);
  // One parser per thread, its temporary storage reused; the value lives in a monotonic
  // arena (one or two blocks) and dies with this call: the params are copied out below.
  thread_local json::parser parser;
  unsigned char arena[4096];
  json::monotonic_resource mr(arena, sizeof arena);
  parser.reset(json::storage_ptr(&mr));
  struct Detach {  // the parser keeps no pointer to the arena past this call
    json::parser& p;
    ~Detach() { p.reset(); }
  } detach{parser};
  boost::system::error_code ec;
  parser.write(r.payload.data(), r.payload.size(), ec);
  if (ec) {
    error = "payload is not a JSON object";
    return false;
  }
  json::value v = parser.release();
  if (!v.is_object()) {
    error = "payload is not a JSON object";
    return false;
  }
  const json::object& o = v.get_object();
  const json::value* a = o.if_contains("a");
  const json::value* p = o.if_contains("p");
  if (a == nullptr || !a->is_string() || p == nullptr || !p->is_object()) {
    error = "payload lacks actor or params";
    return false;
  }
  out.actor = std::string(a->get_string());
  const json::value* rid = o.if_contains("r");
  out.request_id = rid && rid->is_string() ? std::string(rid->get_string()) : std::string();
  out.generated.clear();
  if (const json::value* g = o.if_contains("g"); g != nullptr) {
    if (!g->is_array()) {
      error = "payload: g is not a list";
      return false;
    }
    for (const auto& name : g->get_array()) {
      if (!name.is_string()) {
        error = "payload: g holds a non-string";
        return false;
      }
      out.generated.emplace_back(name.get_string());
    }
  }
  out.invalid.clear();
  out.invalid_params.clear();
  if (const json::value* x = o.if_contains("x"); x != nullptr) {
    if (!x->is_string()) {
      error = "payload: x is not a string";
      return false;
    }
    out.invalid = std::string(x->get_string());
    out.invalid_params = json::serialize(*p);
    return true;
  }
  codec::ParseError pe;
  if (!method_info(out.method).parse(p->get_object(), out.params, pe)) {
    error = "params: " + pe.text();
    return false;
  }
  return true;
}

namespace {
ledger::Limits engine_ledger_limits(const EngineOptions& o) {
  ledger::Limits l = Domain::kEngineLedgerLimits;
  if (o.ledger_transfers_max != 0) l.transfers_max = o.ledger_transfers_max;
  return l;
}
}  // namespace

Engine::Engine(EngineOptions options, Durability* durability, Publisher* publisher)
    : options_(options),
      durability_(durability),
      publisher_(publisher),
      domain_(engine_ledger_limits(options)) {
  domain_.set_retire_ledger(options.retire_ledger);
  // Pushes are built only when a publisher can see them; their channel snapshots once per
  // batch (apply_batch), not once per command.
  domain_.set_observed(publisher_ != nullptr);
  domain_.set_snapshots_per_command(false);
}

Engine::~Engine() { stop(); }

// Each channel's state after the batch rides on the batch's first push on that channel (the
// others carry null: the gateway keeps the last snapshot it got). A subscriber that arrives
// while the batch is being published gets that state with the seq of a push at or before it,
// then the channel's later pushes (absolute states: book levels, orders, balances); one that
// subscribes after its reply sees its command's effects. Built once per channel per batch,
// and only when a publisher exists.
void Engine::attach_snapshots(std::vector<Push>& pushes) const {
  if (publisher_ == nullptr || pushes.empty()) return;
  std::unordered_map<std::string_view, std::size_t> first;  // channel -> first push index
  first.reserve(pushes.size());
  for (std::size_t i = 0; i < pushes.size(); ++i) first.try_emplace(pushes[i].channel, i);
  for (const auto& [channel, i] : first) {
    pushes[i].snapshot = domain_.channel_snapshot(pushes[i].channel);
  }
}

bool decode_for_replay(const Record& r, Replayed& out, std::string& error) {
  out.seq = r.seq;
  out.ts_ms = r.ts_ms;
  out.sent.clear();
  Command& c = out.command;
  if (!decode_record(r, c, error)) return false;
  // The params as sent: the journal's own "p" text when the engine drew nothing into them
  // (the same bytes encode_record wrote from the same encoding).
  if (!c.invalid.empty()) {
    out.sent = c.invalid_params;
  } else if (!c.request_id.empty()) {
    const std::string_view payload = r.payload;
    const auto at = payload.find(",\"p\":");
    if (c.generated.empty() && at != std::string_view::npos && payload.ends_with("}}")) {
      out.sent = payload.substr(at + 5, payload.size() - at - 6);
    } else {
      out.sent = sent_params(c);
    }
  }
  return true;
}

bool Engine::replay(const Record& r, std::string& error) {
  Replayed x;
  return decode_for_replay(r, x, error) && apply_replayed(x, error);
}

bool Engine::apply_replayed(Replayed& r, std::string& error) {
  if (r.seq != seq_ + 1) {
    error = "journal gap: expected seq " + std::to_string(seq_ + 1);
    return false;
  }
  if (r.ts_ms < domain_.now()) {
    error = "journal time goes backwards at seq " + std::to_string(r.seq);
    return false;
  }
  std::vector<Push> pushes;
  domain_.set_replaying(true);
  Command& c = r.command;
  // A journal holds no refusal for a full ledger (apply_batch refuses before the journal),
  // so a replay asks nothing (Domain::apply skips it): under a smaller capacity its ledger
  // grows instead.
  domain_.apply(c.method, c.actor, c.request_id, c.params, r.ts_ms, pushes, r.sent,
                c.invalid.empty() ? nullptr : &c.invalid);
  seq_ = r.seq;
  return true;
}

bool Engine::restore(std::int64_t seq, std::string_view state, std::uint64_t state_hash,
                     std::string& error) {
  IPX_ASSERT(!thread_.joinable());
  if (seq_ != 0 || seq <= 0) {
    error = "a snapshot is restored into a fresh engine only";
    return false;
  }
  if (!domain_.load(state, error, state_hash)) return false;
  seq_ = seq;
  return true;
}

void Engine::start() {
  IPX_ASSERT(!thread_.joinable());
  domain_.set_replaying(false);
  domain_.ledger().record_made(durability_ != nullptr);  // each batch's ledger rows
  ledger_transfers_.store(domain_.ledger().live_log().size(), std::memory_order_relaxed);
  ledger_retired_.store(domain_.ledger().retired_count(), std::memory_order_relaxed);
  // A manual clock starts where it was told only on an empty journal; after a replay it
  // continues from the journal's last time.
  if (options_.manual_clock && seq_ == 0) {
    domain_.set_now(options_.manual_start_ms > 0 ? options_.manual_start_ms : wall_ms());
  }
  if (publisher_ != nullptr) {
    publisher_->clock(domain_.now(), options_.manual_clock);
    publisher_->credentials(domain_.credentials());
    for (const auto& channel : domain_.channels()) {
      publisher_->seed(channel, domain_.channel_snapshot(channel));
    }
  }
  domain_.take_new_credentials();
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ipx-engine");
    run();
  });
}

void Engine::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Engine::accepting() const { return durability_ == nullptr || durability_->available(); }

bool Engine::submit(Command&& c) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= options_.queue_max) return false;
    queue_.push_back(std::move(c));
  }
  cv_.notify_one();
  return true;
}

std::int64_t Engine::clock_now() const {
  if (options_.manual_clock) return domain_.now();
  return std::max(domain_.now(), wall_ms());
}

void Engine::run() {
  std::vector<Command> batch;
  batch.reserve(options_.batch_max);
  std::deque<Command> taken;
  bool unencoded = true;  // the domain may have work for idle time (Domain::precapture)
  for (;;) {
    {
      std::unique_lock lock(mu_);
      // Idle: the next snapshot's encoding, a slice at a time, while no command waits.
      while (unencoded && queue_.empty() && !stopping_) {
        lock.unlock();
        unencoded = domain_.precapture(kPrecaptureSlice);
        lock.lock();
      }
      auto due = domain_.next_due();
      auto ready = [&] { return stopping_ || !queue_.empty(); };
      if (!options_.manual_clock && due) {
        const auto wait_ms = std::max<std::int64_t>(0, *due - wall_ms());
        cv_.wait_for(lock, std::chrono::milliseconds(std::min<std::int64_t>(wait_ms, 1000)),
                     ready);
      } else {
        cv_.wait_for(lock, std::chrono::milliseconds(1000), ready);
      }
      if (stopping_ && queue_.empty()) return;
      if (queue_.size() <= options_.batch_max) {
        taken.swap(queue_);  // O(1) under the lock; the commands move out below, unlocked
      } else {
        for (std::size_t i = 0; i < options_.batch_max; ++i) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
    }
    for (Command& c : taken) batch.push_back(std::move(c));
    taken.clear();
    // A due timer becomes a journaled tick, applied ahead of the batch.
    auto due = domain_.next_due();
    if (!options_.manual_clock && due && *due <= clock_now() && accepting()) {
      Command tick;
      tick.method = Method::tick;
      tick.params = Tick{};
      batch.insert(batch.begin(), std::move(tick));
    }
    if (!batch.empty()) {
      apply_batch(batch);
      unencoded = true;
    }
    batch.clear();
  }
}

void Engine::apply_batch(std::vector<Command>& batch) {
  struct Done {
    std::function<void(const Outcome&)> done;
    Outcome outcome;
  };
  auto dones = std::make_shared<std::vector<Done>>();
  auto pushes = std::make_shared<std::vector<Push>>();
  std::vector<Record> records;
  dones->reserve(batch.size());
  // Asked once, before the batch's first change is applied (Durability::probe).
  std::optional<bool> up;
  const std::size_t accounts_before = domain_.ledger().accounts().size();
  for (Command& c : batch) {
    const MethodInfo& info = method_info(c.method);
    if (info.mutating && !up) up = durability_ == nullptr || durability_->probe();
    if (info.mutating && !*up) {
      if (c.done) c.done(Outcome::error(Code::unavailable, "journal unavailable; retry later"));
      continue;
    }
    // PROTOCOL "Time": time.advance is refused unless the server runs a manual clock (with
    // the real clock, engine time would run ahead of the wall clock for good).
    if (c.method == Method::time_advance && !options_.manual_clock) {
      if (c.done) {
        dones->push_back({std::move(c.done),
                          Outcome::error(Code::invalid_state,
                                         "time.advance needs a server started with --manual-clock")});
      }
      continue;
    }
    // Engine time must never overflow: an advance is at most 100 years (the codec has
    // already refused ms <= 0).
    if (auto* adv = std::get_if<TimeAdvance>(&c.params); adv != nullptr && adv->ms > kAdvanceMaxMs) {
      if (c.done) {
        dones->push_back({std::move(c.done),
                          Outcome::error(Code::bad_request,
                                         "ms: at most " + std::to_string(kAdvanceMaxMs))});
      }
      continue;
    }
    const std::int64_t now = clock_now();
    // Near the ledger's capacity (open holds fill it), refused before the journal: a
    // refusal that depends on the capacity is not journaled, so a replay under any capacity
    // reaches the same state.
    if (info.mutating && !domain_.admit(c.method, c.actor, c.request_id, !c.invalid.empty(), now)) {
      if (c.done) dones->push_back({std::move(c.done), Domain::ledger_full_outcome()});
      continue;
    }
    // The params as sent, encoded once: the idempotency check compares them, and (unless the
    // engine fills some in) they are the journal's params.
    std::string sent;
    if (!c.invalid.empty()) {
      sent = c.invalid_params;
    } else if (info.mutating) {
      info.encode_text(c.params, sent);
      fill_random(c);
    }
    Outcome out = domain_.apply(c.method, c.actor, c.request_id, c.params, now, *pushes, sent,
                                c.invalid.empty() ? nullptr : &c.invalid);
    if (c.method == Method::time_now && out.ok()) out.result["wall"] = wall_ms();
    if (info.mutating) {
      records.push_back(encode_record(c, ++seq_, now, c.generated.empty() ? std::string_view(sent) : std::string_view()));
    }
    if (c.done) dones->push_back({std::move(c.done), std::move(out)});
  }
  domain_.flush_balances(*pushes);
  attach_snapshots(*pushes);
  const std::size_t held = domain_.ledger().live_log().size();
  ledger_transfers_.store(held, std::memory_order_relaxed);
  ledger_retired_.store(domain_.ledger().retired_count(), std::memory_order_relaxed);
  if (const std::size_t max = domain_.ledger().limits().transfers_max;
      !ledger_warned_ && held >= max / 4 * 3) {
    // Compaction keeps the live log under half its capacity; past 3/4, what it must keep
    // (open holds, the transfers settlements list) is filling it.
    ledger_warned_ = true;  // once per process: the operator's cue (and /metrics)
    std::fprintf(stderr,
                 "ipx: warning: the ledger's live log holds %zu of its %zu transfers; "
                 "state-changing commands are refused (UNAVAILABLE) from %zu on\n",
                 held, max, max - max / 16);
  }
#ifdef IPX_DEBUG_INVARIANTS
  // Debug and test builds: every ledger sums to zero, every pending is resolved at most once,
  // balances agree with the transfers (settlement issue) — after every batch.
  if (auto broken = domain_.ledger().check_invariants(false)) {
    std::fprintf(stderr, "ipx: ledger invariant broken after a batch: %s\n", broken->c_str());
    IPX_ASSERT(false && "ledger invariant");
  }
#endif
  auto credentials = std::make_shared<std::vector<Credential>>(domain_.take_new_credentials());
  const std::int64_t manual_now = options_.manual_clock ? domain_.now() : 0;
  auto deliver = [this, dones, pushes, credentials, manual_now] {
    if (publisher_ != nullptr && manual_now > 0) publisher_->clock(manual_now, true);
    if (publisher_ != nullptr && !credentials->empty()) publisher_->credentials(*credentials);
    // Pushes (and the channel snapshots they carry) go out before the replies: a client that
    // subscribes after its reply gets a snapshot that already shows the command's effects.
    if (publisher_ != nullptr) {
      for (auto& p : *pushes) publisher_->publish(p);
    }
    for (auto& d : *dones) d.done(d.outcome);
  };
  if (durability_ == nullptr || records.empty()) {
    // Reads (and an in-memory engine in tests) still go out in order behind earlier writes.
    if (durability_ != nullptr) {
      durability_->submit({}, std::move(deliver));
    } else {
      deliver();
    }
    return;
  }
  const auto accounts = domain_.ledger().accounts().subspan(accounts_before);
  // Every transfer the batch made, whether or not a compaction has retired it since.
  std::vector<ledger::Transfer> transfers = domain_.ledger().take_made();
  if (!accounts.empty() || !transfers.empty()) {
    durability_->ledger_rows({accounts.begin(), accounts.end()}, std::move(transfers));
  }
  durability_->submit(std::move(records), std::move(deliver));
}

}  // namespace ipx::engine
