// ipx-load: the gateway's load generator (issue 5, "Load generator and benchmarks").
//
//   ipx-load orders  --url ws://127.0.0.1:PORT/v1/ws [--conns N] [--traders T] [--rate R]
//                    [--window W] [--seconds S] [--warmup S] [--depth D] [--latency-out FILE]
//       the admin creates T traders (funded), an asset, a market; each connection logs in as
//       a trader and places limit buys (below any ask, so nothing trades) and cancels its
//       oldest acknowledged order once it holds D: an order request is a place or a cancel.
//       --rate R > 0: open loop at R requests/s in total, each request with an intended send
//       time, latency measured from it (no coordinated omission). --rate 0: closed loop with W
//       requests in flight per connection (the maximum acknowledged rate). --latency-out FILE:
//       one line per request of the window, "<intended ms from the window's start> <latency us>"
//       (to see when the slow ones were sent).
//   ipx-load fanout  --url ... [--subscribers K] [--bids B] [--bid-interval-ms I]
//       K connections (one subscriber each) subscribe to one English auction; two bidders
//       alternate B bids; each push's delivery delay is measured from its bid's send time.
//   ipx-load idle    --url ... [--conns N] [--seconds S] [--server-pid P]
//       N authenticated connections held S seconds; then each must still answer time.now;
//       reports the server's VmRSS/VmHWM from /proc/P/status.
//   ipx-load echo    --url ws://HOST:PORT/ [--conns N] [--rate R] [--window W] [--seconds S]
//       the orders scenario's order.place frames sent to any WebSocket echo server; each reply
//       must be the same frame (transport baseline).
//
// Common: --key/--secret (default $IPX_ADMIN_KEY or "admin", $IPX_ADMIN_SECRET), --src-base
// 127.0.0.2 --per-addr 200 (connection i binds its socket to src-base + i/per-addr so as to
// stay under the gateway's connections per address; --src-base none: no bind),
// --connect-parallel 64. Every reply is checked; error replies, wrong results, missing
// replies and lost connections are counted as errors and reported.
// Output: human lines, then one line "RESULT scenario=... key=value ..." for scripts.
// Exit 0 when the run had no errors, 1 when it had some, 2 on usage or setup failure.
//
// Envelope sketch: 50,000 req/s over 128 connections is ~390 req/s per connection (the
// gateway's default limit is 1,000/s per connection); a reply is ~250 bytes, so the client
// parses ~12 MB/s of JSON on one thread.
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace {
using namespace std::string_view_literals;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ws = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}
std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "ipx-load: %s\n", msg.c_str());
  std::exit(2);
}

// ------------------------------------------------------------------------------ options
struct Options {
  std::string scenario, url, key, secret, src_base = "127.0.0.2", latency_out;
  std::int64_t conns = 128, traders = 16, window = 8, depth = 4, subscribers = 5000, bids = 20,
               bid_interval_ms = 250, per_addr = 200, connect_parallel = 64, server_pid = 0;
  double rate = 0, seconds = 10, warmup = 2;
};

Options parse_options(int argc, char** argv) {
  if (argc < 2) die("usage: ipx-load orders|fanout|idle|echo --url URL [options] (see the source)");
  Options o;
  o.scenario = argv[1];
  const char* k = std::getenv("IPX_ADMIN_KEY");
  const char* s = std::getenv("IPX_ADMIN_SECRET");
  o.key = k != nullptr && *k != 0 ? k : "admin";
  o.secret = s != nullptr ? s : "";
  std::map<std::string, std::string> f;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || i + 1 >= argc) die("bad argument " + a);
    f[a.substr(2)] = argv[++i];
  }
  auto num = [&](const char* name, auto& out) {
    auto it = f.find(name);
    if (it == f.end()) return;
    try {
      if constexpr (std::is_same_v<std::decay_t<decltype(out)>, double>) out = std::stod(it->second);
      else out = std::stoll(it->second);
    } catch (const std::exception&) { die(std::string("--") + name + " needs a number"); }
    f.erase(it);
  };
  auto str = [&](const char* name, std::string& out) {
    if (auto it = f.find(name); it != f.end()) out = it->second, f.erase(it);
  };
  str("url", o.url), str("key", o.key), str("secret", o.secret), str("src-base", o.src_base);
  str("latency-out", o.latency_out);
  num("conns", o.conns), num("traders", o.traders), num("window", o.window);
  num("depth", o.depth), num("subscribers", o.subscribers), num("bids", o.bids);
  num("bid-interval-ms", o.bid_interval_ms), num("per-addr", o.per_addr);
  num("connect-parallel", o.connect_parallel), num("server-pid", o.server_pid);
  num("rate", o.rate), num("seconds", o.seconds), num("warmup", o.warmup);
  if (!f.empty()) die("unknown option --" + f.begin()->first);
  if (o.url.empty()) die("--url is required");
  if (o.conns < 1 || o.window < 1 || o.per_addr < 1 || o.connect_parallel < 1) die("bad sizes");
  return o;
}

struct Url {
  std::string host, port, path;
};
Url parse_url(const std::string& u) {
  const std::string scheme = "ws://";
  if (u.rfind(scheme, 0) != 0) die("only ws:// URLs: " + u);
  std::string rest = u.substr(scheme.size());
  std::size_t slash = rest.find('/');
  std::string hp = rest.substr(0, slash);
  std::size_t colon = hp.rfind(':');
  if (colon == std::string::npos) die("URL needs a port: " + u);
  return {hp.substr(0, colon), hp.substr(colon + 1),
          slash == std::string::npos ? "/" : rest.substr(slash)};
}

// ------------------------------------------------------------------------------ statistics
struct Stats {
  std::vector<std::int64_t> latency_ns;  // of requests intended inside the measured window
  std::vector<std::pair<std::int64_t, std::int64_t>> timeline;  // (intended, latency): --latency-out
  std::int64_t ok_in_window = 0, sent = 0, errors = 0;
  std::map<std::string, std::int64_t> error_kinds;
  void error(const std::string& kind) {
    ++errors;
    if (++error_kinds[kind] <= 3) std::fprintf(stderr, "ipx-load: error: %s\n", kind.c_str());
  }
  double pct(double p) {
    if (latency_ns.empty()) return 0;
    auto i = static_cast<std::size_t>(p * static_cast<double>(latency_ns.size() - 1));
    std::nth_element(latency_ns.begin(), latency_ns.begin() + static_cast<std::ptrdiff_t>(i),
                     latency_ns.end());
    return static_cast<double>(latency_ns[i]) / 1e6;
  }
  std::string errors_text() const {
    std::string s;
    for (const auto& [k, n] : error_kinds) s += (s.empty() ? "" : ",") + k + ":" + std::to_string(n);
    return s.empty() ? "none" : s;
  }
};

// ------------------------------------------------------------------------------ connection
// One WebSocket client connection. Replies are matched to requests by integer id; pushes go
// to on_push. Writes are queued (Beast allows one write in flight).
struct Conn : std::enable_shared_from_this<Conn> {
  struct Pending {
    std::int64_t intended_ns;
    std::function<void(json::value&, std::int64_t)> done;  // (reply, receive time)
  };
  ws::stream<beast::tcp_stream> stream;
  std::unordered_map<std::int64_t, Pending> pending;
  std::deque<std::string> out;
  bool writing = false, open = false;
  std::int64_t next_id = 1;
  std::function<void(json::object&, std::int64_t)> on_push;
  std::function<void(const std::string&)> on_close;
  bool echo = false;  // echo server: the reply is the request itself

  explicit Conn(asio::io_context& io) : stream(io) {}

  awaitable<void> connect(const Url& url, const tcp::resolver::results_type& eps,
                          std::optional<asio::ip::address> src) {
    auto& sock = beast::get_lowest_layer(stream).socket();
    sock.open(eps.begin()->endpoint().protocol());
    if (src) {
      sock.set_option(asio::socket_base::reuse_address(true));
      sock.bind(tcp::endpoint(*src, 0));
    }
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
    co_await sock.async_connect(*eps.begin(), use_awaitable);
    sock.set_option(tcp::no_delay(true));
    co_await stream.async_handshake(url.host + ":" + url.port, url.path, use_awaitable);
    beast::get_lowest_layer(stream).expires_never();
    stream.set_option(ws::stream_base::timeout::suggested(beast::role_type::client));
    stream.text(true);
    open = true;
  }

  void send(std::string text) {
    out.push_back(std::move(text));
    if (!writing) {
      writing = true;
      asio::co_spawn(stream.get_executor(), write_loop(shared_from_this()), asio::detached);
    }
  }

  static awaitable<void> write_loop(std::shared_ptr<Conn> self) {
    try {
      while (!self->out.empty()) {
        co_await self->stream.async_write(asio::buffer(self->out.front()), use_awaitable);
        self->out.pop_front();
      }
    } catch (const std::exception& e) {
      self->out.clear();
    }
    self->writing = false;
  }

  // Sends {"id":n,"method":m,"params":p}; `done` gets the reply.
  std::int64_t request(std::string_view method, const json::object& params, std::int64_t intended,
                       std::function<void(json::value&, std::int64_t)> done) {
    const std::int64_t id = next_id++;
    json::object o{{"id", id}, {"method", method}, {"params", params}};
    pending.emplace(id, Pending{intended, std::move(done)});
    send(json::serialize(o));
    return id;
  }

  static awaitable<void> read_loop(std::shared_ptr<Conn> self) {
    beast::flat_buffer buf;
    std::string why = "closed";
    try {
      for (;;) {
        co_await self->stream.async_read(buf, use_awaitable);
        const std::int64_t t = now_ns();
        json::error_code ec;
        json::value v = json::parse(beast::buffers_to_string(buf.data()), ec);
        buf.consume(buf.size());
        if (ec || !v.is_object()) {
          why = "reply is not a JSON object";
          break;
        }
        auto& o = v.get_object();
        if (!self->echo && o.contains("channel")) {
          if (self->on_push) self->on_push(o, t);
          continue;
        }
        const json::value* id = o.if_contains("id");
        if (id == nullptr || !id->is_int64()) {
          why = "reply without an integer id: " + json::serialize(v).substr(0, 200);
          break;
        }
        auto it = self->pending.find(id->get_int64());
        if (it == self->pending.end()) {
          why = "reply to an unknown id";
          break;
        }
        auto p = std::move(it->second);
        self->pending.erase(it);
        p.done(v, t);
      }
    } catch (const std::exception& e) {
      why = e.what();
    }
    self->open = false;
    if (self->on_close) self->on_close(why);
    // Every request in flight gets an error reply, so no waiter hangs and each is counted.
    auto pending = std::move(self->pending);
    self->pending.clear();
    for (auto& [id, p] : pending) {
      json::value v = json::object{{"id", id}, {"error", json::object{{"code", "CONNECTION_LOST"}}}};
      p.done(v, now_ns());
    }
  }
};

// The error of a protocol reply (empty when it is a result).
std::string reply_error(const json::value& v) {
  const auto& o = v.get_object();
  if (const auto* e = o.if_contains("error")) {
    const auto* c = e->is_object() ? e->get_object().if_contains("code") : nullptr;
    return c != nullptr && c->is_string() ? std::string(c->get_string()) : "error";
  }
  return o.contains("result") ? "" : "no result";
}

// A one-shot event a coroutine can wait on (single-threaded).
struct Event {
  asio::steady_timer t;
  bool set = false;
  explicit Event(asio::any_io_executor ex) : t(ex, Clock::time_point::max()) {}
  void fire() { set = true, t.cancel(); }
  awaitable<void> wait() {
    while (!set) {
      boost::system::error_code ec;
      co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
    }
  }
};

// A request and its reply, awaited (set-up only). Throws on an error reply.
awaitable<json::value> call(std::shared_ptr<Conn> c, std::string_view method, json::object params) {
  auto ev = std::make_shared<Event>(c->stream.get_executor());
  auto reply = std::make_shared<json::value>();
  c->request(method, params, now_ns(), [ev, reply](json::value& v, std::int64_t) {
    *reply = std::move(v);
    ev->fire();
  });
  co_await ev->wait();
  std::string err = reply_error(*reply);
  if (!err.empty()) {
    throw std::runtime_error(std::string(method) + " failed: " + json::serialize(*reply));
  }
  co_return reply->get_object()["result"];
}

std::string hmac_hex(const std::string& secret, const std::string& msg) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), md, &n);
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < n; ++i) s += hex[md[i] >> 4], s += hex[md[i] & 15];
  return s;
}

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> b(bytes);
  if (RAND_bytes(b.data(), static_cast<int>(bytes)) != 1) die("RAND_bytes failed");
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned char c : b) s += hex[c >> 4], s += hex[c & 15];
  return s;
}

// PROTOCOL.md "Authentication": sig = hex HMAC-SHA256(secret, key \n ts \n nonce).
awaitable<void> login(std::shared_ptr<Conn> c, const std::string& key, const std::string& secret) {
  const std::int64_t ts = wall_ms();
  const std::string nonce = random_hex(12);
  const std::string sig = hmac_hex(secret, key + "\n" + std::to_string(ts) + "\n" + nonce);
  json::object params1{{"key"sv, key}, {"ts"sv, ts}, {"nonce"sv, nonce}, {"sig"sv, sig}};
  co_await call(c, "auth.login"sv, std::move(params1));
}

// ------------------------------------------------------------------------------ the runner
struct Runner {
  asio::io_context io;
  Options opt;
  Url url;
  tcp::resolver::results_type eps;
  Stats stats;
  std::int64_t lost_conns = 0;

  explicit Runner(Options o) : opt(std::move(o)), url(parse_url(opt.url)) {
    tcp::resolver r(io);
    eps = r.resolve(url.host, url.port);
    if (eps.empty()) die("cannot resolve " + url.host);
  }

  std::optional<asio::ip::address> src_for(std::int64_t i) const {
    if (opt.src_base == "none") return std::nullopt;
    auto base = asio::ip::make_address_v4(opt.src_base).to_uint();
    return asio::ip::address_v4(base + static_cast<std::uint32_t>(i / opt.per_addr));
  }

  awaitable<std::shared_ptr<Conn>> open(std::int64_t i) {
    auto c = std::make_shared<Conn>(io);
    c->echo = opt.scenario == "echo";
    co_await c->connect(url, eps, src_for(i));
    c->on_close = [this](const std::string& why) {
      ++lost_conns;
      stats.error("connection lost: " + why.substr(0, 120));
    };
    asio::co_spawn(io, Conn::read_loop(c), asio::detached);
    co_return c;
  }

  // Opens n connections (connect_parallel at a time); `init` runs on each (e.g. login).
  awaitable<std::vector<std::shared_ptr<Conn>>> open_many(
      std::int64_t n, std::int64_t first,
      std::function<awaitable<void>(std::shared_ptr<Conn>, std::int64_t)> init) {
    std::vector<std::shared_ptr<Conn>> conns(static_cast<std::size_t>(n));
    std::int64_t next = 0, workers = std::min(n, opt.connect_parallel), running = workers;
    std::string failure;
    auto ev = std::make_shared<Event>(io.get_executor());
    for (std::int64_t w = 0; w < workers; ++w) {
      asio::co_spawn(io, [&, ev]() -> awaitable<void> {
        while (next < n && failure.empty()) {
          std::int64_t i = next++;
          try {
            auto c = co_await open(first + i);
            if (init) co_await init(c, i);
            conns[static_cast<std::size_t>(i)] = c;
          } catch (const std::exception& e) {
            failure = "connection " + std::to_string(first + i) + ": " + e.what();
          }
        }
        if (--running == 0) ev->fire();
      }, asio::detached);
    }
    co_await ev->wait();
    if (!failure.empty()) throw std::runtime_error(failure);
    co_return conns;
  }

  awaitable<void> sleep_until_ns(std::int64_t t) {
    asio::steady_timer timer(io, Clock::time_point(std::chrono::nanoseconds(t)));
    co_await timer.async_wait(use_awaitable);
  }

  // Waits until every connection has no request in flight, at most `limit_ms`.
  awaitable<void> drain(const std::vector<std::shared_ptr<Conn>>& conns, std::int64_t limit_ms) {
    const std::int64_t end = now_ns() + limit_ms * 1'000'000;
    for (;;) {
      std::int64_t left = 0;
      for (auto& c : conns) left += static_cast<std::int64_t>(c->pending.size());
      if (left == 0 || now_ns() >= end) {
        for (std::int64_t i = 0; i < left; ++i) stats.error("no reply within the drain time");
        co_return;
      }
      co_await sleep_until_ns(now_ns() + 10'000'000);
    }
  }

  // ------------------------------------------------------------------ orders and echo
  struct Trader {
    std::string id, key, secret;
  };
  std::string market_id;
  std::int64_t window_start = 0, window_end = 0, coid_seq = 0;

  awaitable<std::vector<Trader>> setup_market() {
    auto admin = co_await open(0);
    co_await login(admin, opt.key, opt.secret);
    const std::string tag = random_hex(4);
    std::vector<Trader> traders;
    for (std::int64_t i = 0; i < opt.traders; ++i) {
      json::object params2{{"name"sv, "load-" + tag + "-" + std::to_string(i)},
                                     {"kind"sv, "enterprise"sv}, {"region"sv, "chengdu"sv},
                                     {"whitelisted"sv, true}};
      json::value r = co_await call(admin, "participant.create",
                                    std::move(params2));
      Trader t{std::string(r.at("participant_id").as_string()),
               std::string(r.at("api_key").as_string()), std::string(r.at("api_secret").as_string())};
      json::object params3{{"participant_id"sv, t.id}, {"amount"sv, std::int64_t{1'000'000'000'000'000}}};
      co_await call(admin, "account.fund",
                    std::move(params3));
      traders.push_back(t);
    }
    json::object params4{};
    json::value now = co_await call(admin, "time.now"sv, std::move(params4));
    const std::int64_t now_ms = now.at("now").as_int64();
    const std::string asset = "LOAD-" + tag;
    json::object params5{{"asset_id"sv, asset}, {"kind"sv, "invention_patent"sv}, {"title"sv, "load " + tag},
                   {"owner"sv, traders[0].id}, {"region"sv, "chengdu"sv}, {"industry"sv, "other"sv},
                   {"valuation"sv, 100'000'000}, {"expires_at"sv, now_ms + 10LL * 365 * 86'400'000}};
    co_await call(admin, "asset.register",
                  std::move(params5));
    auto owner = co_await open(0);
    co_await login(owner, traders[0].key, traders[0].secret);
    market_id = "M-" + tag;
    json::object lic{{"kind"sv, "non_exclusive"sv}, {"territory"sv, json::array{"cn"sv}}, {"field"sv, "all"sv},
                     {"term_months"sv, 12}, {"royalty_bp"sv, 0}};
    json::object params6{{"market_id"sv, market_id}, {"asset_id"sv, asset},
                                           {"licence"sv, lic}, {"tick"sv, 1}, {"min_qty"sv, 1}};
    co_await call(owner, "market.create"sv, std::move(params6));
    json::object params7{{"market_id"sv, market_id}, {"qty"sv, 1'000'000}};
    co_await call(owner, "units.issue"sv, std::move(params7));
    // An ask far above every buy, so the book has both sides and nothing trades.
    json::object params8{{"market_id"sv, market_id}, {"side"sv, "sell"sv},
                                         {"type"sv, "limit"sv}, {"price"sv, 1'000'000}, {"qty"sv, 1},
                                         {"tif"sv, "gtc"sv}, {"client_order_id"sv, "ask-" + tag}};
    co_await call(owner, "order.place"sv, std::move(params8));
    for (auto& c : {admin, owner}) {
      c->on_close = nullptr;  // a close we asked for is no error
      co_await c->stream.async_close(ws::close_code::normal, use_awaitable);
    }
    co_return traders;
  }

  // Per-connection order state: client_order_ids of acknowledged open orders.
  struct OrderState {
    std::deque<std::string> open_orders;
    std::int64_t inflight = 0;
  };

  json::object place_params(std::int64_t n) {
    return {{"market_id", market_id.empty() ? std::string("M-echo") : market_id},
            {"side", "buy"}, {"type", "limit"}, {"price", 1 + n % 997}, {"qty", 1 + n % 7},
            {"tif", "gtc"}, {"client_order_id", "c" + std::to_string(++coid_seq)}};
  }

  void record(std::int64_t intended, std::int64_t t, bool ok, const std::string& err) {
    if (!ok) return stats.error(err);
    if (t >= window_start && t < window_end) ++stats.ok_in_window;
    if (intended >= window_start && intended < window_end) {
      stats.latency_ns.push_back(t - intended);
      if (!opt.latency_out.empty()) stats.timeline.emplace_back(intended - window_start, t - intended);
    }
  }

  // Sends one order request (or an echo frame) on c, intended at `intended`.
  void send_one(const std::shared_ptr<Conn>& c, OrderState& st, std::int64_t intended,
                std::function<void()> after) {
    ++stats.sent;
    ++st.inflight;
    if (c->echo) {
      const std::int64_t id = c->next_id;
      auto text = std::make_shared<std::string>();
      c->pending.emplace(c->next_id++, Conn::Pending{intended, [this, &st, intended, text, after](
                                                                   json::value& v, std::int64_t t) {
        --st.inflight;
        const auto* m = v.get_object().if_contains("method");
        record(intended, t, json::serialize(v) == *text && m != nullptr, "echo differs");
        if (after) after();
      }});
      json::object o{{"id", id}, {"method", "order.place"}, {"params", place_params(id)}};
      *text = json::serialize(o);
      c->send(*text);
      return;
    }
    if (static_cast<std::int64_t>(st.open_orders.size()) >= opt.depth) {
      std::string coid = std::move(st.open_orders.front());
      st.open_orders.pop_front();
      c->request("order.cancel", {{"market_id", market_id}, {"client_order_id", coid}}, intended,
                 [this, &st, intended, after](json::value& v, std::int64_t t) {
                   --st.inflight;
                   std::string err = reply_error(v);
                   if (err.empty() && v.at("result").at("status") != "cancelled") err = "cancel not cancelled";
                   record(intended, t, err.empty(), "order.cancel " + err);
                   if (after) after();
                 });
      return;
    }
    json::object p = place_params(stats.sent);
    std::string coid(p.at("client_order_id").as_string());
    c->request("order.place", p, intended,
               [this, &st, intended, after, coid](json::value& v, std::int64_t t) {
                 --st.inflight;
                 std::string err = reply_error(v);
                 if (err.empty() && v.at("result").at("status") != "open") err = "place not open";
                 if (err.empty()) st.open_orders.push_back(coid);
                 record(intended, t, err.empty(), "order.place " + err);
                 if (after) after();
               });
  }

  // Open loop: connection k sends at start + (j + k/N) * N/rate; closed loop: window in flight.
  awaitable<void> drive(std::shared_ptr<Conn> c, OrderState& st, std::int64_t k, std::int64_t start,
                        std::int64_t end) {
    if (opt.rate <= 0) {
      auto refill = std::make_shared<std::function<void()>>();
      *refill = [this, c, &st, end, refill]() {
        if (!c->open || now_ns() >= end) return;
        std::int64_t t = now_ns();
        send_one(c, st, t, *refill);
      };
      for (std::int64_t w = 0; w < opt.window; ++w) send_one(c, st, now_ns(), *refill);
      co_await sleep_until_ns(end);
      *refill = nullptr;  // breaks the cycle once the window drains
      co_return;
    }
    const double interval_ns = 1e9 * static_cast<double>(opt.conns) / opt.rate;
    double next = static_cast<double>(start) + interval_ns * static_cast<double>(k) /
                                                   static_cast<double>(opt.conns);
    while (c->open && next < static_cast<double>(end)) {
      co_await sleep_until_ns(static_cast<std::int64_t>(next));
      const std::int64_t t = now_ns();
      while (next <= static_cast<double>(t) && next < static_cast<double>(end)) {
        if (st.inflight > 100'000) stats.error("backlog over 100000 requests on a connection");
        else send_one(c, st, static_cast<std::int64_t>(next), nullptr);
        next += interval_ns;
      }
    }
  }

  awaitable<void> run_orders() {
    std::vector<Trader> traders;
    if (opt.scenario == "orders") traders = co_await setup_market();
    auto conns = co_await open_many(opt.conns, 0, [&](std::shared_ptr<Conn> c, std::int64_t i) -> awaitable<void> {
      if (traders.empty()) co_return;
      const Trader& t = traders[static_cast<std::size_t>(i) % traders.size()];
      co_await login(c, t.key, t.secret);
    });
    std::fprintf(stderr, "ipx-load: %zu connections open; %s for %.1f s (+%.1f s warm-up)\n",
                 conns.size(), opt.rate > 0 ? "open loop" : "closed loop", opt.seconds, opt.warmup);
    const std::int64_t start = now_ns() + 50'000'000;
    window_start = start + static_cast<std::int64_t>(opt.warmup * 1e9);
    window_end = window_start + static_cast<std::int64_t>(opt.seconds * 1e9);
    std::vector<OrderState> states(conns.size());
    auto ev = std::make_shared<Event>(io.get_executor());
    std::size_t running = conns.size();
    for (std::size_t k = 0; k < conns.size(); ++k) {
      asio::co_spawn(io, [&, k, ev]() -> awaitable<void> {
        co_await drive(conns[k], states[k], static_cast<std::int64_t>(k), start, window_end);
        if (--running == 0) ev->fire();
      }, asio::detached);
    }
    co_await ev->wait();
    co_await drain(conns, 30'000);  // a saturated open-loop run leaves a backlog
    const double secs = opt.seconds;
    const double achieved = static_cast<double>(stats.ok_in_window) / secs;
    std::printf("%s: offered %s, achieved %.0f acknowledged/s over %zu connections; latency p50 %.3f "
                "ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms (%zu samples); errors %" PRId64 " (%s)\n",
                opt.scenario.c_str(), opt.rate > 0 ? (std::to_string(static_cast<std::int64_t>(opt.rate)) + "/s").c_str()
                                                   : ("closed loop, window " + std::to_string(opt.window)).c_str(),
                achieved, conns.size(), stats.pct(0.5), stats.pct(0.99), stats.pct(0.999),
                stats.pct(1.0), stats.latency_ns.size(), stats.errors, stats.errors_text().c_str());
    std::printf("RESULT scenario=%s conns=%zu offered=%.0f achieved=%.1f p50_ms=%.3f p99_ms=%.3f "
                "p999_ms=%.3f max_ms=%.3f samples=%zu errors=%" PRId64 "\n",
                opt.scenario.c_str(), conns.size(), opt.rate, achieved, stats.pct(0.5), stats.pct(0.99),
                stats.pct(0.999), stats.pct(1.0), stats.latency_ns.size(), stats.errors);
    for (auto& c : conns) c->on_close = nullptr;
    if (!opt.latency_out.empty()) write_timeline();
  }

  void write_timeline() {
    std::sort(stats.timeline.begin(), stats.timeline.end());
    std::FILE* f = std::fopen(opt.latency_out.c_str(), "w");
    if (f == nullptr) die("cannot write " + opt.latency_out);
    for (const auto& [at, lat] : stats.timeline) {
      std::fprintf(f, "%.3f %" PRId64 "\n", static_cast<double>(at) / 1e6, lat / 1000);
    }
    std::fclose(f);
  }

  // ------------------------------------------------------------------ fanout
  awaitable<void> run_fanout() {
    auto admin = co_await open(0);
    co_await login(admin, opt.key, opt.secret);
    const std::string tag = random_hex(4);
    std::vector<std::shared_ptr<Conn>> bidders;
    std::string owner_id;
    for (int i = 0; i < 3; ++i) {
      json::object params9{{"name"sv, "fan-" + tag + "-" + std::to_string(i)},
                                     {"kind"sv, "enterprise"sv}, {"region"sv, "chengdu"sv}, {"whitelisted"sv, true}};
      json::value r = co_await call(admin, "participant.create",
                                    std::move(params9));
      const std::string pid(r.at("participant_id").as_string());
      json::object params10{{"participant_id"sv, pid}, {"amount"sv, std::int64_t{1'000'000'000'000}}};
      co_await call(admin, "account.fund"sv, std::move(params10));
      if (i == 0) {
        owner_id = pid;
        continue;
      }
      auto c = co_await open(0);
      co_await login(c, std::string(r.at("api_key").as_string()), std::string(r.at("api_secret").as_string()));
      bidders.push_back(c);
    }
    json::object params11{};
    const std::int64_t now_ms = (co_await call(admin, "time.now"sv, std::move(params11))).at("now").as_int64();
    const std::string asset = "FAN-" + tag;
    json::object params12{{"asset_id"sv, asset}, {"kind"sv, "invention_patent"sv}, {"title"sv, "fanout " + tag},
                   {"owner"sv, owner_id}, {"region"sv, "chengdu"sv}, {"industry"sv, "other"sv},
                   {"valuation"sv, 100'000'000}, {"expires_at"sv, now_ms + 10LL * 365 * 86'400'000}};
    co_await call(admin, "asset.register",
                  std::move(params12));
    const std::int64_t start_price = 1'000'000, increment = 10'000;
    json::object params13{{"lot"sv, json::array{json::value(asset)}}, {"purpose"sv, "transfer"sv},
                                   {"format"sv, "english"sv}, {"start_price"sv, start_price},
                                   {"increment"sv, increment}, {"deposit"sv, 0}, {"opens_at"sv, now_ms},
                                   {"closes_at"sv, now_ms + 86'400'000}};
    json::value a = co_await call(admin, "auction.create",
                                  std::move(params13));
    const std::string aid(a.at("auction_id").as_string());
    json::object params14{{"auction_id"sv, aid}};
    for (auto& b : bidders) co_await call(b, "auction.register"sv, params14);
    // Subscribers: one subscription each; wait for every snapshot.
    const std::string channel = "auction." + aid;
    std::unordered_map<std::int64_t, std::int64_t> bid_sent_ns;  // amount -> send time
    std::vector<std::int64_t> last_seq(static_cast<std::size_t>(opt.subscribers), -1);
    std::int64_t snapshots = 0, deliveries = 0;
    auto subs = co_await open_many(opt.subscribers, 1, [&](std::shared_ptr<Conn> c, std::int64_t i) -> awaitable<void> {
      co_await login(c, opt.key, opt.secret);
      c->on_push = [&, i](json::object& p, std::int64_t t) {
        auto& last = last_seq[static_cast<std::size_t>(i)];
        const std::int64_t seq = p.at("seq").as_int64();
        if (p.at("type") == "snapshot") {
          ++snapshots, last = seq;
          return;
        }
        if (last >= 0 && seq != last + 1) stats.error("seq gap");
        last = seq;
        if (p.at("type") != "bid") return;
        const auto it = bid_sent_ns.find(p.at("data").at("amount").as_int64());
        if (it == bid_sent_ns.end()) return stats.error("push for an unknown bid");
        ++deliveries;
        stats.latency_ns.push_back(t - it->second);
      };
      json::object params15{{"channels"sv, json::array{json::value(channel)}}};
      co_await call(c, "subscribe"sv, std::move(params15));
    });
    while (snapshots < opt.subscribers) co_await sleep_until_ns(now_ns() + 10'000'000);
    std::fprintf(stderr, "ipx-load: %zu subscribers have their snapshot; %" PRId64 " bids\n",
                 subs.size(), opt.bids);
    std::vector<std::int64_t> bid_ack_ns;
    for (std::int64_t b = 0; b < opt.bids; ++b) {
      const std::int64_t amount = start_price + b * increment;
      const std::int64_t t0 = now_ns();
      bid_sent_ns[amount] = t0;
      json::object params16{{"auction_id"sv, aid}, {"amount"sv, amount}};
      co_await call(bidders[static_cast<std::size_t>(b % 2)], "auction.bid"sv, std::move(params16));
      bid_ack_ns.push_back(now_ns() - t0);
      co_await sleep_until_ns(t0 + opt.bid_interval_ms * 1'000'000);
    }
    const std::int64_t expected = opt.bids * opt.subscribers;
    const std::int64_t end = now_ns() + 10'000'000'000;
    while (deliveries < expected && now_ns() < end) co_await sleep_until_ns(now_ns() + 10'000'000);
    for (std::int64_t i = deliveries; i < expected; ++i) stats.error("bid push not delivered");
    std::sort(bid_ack_ns.begin(), bid_ack_ns.end());
    const double ack_ms = static_cast<double>(bid_ack_ns[bid_ack_ns.size() / 2]) / 1e6;
    std::printf("fanout: %zu subscribers x %" PRId64 " bids = %" PRId64 " deliveries of %" PRId64
                "; delay from bid send p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms; bid ack "
                "p50 %.3f ms; errors %" PRId64 " (%s)\n",
                subs.size(), opt.bids, deliveries, expected, stats.pct(0.5), stats.pct(0.99),
                stats.pct(0.999), stats.pct(1.0), ack_ms, stats.errors, stats.errors_text().c_str());
    std::printf("RESULT scenario=fanout subscribers=%zu bids=%" PRId64 " deliveries=%" PRId64
                " p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f bid_ack_p50_ms=%.3f errors=%" PRId64 "\n",
                subs.size(), opt.bids, deliveries, stats.pct(0.5), stats.pct(0.99), stats.pct(0.999),
                stats.pct(1.0), ack_ms, stats.errors);
    for (auto& c : subs) c->on_close = nullptr, c->on_push = nullptr;
  }

  // ------------------------------------------------------------------ idle
  static std::string proc_status(std::int64_t pid, const std::string& field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(field + ":", 0) == 0) {
        auto v = line.substr(field.size() + 1);
        v.erase(0, v.find_first_not_of(" \t"));
        return v;
      }
    }
    return "?";
  }

  awaitable<void> run_idle() {
    std::string rss0 = opt.server_pid ? proc_status(opt.server_pid, "VmRSS") : "?";
    const std::int64_t t0 = now_ns();
    auto conns = co_await open_many(opt.conns, 0, [&](std::shared_ptr<Conn> c, std::int64_t) -> awaitable<void> {
      co_await login(c, opt.key, opt.secret);
    });
    const double open_s = static_cast<double>(now_ns() - t0) / 1e9;
    std::fprintf(stderr, "ipx-load: %zu authenticated connections in %.1f s; holding %.0f s\n",
                 conns.size(), open_s, opt.seconds);
    co_await sleep_until_ns(now_ns() + static_cast<std::int64_t>(opt.seconds * 1e9));
    std::string rss = opt.server_pid ? proc_status(opt.server_pid, "VmRSS") : "?";
    std::string hwm = opt.server_pid ? proc_status(opt.server_pid, "VmHWM") : "?";
    // Every connection must still be open and answer.
    std::int64_t alive = 0;
    for (auto& c : conns) {
      if (!c->open) continue;
      c->request("time.now"sv, {}, now_ns(), [&](json::value& v, std::int64_t) {
        if (reply_error(v).empty()) ++alive;
        else stats.error("time.now " + reply_error(v));
      });
    }
    co_await drain(conns, 10'000);
    std::printf("idle: %" PRId64 " of %zu authenticated connections held %.0f s and answering; "
                "server RSS %s before, %s with them (peak %s); connect+login %.1f s; errors %" PRId64
                " (%s)\n",
                alive, conns.size(), opt.seconds, rss0.c_str(), rss.c_str(), hwm.c_str(), open_s,
                stats.errors, stats.errors_text().c_str());
    auto kb = [](const std::string& s) { return s == "?" ? std::string("0") : s.substr(0, s.find(' ')); };
    std::printf("RESULT scenario=idle conns=%zu alive=%" PRId64 " rss_kb_before=%s rss_kb=%s hwm_kb=%s "
                "open_s=%.1f errors=%" PRId64 "\n",
                conns.size(), alive, kb(rss0).c_str(), kb(rss).c_str(), kb(hwm).c_str(), open_s,
                stats.errors);
    for (auto& c : conns) c->on_close = nullptr;
  }

  int run() {
    int rc = 0;
    // A bound on the whole run: a server that stops answering must not hang the benchmark.
    const double budget_s = opt.seconds + opt.warmup + 180 + static_cast<double>(opt.conns + opt.subscribers) / 100;
    asio::steady_timer watchdog(io, std::chrono::milliseconds(static_cast<std::int64_t>(budget_s * 1000)));
    watchdog.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      std::fprintf(stderr, "ipx-load: no result after %.0f s; giving up\n", budget_s);
      std::printf("RESULT scenario=%s errors=-1 timed_out=1\n", opt.scenario.c_str());
      std::fflush(stdout);
      std::_Exit(1);
    });
    asio::co_spawn(io, [&]() -> awaitable<void> {
      if (opt.scenario == "orders" || opt.scenario == "echo") co_await run_orders();
      else if (opt.scenario == "fanout") co_await run_fanout();
      else if (opt.scenario == "idle") co_await run_idle();
      else die("unknown scenario " + opt.scenario);
    }, [&](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          std::fprintf(stderr, "ipx-load: %s\n", ex.what());
          rc = 2;
        }
      }
      std::fflush(stdout);
      std::_Exit(rc != 0 ? rc : (stats.errors == 0 ? 0 : 1));  // sockets close with the process
    });
    io.run();
    return rc;
  }
};

}  // namespace

int main(int argc, char** argv) {
  Runner r(parse_options(argc, argv));
  return r.run();
}
