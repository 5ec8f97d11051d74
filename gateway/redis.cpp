#include "gateway/redis.hpp"

#include <pthread.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <cstdio>
#include <sys/time.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "gateway/hub.hpp"
#include "gateway/metrics.hpp"
#include "matching/assert.hpp"

namespace ipx::gateway {

namespace json = boost::json;

namespace {

constexpr std::size_t reply_depth_max = 8;  // XREAD replies nest 4 deep

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

// Bounded depth (reply_depth_max), so the recursion is bounded too.
RedisValue convert(const redisReply* r, std::size_t depth) {
  IPX_ASSERT(depth < reply_depth_max);
  RedisValue v;
  switch (r->type) {
    case REDIS_REPLY_STRING: v.kind = RedisValue::Kind::string; v.str.assign(r->str, r->len); break;
    case REDIS_REPLY_STATUS: v.kind = RedisValue::Kind::status; v.str.assign(r->str, r->len); break;
    case REDIS_REPLY_ERROR: v.kind = RedisValue::Kind::error; v.str.assign(r->str, r->len); break;
    case REDIS_REPLY_INTEGER: v.kind = RedisValue::Kind::integer; v.integer = r->integer; break;
    case REDIS_REPLY_ARRAY:
      v.kind = RedisValue::Kind::array;
      v.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) v.elements.push_back(convert(r->element[i], depth + 1));
      break;
    default: v.kind = RedisValue::Kind::nil; break;
  }
  return v;
}

std::uint64_t seq_of_id(const std::string& id) {  // "<seq>-0"
  try {
    return std::stoull(id.substr(0, id.find('-')));
  } catch (const std::exception&) {
    return 0;
  }
}

void log(const std::string& what) { std::fprintf(stderr, "ipx redis: %s\n", what.c_str()); }

}  // namespace

bool parse_redis_address(const std::string& host_port, RedisOptions& options) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  try {
    std::size_t used = 0;
    const std::string p = host_port.substr(colon + 1);
    const long port = std::stol(p, &used);
    if (used != p.size() || port <= 0 || port > 65535) return false;
    options.host = host_port.substr(0, colon);
    options.port = static_cast<std::uint16_t>(port);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// ---------------------------------------------------------------------------------------
// RedisConn

RedisConn::RedisConn(const RedisOptions& options, Gauge* up)
    : options_(options), up_(up), backoff_(options.backoff_min) {}

RedisConn::~RedisConn() { drop(); }

void RedisConn::drop() {
  if (ctx_ != nullptr) {
    redisFree(ctx_);
    ctx_ = nullptr;
    if (up_ != nullptr) up_->set(0);
  }
}

bool RedisConn::ensure(const std::atomic<bool>& stop) {
  if (ctx_ != nullptr) return true;
  redisContext* c = redisConnectWithTimeout(options_.host.c_str(), options_.port,
                                            to_timeval(options_.connect_timeout));
  if (c != nullptr && c->err == 0 && redisSetTimeout(c, to_timeval(options_.command_timeout)) == REDIS_OK) {
    ctx_ = c;
    fresh_ = true;
    backoff_ = options_.backoff_min;
    if (up_ != nullptr) up_->set(1);
    return true;
  }
  if (c != nullptr) redisFree(c);
  // Sleep the backoff in small steps so stop() is prompt.
  const auto until = std::chrono::steady_clock::now() + backoff_;
  while (!stop.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  backoff_ = std::min(backoff_ * 2, options_.backoff_max);
  return false;
}

bool RedisConn::run(const std::vector<std::vector<std::string>>& commands,
                    std::vector<RedisValue>& replies) {
  replies.clear();
  if (ctx_ == nullptr) return false;
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& cmd : commands) {
    argv.clear();
    lens.clear();
    for (const auto& a : cmd) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()) != REDIS_OK) {
      drop();
      return false;
    }
  }
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
      drop();
      return false;
    }
    replies.push_back(convert(static_cast<redisReply*>(raw), 0));
    freeReplyObject(raw);
  }
  IPX_ASSERT(replies.size() == commands.size());
  return true;
}

// ---------------------------------------------------------------------------------------
// RedisPublisher

RedisPublisher::RedisPublisher(RedisOptions options, Gauge* up, Counter* dropped)
    : options_(std::move(options)), up_(up), dropped_(dropped) {}

RedisPublisher::~RedisPublisher() { stop(); }

void RedisPublisher::start() {
  IPX_ASSERT(!thread_.joinable());
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ipx-redis-pub");
    loop();
  });
}

void RedisPublisher::stop() {
  stop_.store(true);
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RedisPublisher::public_snapshot(const std::string& channel, std::uint64_t seq,
                                     SharedSnapshot data) {
  IPX_ASSERT(data != nullptr);
  std::lock_guard lock(mu_);
  latest_[channel] = {seq, data};
  if (seq == 0) {  // a channel with no push yet: its snapshot alone
    queue_.push_back(Item{channel, 0, {}, data, 0});
    cv_.notify_one();
    return;
  }
  pending_channel_ = channel;
  pending_seq_ = seq;
  pending_snapshot_ = data;
}

void RedisPublisher::public_push(const std::string& channel, const Frame& frame,
                                 std::int64_t ts_ms) {
  IPX_ASSERT(frame != nullptr);
  std::lock_guard lock(mu_);
  IPX_ASSERT(pending_channel_ == channel && pending_seq_ > 0);
  if (queue_.size() >= options_.queue_items_max) {
    if (dropped_ != nullptr) dropped_->inc();  // edges see the gap and reload the snapshot
  } else {
    queue_.push_back(Item{channel, pending_seq_, frame, std::move(pending_snapshot_), ts_ms});
  }
  pending_channel_.clear();
  pending_seq_ = 0;
  pending_snapshot_ = nullptr;
  cv_.notify_one();
}

void RedisPublisher::credential(const std::string& key, const Credential& c) {
  json::object o{{"participant_id", c.participant_id}, {"kind", c.kind}, {"secret", c.secret}};
  std::lock_guard lock(mu_);
  creds_[key] = json::serialize(o);
  dirty_creds_.insert(key);
  cv_.notify_one();
}

void RedisPublisher::clock(std::int64_t now_ms, bool manual) {
  std::lock_guard lock(mu_);
  clock_ = json::serialize(json::object{{"now", now_ms}, {"manual", manual}});
  clock_dirty_ = true;
  cv_.notify_one();
}

std::vector<std::vector<std::string>> RedisPublisher::commands_for(
    std::deque<Item>& batch, std::map<std::string, std::string>& creds,
    std::map<std::string, SharedSnapshot>& written) {
  const std::string& p = options_.prefix;
  // Each distinct snapshot is serialised once per round trip. Most pushes of a batch leave
  // their channel's snapshot as it was (the engine builds one per channel per batch), so
  // their entries carry no "s": the edge keeps the one it has (docs/gateway.md "Redis").
  std::map<const json::value*, std::string> text;
  auto text_of = [&](const SharedSnapshot& s) -> const std::string& {
    auto [it, fresh] = text.try_emplace(s.get());
    if (fresh) append_json(it->second, *s);
    return it->second;
  };
  std::vector<std::vector<std::string>> cmds;
  const std::string len_max = std::to_string(options_.stream_len_max);
  for (const auto& it : batch) {
    if (!it.frame) continue;
    const std::string id = std::to_string(it.seq) + "-0";
    std::vector<std::string> cmd{"XADD", p + "ch:" + it.channel, "MAXLEN", "~", len_max, id, "f",
                                 *it.frame};
    SharedSnapshot& last = written[it.channel];
    if (last != it.snapshot) {
      cmd.push_back("s");
      cmd.push_back(text_of(it.snapshot));
      last = it.snapshot;
    }
    cmds.push_back(std::move(cmd));
  }
  // Then each channel's newest snapshot in the batch, so ipx:snap never runs ahead of its
  // stream for longer than one round trip.
  std::map<std::string, std::pair<std::uint64_t, std::string>> snaps;
  for (auto rit = batch.rbegin(); rit != batch.rend(); ++rit) {
    if (snaps.contains(rit->channel)) continue;
    // With the push's ts: an edge's snapshot push carries the engine time of its seq.
    std::string s = "{\"seq\":" + std::to_string(rit->seq);
    if (rit->ts_ms != 0) s += ",\"ts\":" + std::to_string(rit->ts_ms);
    s += ",\"data\":";
    s += text_of(rit->snapshot);
    s += '}';
    snaps[rit->channel] = {rit->seq, std::move(s)};
  }
  for (const auto& [channel, s] : snaps) {
    cmds.push_back({"SET", p + "snap:" + channel, s.second});
    cmds.push_back({"SADD", p + "channels", channel});
  }
  for (const auto& [key, value] : creds) {
    cmds.push_back({"SET", p + "cred:" + key, value});
    cmds.push_back({"SADD", p + "cred:keys", key});
  }
  if (!creds.empty()) cmds.push_back({"INCR", p + "cred:version"});
  return cmds;
}

void RedisPublisher::loop() {
  RedisConn conn(options_, up_);
  bool first = true;
  std::deque<Item> inflight;  // sent but not known written: sent again after a reconnect
  std::map<std::string, SharedSnapshot> written;  // see commands_for
  std::vector<RedisValue> replies;
  while (!stop_.load()) {
    if (!conn.ensure(stop_)) continue;
    if (conn.fresh()) {
      if (first) {
        // A new run of the main ipxd: its seq numbers start again, so the previous run's
        // streams go, and the epoch tells edges to start again too.
        std::vector<std::vector<std::string>> c{{"SMEMBERS", options_.prefix + "channels"}};
        if (!conn.run(c, replies)) continue;
        std::vector<std::vector<std::string>> del;
        for (const auto& ch : replies[0].elements) {
          del.push_back({"DEL", options_.prefix + "ch:" + ch.str, options_.prefix + "snap:" + ch.str});
        }
        del.push_back({"DEL", options_.prefix + "channels"});
        del.push_back({"INCR", options_.prefix + "epoch"});
        if (!conn.run(del, replies)) continue;
        first = false;
      }
      log("connected to " + options_.host + ":" + std::to_string(options_.port));
      std::lock_guard lock(mu_);
      resend_all_ = true;
    }
    std::deque<Item> batch;
    std::map<std::string, std::string> creds;
    std::string clock;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, options_.idle_ping, [&] {
        return stop_.load() || !queue_.empty() || !dirty_creds_.empty() || resend_all_ ||
               !inflight.empty() || clock_dirty_;
      });
      if (clock_dirty_ || resend_all_) clock = clock_;
      clock_dirty_ = false;
      if (resend_all_) {
        // A fresh Redis may have lost everything: every channel's latest snapshot and every
        // credential again (the stream entries still queued follow, each channel's first
        // with its "s" again).
        written.clear();
        for (const auto& [ch, s] : latest_) batch.push_back(Item{ch, s.first, {}, s.second});
        creds = creds_;
        resend_all_ = false;
      } else {
        for (const auto& k : dirty_creds_) creds[k] = creds_[k];
      }
      dirty_creds_.clear();
      while (inflight.size() < options_.batch_items_max && !queue_.empty()) {
        inflight.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    for (const auto& it : inflight) batch.push_back(it);
    auto cmds = commands_for(batch, creds, written);
    if (!clock.empty()) cmds.push_back({"SET", options_.prefix + "clock", clock});
    if (cmds.empty()) cmds.push_back({"PING"});
    if (!conn.run(cmds, replies)) {
      log("disconnected; retrying with backoff");
      std::lock_guard lock(mu_);
      for (const auto& [k, v] : creds) dirty_creds_.insert(k);
      if (!clock.empty()) clock_dirty_ = true;
      continue;
    }
    for (std::size_t i = 0; i < replies.size(); ++i) {
      // An XADD of an id already in the stream (sent again after a reconnect) is harmless.
      if (replies[i].kind == RedisValue::Kind::error &&
          replies[i].str.find("equal or smaller") == std::string::npos) {
        log("command failed: " + replies[i].str);
      }
    }
    inflight.clear();
  }
}

// ---------------------------------------------------------------------------------------
// RedisNonceStore

RedisNonceStore::RedisNonceStore(RedisOptions options, std::shared_ptr<NonceStore> memory, Gauge* up)
    : options_(std::move(options)), memory_(std::move(memory)), up_(up) {
  IPX_ASSERT(memory_ != nullptr);
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ipx-redis-nonce");
    loop();
  });
}

RedisNonceStore::~RedisNonceStore() {
  stop_.store(true);
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RedisNonceStore::record_async(std::string_view nonce, std::int64_t now_ms, Done done) {
  // The store behind answers first (at once, or from its own thread once the nonce is durable:
  // PgNonceLog), then Redis, shared with the other gateways. The store behind outlives this
  // one's callbacks (ipxd stops it first).
  memory_->record_async(
      nonce, now_ms, [this, n = std::string(nonce), done = std::move(done)](Outcome local) mutable {
        if (local != Outcome::fresh || !connected_.load()) return done(local);
        {
          std::lock_guard lock(mu_);
          if (requests_.size() < options_.nonce_batch_max * 4) {  // bounded; else memory decides
            requests_.push_back(Request{std::move(n), std::move(done)});
            done = nullptr;
          }
        }
        if (done) return done(local);
        cv_.notify_one();
      });
}

NonceStore::Outcome RedisNonceStore::record(std::string_view nonce, std::int64_t now_ms) {
  auto answer = std::make_shared<std::promise<Outcome>>();
  std::future<Outcome> future = answer->get_future();
  record_async(nonce, now_ms, [answer](Outcome o) { answer->set_value(o); });
  // A bounded wait: past it the memory store's answer stands (it was fresh, or the answer
  // would have come at once).
  if (future.wait_for(options_.nonce_wait) != std::future_status::ready) return Outcome::fresh;
  return future.get();
}

void RedisNonceStore::loop() {
  RedisConn conn(options_, up_);
  std::vector<RedisValue> replies;
  while (!stop_.load()) {
    if (!conn.ensure(stop_)) {
      connected_.store(false);
      continue;
    }
    connected_.store(true);
    std::deque<Request> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, options_.idle_ping, [&] { return stop_.load() || !requests_.empty(); });
      while (!requests_.empty() && batch.size() < options_.nonce_batch_max) {
        batch.push_back(std::move(requests_.front()));
        requests_.pop_front();
      }
    }
    std::vector<std::vector<std::string>> cmds;
    for (const auto& r : batch) {
      cmds.push_back({"SET", options_.prefix + "nonce:" + r.nonce, "1", "NX", "PX",
                      std::to_string(options_.nonce_ttl_ms)});
    }
    if (cmds.empty()) cmds.push_back({"PING"});
    if (!conn.run(cmds, replies)) {
      connected_.store(false);
      for (auto& r : batch) r.done(Outcome::fresh);  // unknown: the memory store decided
      continue;
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {  // nil: NX refused, Redis had it
      batch[i].done(replies[i].kind != RedisValue::Kind::nil ? Outcome::fresh : Outcome::replayed);
    }
  }
  connected_.store(false);
  std::deque<Request> left;
  {
    std::lock_guard lock(mu_);
    left.swap(requests_);
  }
  for (auto& r : left) r.done(Outcome::fresh);  // the memory store decided
}

// ---------------------------------------------------------------------------------------
// EdgeApp

std::optional<Credential> EdgeApp::find_key(std::string_view key) const {
  std::lock_guard lock(mu_);
  auto it = keys_.find(std::string(key));
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

void EdgeApp::handle(const Principal&, RequestCtx ctx) {
  if (ctx.method == "time.now") {
    // The edge has no engine (docs/gateway.md "The edge"). A main on the real clock: engine
    // time is the real clock, so the edge's own. A manual clock: the latest engine time the
    // edge has seen (ipx:clock, push ts), never its wall clock. Unknown before the first
    // sync: UNAVAILABLE, as /readyz says.
    const std::int64_t wall = wall_ms_ ? wall_ms_()
                                       : std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count();
    std::unique_lock lock(mu_);
    if (!clock_known_) {
      lock.unlock();
      return ctx.reply.error("UNAVAILABLE",
                             "the edge has not read the main gateway's clock yet; retry");
    }
    const std::int64_t now = clock_manual_ ? engine_ms_ : wall;
    lock.unlock();
    return ctx.reply.result(json::object{{"now", now}, {"wall", wall}});
  }
  ctx.reply.error("FORBIDDEN", "read-only edge: " + ctx.method +
                                   " is served by the main gateway; an edge serves time.now, auth.login, "
                                   "subscribe and unsubscribe (public channels)");
}

ChannelAccess EdgeApp::authorize_channel(const Principal&, std::string_view channel) {
  const std::string ch(channel);
  const auto dot = ch.find('.');
  if (ch == "private" || ch.starts_with("disposal.")) {
    return ChannelAccess::deny("FORBIDDEN", "read-only edge: " + ch + " is served by the main gateway only");
  }
  if (dot == std::string::npos || dot + 1 == ch.size()) {
    return ChannelAccess::deny("BAD_REQUEST", "channels: unknown channel " + ch);
  }
  const std::string kind = ch.substr(0, dot);
  if (kind != "auction" && kind != "book" && kind != "trades") {
    return ChannelAccess::deny("BAD_REQUEST", "channels: unknown channel " + ch);
  }
  if (!has_channel(ch)) return ChannelAccess::deny("NOT_FOUND", "no such channel " + ch);
  return ChannelAccess::allow(ch);
}

json::value EdgeApp::snapshot(std::string_view topic) {
  std::lock_guard lock(mu_);
  auto it = cache_.find(std::string(topic));
  return it == cache_.end() ? json::value(json::object{}) : it->second;
}

void EdgeApp::set_credential(const std::string& key, Credential c) {
  std::lock_guard lock(mu_);
  keys_[key] = std::move(c);
}

void EdgeApp::set_snapshot(const std::string& channel, json::value data) {
  std::lock_guard lock(mu_);
  cache_[channel] = std::move(data);
}

bool EdgeApp::has_channel(const std::string& channel) const {
  std::lock_guard lock(mu_);
  return cache_.contains(channel);
}

void EdgeApp::set_main_clock(std::int64_t now_ms, bool manual) {
  std::lock_guard lock(mu_);
  clock_known_ = true;
  clock_manual_ = manual;
  engine_ms_ = std::max(engine_ms_, now_ms);  // engine time never goes back
}

std::int64_t EdgeApp::manual_time_ms() {
  std::lock_guard lock(mu_);
  return clock_manual_ ? engine_ms_ : -1;
}

void EdgeApp::saw_engine_time(std::int64_t ts_ms) {
  std::lock_guard lock(mu_);
  engine_ms_ = std::max(engine_ms_, ts_ms);
}

HttpResponse EdgeApp::http_view(std::string_view target) const {
  return public_view(
      target, PublicViews{[this](const std::string& channel) {
                            std::lock_guard lock(mu_);
                            auto it = cache_.find(channel);
                            return it == cache_.end() ? json::value(nullptr) : it->second;
                          },
                          [this] {
                            std::vector<std::pair<std::string, json::value>> rows;
                            {
                              std::lock_guard lock(mu_);
                              for (const auto& [channel, data] : cache_) {
                                if (channel.starts_with("auction."))
                                  rows.emplace_back(channel, data);
                              }
                            }
                            std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
                              return a.first < b.first;
                            });
                            json::array out;
                            out.reserve(rows.size());
                            for (auto& [channel, data] : rows) out.push_back(std::move(data));
                            return out;
                          }});
}

// ---------------------------------------------------------------------------------------
// EdgeFollower

EdgeFollower::EdgeFollower(RedisOptions options, EdgeApp& app, Hub& hub, Gauge* up)
    : options_(std::move(options)), app_(app), hub_(hub), conn_(options_, up) {}

EdgeFollower::~EdgeFollower() { stop(); }

void EdgeFollower::start() {
  IPX_ASSERT(!thread_.joinable());
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ipx-edge-follow");
    loop();
  });
}

void EdgeFollower::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void EdgeFollower::loop() {
  while (!stop_.load()) {
    if (!conn_.ensure(stop_)) {
      app_.set_ready(false);
      continue;
    }
    if (conn_.fresh()) {
      log("edge connected to " + options_.host + ":" + std::to_string(options_.port));
      cred_version_ = -1;  // a restarted Redis counts again from 1: reload them all
    }
    if (!sync() || !read()) {
      app_.set_ready(false);
      conn_.drop();
      log("edge disconnected; catching up from the last seq after reconnecting");
      continue;
    }
    app_.set_ready(true);
  }
}

bool EdgeFollower::load(const std::string& channel, Channel& ch) {
  std::vector<RedisValue> r;
  if (!conn_.run({{"GET", options_.prefix + "snap:" + channel}}, r)) return false;
  if (r[0].kind != RedisValue::Kind::string) return true;  // not written yet: next round
  json::value v = json::parse(r[0].str);
  const std::uint64_t seq = v.at("seq").to_number<std::uint64_t>();
  // Stale (a fresh Redis not yet refilled, or written before the entries we miss): stays
  // unloaded and is asked again next round; seq never goes back.
  if (ch.seq > 0 && seq <= ch.seq) return true;
  json::value data = v.at("data");
  const std::int64_t ts = v.as_object().contains("ts") ? v.at("ts").to_number<std::int64_t>() : 0;
  hub_.reset(channel, seq, [&] { app_.set_snapshot(channel, std::move(data)); }, ts);
  ch.seq = seq;
  ch.loaded = true;
  return true;
}

bool EdgeFollower::sync() {
  const std::string& p = options_.prefix;
  std::vector<RedisValue> r;
  if (!conn_.run({{"GET", p + "epoch"},
                  {"GET", p + "cred:version"},
                  {"SMEMBERS", p + "channels"},
                  {"GET", p + "clock"}},
                 r)) {
    return false;
  }
  if (r[3].kind == RedisValue::Kind::string) {
    json::error_code ec;
    const json::value c = json::parse(r[3].str, ec);
    if (!ec && c.is_object() && c.as_object().contains("now") && c.as_object().contains("manual")) {
      app_.set_main_clock(c.at("now").to_number<std::int64_t>(), c.at("manual").as_bool());
    }
  }
  const std::string epoch = r[0].str;
  if (!epoch_.empty() && epoch != epoch_ && !epoch.empty()) {
    log("the main ipxd restarted (epoch " + epoch_ + " -> " + epoch + ")");
    if (on_epoch_change_) on_epoch_change_();
    stop_.store(true);
    return true;
  }
  if (!epoch.empty()) epoch_ = epoch;
  const long long version = r[1].kind == RedisValue::Kind::string ? std::stoll(r[1].str) : 0;
  std::vector<std::string> channels;
  for (const auto& e : r[2].elements) channels.push_back(e.str);
  if (version != cred_version_) {
    std::vector<RedisValue> keys;
    if (!conn_.run({{"SMEMBERS", p + "cred:keys"}}, keys)) return false;
    std::vector<std::vector<std::string>> gets;
    for (const auto& k : keys[0].elements) gets.push_back({"GET", p + "cred:" + k.str});
    if (!conn_.run(gets, r)) return false;
    for (std::size_t i = 0; i < gets.size(); ++i) {
      if (r[i].kind != RedisValue::Kind::string) continue;
      const json::value c = json::parse(r[i].str);
      app_.set_credential(keys[0].elements[i].str,
                          Credential{std::string(c.at("participant_id").as_string()),
                                     std::string(c.at("kind").as_string()),
                                     std::string(c.at("secret").as_string())});
    }
    cred_version_ = version;
  }
  for (const auto& c : channels) {
    if (channels_.size() >= options_.edge_channels_max && !channels_.contains(c)) break;
    Channel& ch = channels_[c];
    if (!ch.loaded && !load(c, ch)) return false;
  }
  return true;
}

bool EdgeFollower::read() {
  if (stop_.load()) return true;
  std::vector<std::string> cmd{"XREAD", "COUNT", std::to_string(options_.xread_count_max), "BLOCK",
                               std::to_string(options_.xread_block.count()), "STREAMS"};
  std::vector<std::string> names;
  for (const auto& [name, ch] : channels_) {
    if (ch.loaded) names.push_back(name);
  }
  if (names.empty()) {
    std::this_thread::sleep_for(options_.xread_block);
    return true;
  }
  for (const auto& n : names) cmd.push_back(options_.prefix + "ch:" + n);
  for (const auto& n : names) cmd.push_back(std::to_string(channels_[n].seq) + "-0");
  std::vector<RedisValue> r;
  if (!conn_.run({cmd}, r)) return false;
  if (r[0].kind != RedisValue::Kind::array) return r[0].kind == RedisValue::Kind::nil;  // nil: timeout
  const std::size_t skip = options_.prefix.size() + 3;  // "ipx:ch:"
  for (const auto& stream : r[0].elements) {
    const std::string channel = stream.elements.at(0).str.substr(skip);
    Channel& ch = channels_[channel];
    for (const auto& entry : stream.elements.at(1).elements) {
      const std::uint64_t seq = seq_of_id(entry.elements.at(0).str);
      if (seq <= ch.seq) continue;
      if (seq != ch.seq + 1) {  // trimmed or lost: start again from the snapshot
        log("gap on " + channel + " (" + std::to_string(ch.seq) + " -> " + std::to_string(seq) + "); reloading");
        ch.loaded = false;
        break;
      }
      std::string frame, snap;
      const auto& fields = entry.elements.at(1).elements;
      for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
        if (fields[i].str == "f") frame = fields[i + 1].str;
        if (fields[i].str == "s") snap = fields[i + 1].str;
      }
      const json::value f = json::parse(frame);
      app_.saw_engine_time(f.at("ts").to_number<std::int64_t>());
      // No "s": the channel's snapshot is the one it had (the main's did not change).
      std::function<void()> update;
      json::value data;
      if (!snap.empty()) {
        data = json::parse(snap);
        update = [&] { app_.set_snapshot(channel, std::move(data)); };
      }
      const std::uint64_t got =
          hub_.publish(channel, f.at("type").as_string(), f.at("ts").to_number<std::int64_t>(),
                       f.at("data"), update);
      IPX_ASSERT(got == seq);
      ch.seq = seq;
    }
  }
  return true;
}

}  // namespace ipx::gateway
