// The gateway transport: acceptor, HTTP sessions, WebSocket sessions (plain and TLS, one
// template), the envelope checks, auth.login, subscribe/unsubscribe, limits and drain.
// Every session's handlers run on its own strand (the one thread of the io_context it was
// given at accept, see Server::Impl); the only shared state is in `Shared` (atomics, a
// registry under a mutex, the hub with its per-topic locks).
#include "gateway/server.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json.hpp>

#include "gateway/auth.hpp"
#include "gateway/hub.hpp"
#include "gateway/metrics.hpp"
#include "gateway/reply_state.hpp"
#include "matching/assert.hpp"

namespace ipx::gateway {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

// A connection's executor is its io_context's (one thread each, see Server::Impl), named by
// its concrete type so that no operation goes through a type-erased executor.
using Executor = net::io_context::executor_type;
using Socket = net::basic_stream_socket<tcp, Executor>;
using PlainStream = beast::basic_stream<tcp, Executor>;
using TlsStream = beast::ssl_stream<PlainStream>;

constexpr std::uint16_t close_slow_consumer = 4001;

std::int64_t system_wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Lifetime rule: a session (and with it its Beast stream) is destroyed on its own strand.
// Every strong reference taken on another thread (the hub's fan-out, a reply, the drain) is
// moved into a handler posted to that strand, so that if it is the last one it ends there.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Drain: thread-safe; `self` (== this) goes with the handler posted to the strand.
  virtual void shutdown(std::shared_ptr<SessionBase> self) = 0;
};

// Everything sessions share. Held by shared_ptr so sessions never outlive it.
struct Shared {
  Shared(Application& application, ServerConfig cfg)
      : app(application),
        config(std::move(cfg)),
        hub([this](std::string_view topic) { return app.snapshot(topic); },
            [this] {
              const std::int64_t manual = app.manual_time_ms();
              return manual >= 0 ? manual : wall_ms();
            },
            metrics),
        ws_connections(metrics.gauge("ipx_ws_connections", "Open WebSocket sessions")),
        ws_accepted(metrics.counter("ipx_ws_connections_total", "WebSocket sessions accepted")),
        connections(metrics.gauge("ipx_connections", "Open TCP connections (HTTP and WebSocket)")),
        refused(metrics.counter("ipx_connections_refused_total",
                                "Connections refused by a connection limit")),
        http_requests(metrics.counter("ipx_http_requests_total", "HTTP requests served")),
        messages_in(metrics.counter("ipx_ws_messages_in_total", "WebSocket frames received")),
        messages_out(metrics.counter("ipx_ws_messages_out_total", "WebSocket frames sent")),
        bytes_out(metrics.counter("ipx_ws_bytes_out_total", "WebSocket payload bytes sent")),
        rate_limited(metrics.counter("ipx_ws_rate_limited_total", "Frames answered RATE_LIMITED")),
        bad_requests(metrics.counter("ipx_ws_bad_envelope_total",
                                     "Frames refused by the envelope checks")),
        slow_consumers(metrics.counter("ipx_ws_slow_consumer_total",
                                       "Sessions closed 4001 (outbound queue over its cap)")),
        logins_ok(metrics.counter("ipx_logins_total", "auth.login attempts", {{"result", "ok"}})),
        logins_failed(
            metrics.counter("ipx_logins_total", "auth.login attempts", {{"result", "failed"}})),
        latency(metrics.histogram("ipx_request_latency_seconds",
                                  "From a request frame's arrival to its reply being queued",
                                  latency_buckets_seconds())) {
    if (!config.wall_clock_ms) config.wall_clock_ms = system_wall_ms;
    nonces = config.nonce_store;
    if (!nonces) {
      nonces = std::make_shared<MemoryNonceStore>(config.limits.nonce_ttl_ms,
                                                  config.limits.nonce_store_max);
    }
  }

  std::int64_t wall_ms() const { return config.wall_clock_ms(); }

  enum class Admission { ok, per_address, total };
  Admission admit(const std::string& address) {
    std::lock_guard lock(mu);
    if (open_total >= config.limits.connections_max) return Admission::total;
    auto& n = per_address[address];
    if (n >= config.limits.connections_per_address_max) {
      if (n == 0) per_address.erase(address);
      return Admission::per_address;
    }
    ++n;
    ++open_total;
    connections.inc();
    return Admission::ok;
  }
  void release(const std::string& address) {
    std::lock_guard lock(mu);
    auto it = per_address.find(address);
    IPX_ASSERT(it != per_address.end() && it->second > 0 && open_total > 0);
    if (--it->second == 0) per_address.erase(it);
    --open_total;
    connections.dec();
  }

  std::uint64_t enroll(std::weak_ptr<SessionBase> s) {
    const std::uint64_t id = next_session_id.fetch_add(1);
    std::lock_guard lock(mu);
    sessions.emplace(id, std::move(s));
    return id;
  }
  void leave(std::uint64_t id) {
    std::function<void()> done;
    {
      std::lock_guard lock(mu);
      sessions.erase(id);
      if (draining && sessions.empty()) done = on_drained;
    }
    if (done) done();
  }

  Application& app;
  ServerConfig config;
  Metrics metrics;
  Hub hub;
  std::shared_ptr<NonceStore> nonces;
  struct Route {
    std::string prefix;
    RouteHandler handler;             // synchronous, or
    AsyncRouteHandler async_handler;  // asynchronous
  };
  std::vector<Route> routes;  // fixed after start()
  std::atomic<bool> draining{false};

  Gauge& ws_connections;
  Counter& ws_accepted;
  Gauge& connections;
  Counter& refused;
  Counter& http_requests;
  Counter& messages_in;
  Counter& messages_out;
  Counter& bytes_out;
  Counter& rate_limited;
  Counter& bad_requests;
  Counter& slow_consumers;
  Counter& logins_ok;
  Counter& logins_failed;
  Histogram& latency;

  std::mutex mu;  // guards the members below
  std::unordered_map<std::string, std::size_t> per_address;
  std::size_t open_total = 0;
  std::unordered_map<std::uint64_t, std::weak_ptr<SessionBase>> sessions;
  std::atomic<std::uint64_t> next_session_id{1};
  std::function<void()> on_drained;  // set by the server; called when the last session leaves
};

// One counted connection; released when the last owner (HTTP, then WS session) goes.
class ConnectionSlot {
 public:
  ConnectionSlot() = default;
  ConnectionSlot(std::shared_ptr<Shared> shared, std::string address)
      : shared_(std::move(shared)), address_(std::move(address)) {}
  ConnectionSlot(ConnectionSlot&& o) noexcept = default;
  ConnectionSlot& operator=(ConnectionSlot&& o) noexcept {
    if (this != &o) {
      reset();
      shared_ = std::move(o.shared_);
      address_ = std::move(o.address_);
      o.shared_.reset();
    }
    return *this;
  }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  ~ConnectionSlot() { reset(); }

 private:
  void reset() {
    if (shared_) shared_->release(address_);
    shared_.reset();
  }

  std::shared_ptr<Shared> shared_;
  std::string address_;
};

// ---------------------------------------------------------------------------------------
// HTTP

http::response<http::string_body> make_response(unsigned version, bool keep_alive,
                                                http::status status, std::string content_type,
                                                std::string body) {
  http::response<http::string_body> res{status, version};
  res.set(http::field::server, "ipx");
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

http::response<http::string_body> make_response(const http::request<http::string_body>& req,
                                                http::status status, std::string content_type,
                                                std::string body) {
  return make_response(req.version(), req.keep_alive(), status, std::move(content_type),
                       std::move(body));
}

std::string json_error_body(std::string_view code, std::string_view message) {
  return json::serialize(make_error(code, message));
}

// The response, or the asynchronous route that will give it.
struct HttpAnswer {
  HttpAnswer(http::response<http::string_body> r) : response(std::move(r)) {}  // NOLINT
  explicit HttpAnswer(const AsyncRouteHandler* route) : async_route(route) {}
  std::optional<http::response<http::string_body>> response;
  const AsyncRouteHandler* async_route = nullptr;
};

HttpAnswer handle_http(Shared& shared, const http::request<http::string_body>& req) {
  shared.http_requests.inc();
  const std::string_view target = req.target();
  const std::string_view path = target.substr(0, target.find('?'));
  if (req.method() != http::verb::get) {
    auto res = make_response(req, http::status::method_not_allowed, "application/json",
                             json_error_body("BAD_REQUEST", "only GET is served"));
    res.set(http::field::allow, "GET");
    return res;
  }
  if (path == "/healthz") {
    return make_response(req, http::status::ok, "application/json", R"({"status":"ok"})");
  }
  if (path == "/readyz") {
    if (shared.draining.load()) {
      return make_response(req, http::status::service_unavailable, "application/json",
                           R"({"status":"draining"})");
    }
    const bool ready = shared.app.ready();
    return make_response(req, ready ? http::status::ok : http::status::service_unavailable,
                         "application/json",
                         ready ? R"({"status":"ready"})" : R"({"status":"not ready"})");
  }
  if (path == "/metrics") {
    return make_response(req, http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                         shared.metrics.render());
  }
  if (path == "/v1/ws") {
    return make_response(req, http::status::upgrade_required, "application/json",
                         json_error_body("BAD_REQUEST", "/v1/ws takes a WebSocket upgrade"));
  }
  for (const auto& route : shared.routes) {
    if (!path.starts_with(route.prefix)) continue;
    if (route.async_handler) return HttpAnswer(&route.async_handler);
    HttpResponse r = route.handler(target);
    return make_response(req, static_cast<http::status>(r.status), std::move(r.content_type),
                         std::move(r.body));
  }
  return make_response(req, http::status::not_found, "application/json",
                       json_error_body("NOT_FOUND", "no such path"));
}

// ---------------------------------------------------------------------------------------
// WebSocket

// Best effort: the id of a frame we will not process (rate limited), or null.
json::value try_extract_id(std::string_view text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return nullptr;
  const auto* id = v.get_object().if_contains("id");
  if (id != nullptr && (id->is_string() || id->is_int64())) return *id;
  return nullptr;
}

// {"id": <id>, <body's members>}: the same bytes as serialising one object, built by
// splicing the id into the body's text.
Frame reply_frame(const json::value& id, std::string_view body_json) {
  IPX_ASSERT(body_json.size() >= 2 && body_json.front() == '{');
  std::string out;
  out.reserve(body_json.size() + 32);
  out += "{\"id\":";
  append_json(out, id);
  out += ',';
  out.append(body_json.substr(1));
  return std::make_shared<const std::string>(std::move(out));
}

// subscribe / unsubscribe params: {channels: [string, ...], request_id?}
std::variant<std::vector<std::string>, Error> parse_channels(const json::value& params,
                                                             const Limits& limits) {
  auto bad = [](std::string m) { return Error{"BAD_REQUEST", std::move(m)}; };
  if (!params.is_object()) return bad("params: required ({channels: [...]})");
  const auto& o = params.get_object();
  for (const auto& kv : o) {
    if (kv.key() != "channels" && kv.key() != "request_id") {
      return bad("params." + std::string(kv.key()) + ": unknown field");
    }
  }
  if (const auto* rid = o.if_contains("request_id")) {
    if (!rid->is_string()) return bad("params.request_id: must be a string");
    if (!request_id_valid(rid->get_string())) return bad("params.request_id: 1 to 64 characters");
  }
  const auto* ch = o.if_contains("channels");
  if (ch == nullptr) return bad("params.channels: required");
  if (!ch->is_array()) return bad("params.channels: must be an array of strings");
  const auto& arr = ch->get_array();
  if (arr.empty() || arr.size() > limits.channels_per_request_max) {
    return bad("params.channels: 1-" + std::to_string(limits.channels_per_request_max) +
               " channels");
  }
  std::vector<std::string> out;
  out.reserve(arr.size());
  for (const auto& c : arr) {
    if (!c.is_string()) return bad("params.channels: must be an array of strings");
    const auto& s = c.get_string();
    if (s.empty() || s.size() > limits.channel_name_bytes_max || s.find('#') != s.npos) {
      return bad("params.channels: bad channel name");
    }
    out.emplace_back(s);
  }
  return out;
}

template <class Stream>
class WsSession final : public SessionBase,
                        public Subscriber,
                        public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(std::shared_ptr<Shared> shared, Stream&& stream, ConnectionSlot slot)
      : shared_(std::move(shared)),
        ws_(std::move(stream)),
        strand_(ws_.get_executor()),
        slot_(std::move(slot)),
        close_timer_(strand_),
        login_timer_(strand_),
        bucket_(shared_->config.limits.requests_per_second, shared_->config.limits.request_burst,
                now_ns()) {}

  ~WsSession() override {
    for (const auto& [channel, sub] : subs_) shared_->hub.unsubscribe(sub.topic, id_);
    if (id_ != 0) {
      shared_->ws_connections.dec();
      shared_->leave(id_);
    }
  }

  void run(http::request<http::string_body> req) {
    const Limits& limits = shared_->config.limits;
    beast::get_lowest_layer(ws_).expires_never();  // the websocket stream's timers take over
    ws_.set_option(websocket::stream_base::timeout{limits.handshake_timeout, limits.idle_timeout,
                                                   /*keep_alive_pings=*/true});
    websocket::permessage_deflate pmd;
    pmd.server_enable = false;
    pmd.client_enable = false;
    ws_.set_option(pmd);
    ws_.read_message_max(limits.message_bytes_max);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "ipx"); }));
    ws_.async_accept(req, beast::bind_front_handler(&WsSession::on_accept, this->shared_from_this()));
  }

  void shutdown(std::shared_ptr<SessionBase> self) override {
    IPX_ASSERT(self.get() == static_cast<SessionBase*>(this));
    net::post(strand_, [s = std::static_pointer_cast<WsSession>(std::move(self))] {
      s->draining_ = true;
      s->maybe_finish_drain();
    });
  }

  // From the hub, under a topic lock, on any thread (see Subscriber for `self`).
  void push(std::shared_ptr<Subscriber> self, std::uint64_t token, Frame frame) override {
    IPX_ASSERT(self.get() == static_cast<Subscriber*>(this));
    net::post(strand_, [s = std::static_pointer_cast<WsSession>(std::move(self)), token,
                        f = std::move(frame)] {
      if (s->live_tokens_.contains(token)) s->send(f);
    });
  }

  // From any thread, via Reply. Takes the caller's reference, so that the last reference to
  // the session is dropped by the posted handler, on the session's strand, never on the
  // thread that replies (the Beast stream must not be destroyed off its strand).
  static void post_reply(std::shared_ptr<WsSession> session, json::value id, std::string body_json,
                         Clock::time_point t0) {
    auto ex = session->strand_;
    net::post(ex, [self = std::move(session), id = std::move(id), body = std::move(body_json),
                   t0]() mutable {
      IPX_ASSERT(self->inflight_ > 0);
      --self->inflight_;
      self->reply_text(id, body, t0);
      self->maybe_finish_drain();
    });
  }

 private:
  struct ReplyState final : Reply::State {
    ReplyState(std::weak_ptr<WsSession> s, json::value request_id, Clock::time_point start)
        : session(std::move(s)), id(std::move(request_id)), t0(start) {}
    ~ReplyState() override {
      if (!replied.exchange(true)) {
        deliver(R"({"error":{"code":"INTERNAL","message":"no reply"}})");
      }
    }
    void deliver(std::string body_json) override {
      if (auto s = session.lock())
        post_reply(std::move(s), std::move(id), std::move(body_json), t0);
    }
    std::weak_ptr<WsSession> session;
    json::value id;
    Clock::time_point t0;
  };
  struct Subscription {
    std::string topic;
    std::uint64_t token;
  };

  static std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
        .count();
  }

  void on_accept(beast::error_code ec) {
    if (ec) return;  // handshake failed or timed out: the session ends here
    id_ = shared_->enroll(this->weak_from_this());
    shared_->ws_connections.inc();
    shared_->ws_accepted.inc();
    if (shared_->draining.load()) draining_ = true;
    maybe_finish_drain();
    do_read();
  }

  void do_read() {
    ws_.async_read(buffer_, beast::bind_front_handler(&WsSession::on_read, this->shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t bytes) {
    // Errors include the peer's close, a message over read_message_max (beast has sent
    // close 1009), invalid UTF-8 (1007), the idle timeout and our own hard close.
    if (ec) return;
    shared_->messages_in.inc();
    if (!ws_.got_text()) {
      start_close(websocket::close_code::unknown_data, "binary frames are not supported");
      return;
    }
    const auto data = buffer_.cdata();
    on_frame(std::string_view(static_cast<const char*>(data.data()), data.size()));
    buffer_.consume(bytes);
    if (!close_started_ && !login_pending_) do_read();  // a login resumes reading itself
  }

  void bad_envelope(const json::value& id, std::string_view code, std::string_view message,
                    Clock::time_point t0) {
    shared_->bad_requests.inc();
    reply(id, make_error(code, message), t0);
  }

  // The envelope checks, in PROTOCOL.md's order.
  void on_frame(std::string_view text) {
    const auto t0 = Clock::now();
    if (!bucket_.take(now_ns())) {
      shared_->rate_limited.inc();
      reply(try_extract_id(text), make_error("RATE_LIMITED", "over the request rate limit"), t0);
      return;
    }
    json::error_code ec;
    json::value frame = json::parse(text, ec);
    if (ec || !frame.is_object()) {
      return bad_envelope(nullptr, "BAD_REQUEST", "a frame must be one JSON object", t0);
    }
    auto& o = frame.get_object();
    // PROTOCOL "Limits": a missing id is answered with `id: null`; a malformed one is also
    // BAD_REQUEST.
    static const json::value kNoId = nullptr;
    const json::value* id = o.if_contains("id");
    if (id != nullptr && !(id->is_string() || id->is_int64())) {
      return bad_envelope(nullptr, "BAD_REQUEST", "id: a string or a signed 64-bit integer", t0);
    }
    if (id == nullptr) id = &kNoId;
    const json::value* method = o.if_contains("method");
    const std::string_view name = method != nullptr && method->is_string()
                                      ? std::string_view(method->get_string())
                                      : std::string_view();
    if (draining_) {
      return bad_envelope(*id, "UNAVAILABLE", "the server is shutting down", t0);
    }
    if (!principal_.authenticated() && name != "time.now" && name != "auth.login") {
      return bad_envelope(*id, "UNAUTHENTICATED", "log in first (auth.login)", t0);
    }
    if (method == nullptr || !method->is_string()) {
      return bad_envelope(*id, "BAD_REQUEST", "method: required, a string", t0);
    }
    json::value params = nullptr;
    if (auto* p = o.if_contains("params")) {
      if (!p->is_object() && !p->is_null()) {
        return bad_envelope(*id, "BAD_REQUEST", "params: must be an object", t0);
      }
      params = std::move(*p);
    }
    dispatch(*id, std::string(name), std::move(params), t0);
  }

  void dispatch(const json::value& id, std::string method, json::value params,
                Clock::time_point t0) {
    if (method == "auth.login") return login(id, params, t0);
    if (method == "subscribe") return subscribe(id, params, t0);
    if (method == "unsubscribe") return unsubscribe(id, params, t0);
    ++inflight_;
    Reply r(std::make_shared<ReplyState>(this->weak_from_this(), id, t0));
    try {
      shared_->app.handle(principal_, RequestCtx{id, std::move(method), std::move(params), std::move(r)});
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ipx gateway: application threw: %s\n", e.what());
      // The Reply copies are gone: an unanswered request gets INTERNAL from ReplyState.
    }
  }

  // auth.login. The nonce check may ask Redis (RedisNonceStore, on its own thread), so it
  // is asynchronous: the session reads no further frame until the login's reply is queued
  // (login_pending_), so the requests sent after a login are handled after it, in order,
  // under the principal it produced; nothing blocks this I/O thread meanwhile.
  void login(const json::value& id, const json::value& params, Clock::time_point t0) {
    auto parsed = parse_login_params(params);
    if (auto* e = std::get_if<Error>(&parsed)) return login_failed(id, *e, t0);
    LoginParams login = std::get<LoginParams>(std::move(parsed));
    const std::int64_t wall = shared_->wall_ms();
    IPX_ASSERT(!login_pending_);
    // A ts out of the window still uses up its nonce (PROTOCOL "Authentication": a nonce seen
    // in the last 5 minutes is refused, whether that login succeeded or not): the refusal is
    // sent once the nonce is recorded.
    login_ts_error_ = check_login_ts(login, wall, shared_->config.limits);
    login_pending_ = true;
    ++inflight_;  // a drain waits for it like for an application reply
    const std::uint64_t seq = ++login_seq_;
    // The timer keeps the session alive while no read is pending (its handler holds the
    // reference, on the strand), and bounds the wait for a store that never answers.
    login_timer_.expires_after(shared_->config.limits.login_timeout);
    login_timer_.async_wait([self = this->shared_from_this(), seq, id, t0](beast::error_code ec) {
      if (ec || !self->login_pending_ || self->login_seq_ != seq) return;
      self->login_failed(id, Error{"UNAVAILABLE", "the login could not be checked in time; retry"},
                         t0);
      self->end_login();
    });
    const std::string nonce = login.nonce;
    shared_->nonces->record_async(nonce, wall, nonce_answer(seq, id, std::move(login), t0));
  }

  // The nonce store's answer, from any thread: posted to the strand with the reference it
  // locks, which is released there.
  NonceStore::Done nonce_answer(std::uint64_t seq, json::value id, LoginParams login,
                                Clock::time_point t0) {
    return [weak = this->weak_from_this(), seq, id = std::move(id), login = std::move(login),
            t0](NonceStore::Outcome outcome) mutable {
      auto session = weak.lock();
      if (!session) return;
      auto ex = session->strand_;
      net::post(ex, [self = std::move(session), seq, id = std::move(id), login = std::move(login),
                     outcome, t0] { self->on_nonce(seq, id, login, outcome, t0); });
    };
  }

  void on_nonce(std::uint64_t seq, const json::value& id, const LoginParams& login,
                NonceStore::Outcome outcome, Clock::time_point t0) {
    if (!login_pending_ || login_seq_ != seq) return;  // timed out before
    complete_login(id, login, outcome, t0);
    end_login();
  }

  void login_failed(const json::value& id, const Error& e, Clock::time_point t0) {
    shared_->logins_failed.inc();  // a failed re-login keeps the current principal
    reply(id, make_error(e.code, e.message), t0);
  }

  void end_login() {
    IPX_ASSERT(login_pending_ && inflight_ > 0);
    login_pending_ = false;
    login_ts_error_.reset();
    --inflight_;
    login_timer_.cancel();
    maybe_finish_drain();
    if (!close_started_) do_read();  // the frames after the login, in order
  }

  void complete_login(const json::value& id, const LoginParams& login, NonceStore::Outcome outcome,
                      Clock::time_point t0) {
    if (login_ts_error_) return login_failed(id, *login_ts_error_, t0);
    if (auto e = nonce_error(outcome)) return login_failed(id, *e, t0);
    auto verified = check_login_signature(login, shared_->app);
    if (auto* e = std::get_if<Error>(&verified)) return login_failed(id, *e, t0);
    shared_->logins_ok.inc();
    Principal p = std::move(std::get<Principal>(verified));
    if (principal_.authenticated() && principal_.participant_id != p.participant_id) {
      drop_subscriptions();  // they were authorised for the previous participant
    }
    principal_ = std::move(p);
    json::array roles;
    for (auto& r : role_names(principal_.roles)) roles.emplace_back(r);
    json::object result;
    result["participant_id"] = principal_.participant_id;
    result["kind"] = principal_.kind;
    result["roles"] = std::move(roles);
    reply(id, make_result(std::move(result)), t0);
  }

  void subscribe(const json::value& id, const json::value& params, Clock::time_point t0) {
    auto parsed = parse_channels(params, shared_->config.limits);
    if (auto* e = std::get_if<Error>(&parsed)) return reply(id, make_error(e->code, e->message), t0);
    const auto& channels = std::get<std::vector<std::string>>(parsed);
    std::vector<std::string> topics;
    topics.reserve(channels.size());
    std::size_t added = 0;
    // PROTOCOL "Edges and precedence" for the request as a whole, whatever the channels'
    // order: a malformed channel (BAD_REQUEST) before one the role may not use (FORBIDDEN)
    // before one that does not exist or is not the caller's (NOT_FOUND); the first of that
    // kind in the list gives the message. Nothing is subscribed.
    std::optional<Error> refused;
    auto rank = [](const std::string& code) {
      return code == "BAD_REQUEST" ? 0 : code == "FORBIDDEN" ? 1 : code == "NOT_FOUND" ? 2 : 3;
    };
    std::vector<ChannelAccess> decided;
    decided.reserve(channels.size());
    for (const auto& c : channels) {
      decided.push_back(shared_->app.authorize_channel(principal_, c));
      const auto& e = decided.back().error;
      if (e && (!refused || rank(e->code) < rank(refused->code))) refused = e;
    }
    if (refused) return reply(id, make_error(refused->code, refused->message), t0);
    for (std::size_t i = 0; i < channels.size(); ++i) {
      const std::string& c = channels[i];
      ChannelAccess& access = decided[i];
      IPX_ASSERT(!access.topic.empty());
      IPX_ASSERT(Hub::wire_name(access.topic) == c);
      topics.push_back(std::move(access.topic));
      if (!subs_.contains(c)) ++added;
    }
    if (subs_.size() + added > shared_->config.limits.subscriptions_per_session_max) {
      return reply(id, make_error("BAD_REQUEST", "params.channels: too many subscriptions"), t0);
    }
    json::array echoed;
    for (const auto& c : channels) echoed.emplace_back(c);
    json::object result;
    result["channels"] = std::move(echoed);
    reply(id, make_result(std::move(result)), t0);  // queued before any snapshot push
    for (std::size_t i = 0; i < channels.size(); ++i) {
      auto it = subs_.find(channels[i]);
      if (it != subs_.end()) {
        live_tokens_.erase(it->second.token);
        if (it->second.topic != topics[i]) shared_->hub.unsubscribe(it->second.topic, id_);
      }
      // The snapshot push is posted to this strand under the topic lock.
      const std::uint64_t token = shared_->hub.subscribe(topics[i], id_, this->weak_from_this());
      live_tokens_.insert(token);
      subs_[channels[i]] = Subscription{topics[i], token};
    }
  }

  void unsubscribe(const json::value& id, const json::value& params, Clock::time_point t0) {
    auto parsed = parse_channels(params, shared_->config.limits);
    if (auto* e = std::get_if<Error>(&parsed)) return reply(id, make_error(e->code, e->message), t0);
    json::array echoed;
    for (const auto& c : std::get<std::vector<std::string>>(parsed)) {
      auto it = subs_.find(c);
      if (it != subs_.end()) {
        shared_->hub.unsubscribe(it->second.topic, id_);
        live_tokens_.erase(it->second.token);
        subs_.erase(it);
      }
      echoed.emplace_back(c);
    }
    json::object result;
    result["channels"] = std::move(echoed);
    reply(id, make_result(std::move(result)), t0);
  }

  void drop_subscriptions() {
    for (const auto& [channel, sub] : subs_) shared_->hub.unsubscribe(sub.topic, id_);
    subs_.clear();
    live_tokens_.clear();
  }

  void reply(const json::value& id, const json::object& body, Clock::time_point t0) {
    std::string text;
    append_json(text, body);
    reply_text(id, text, t0);
  }

  void reply_text(const json::value& id, std::string_view body_json, Clock::time_point t0) {
    send(reply_frame(id, body_json));
    shared_->latency.observe(std::chrono::duration<double>(Clock::now() - t0).count());
  }

  // The outbound application queue, capped at limits.outbound_queue_bytes_max.
  void send(Frame frame) {
    if (close_started_) return;
    if (queued_bytes_ + frame->size() > shared_->config.limits.outbound_queue_bytes_max) {
      shared_->slow_consumers.inc();
      start_close(close_slow_consumer, "slow consumer");
      return;
    }
    queued_bytes_ += frame->size();
    queue_.push_back(std::move(frame));
    if (!writing_) do_write();
  }

  void do_write() {
    IPX_ASSERT(!queue_.empty() && !writing_);
    writing_ = true;
    ws_.text(true);
    ws_.async_write(net::buffer(*queue_.front()),
                    beast::bind_front_handler(&WsSession::on_write, this->shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t bytes) {
    writing_ = false;
    IPX_ASSERT(!queue_.empty());
    queued_bytes_ -= queue_.front()->size();
    queue_.pop_front();
    if (ec) return;  // the read side sees the failure and ends the session
    shared_->messages_out.inc();
    shared_->bytes_out.inc(bytes);
    if (close_started_) return;
    if (!queue_.empty()) {
      do_write();
    } else {
      maybe_finish_drain();
    }
  }

  void maybe_finish_drain() {
    if (draining_ && !close_started_ && inflight_ == 0 && queue_.empty() && id_ != 0) {
      start_close(websocket::close_code::going_away, "server shutting down");
    }
  }

  // Drops what is queued but not yet being written, sends the close frame once the write
  // in progress (if any) is done, and cuts the TCP connection if the peer does not take
  // the close in time (a slow consumer may never read again).
  void start_close(std::uint16_t code, std::string_view reason) {
    if (close_started_) return;
    close_started_ = true;
    while (queue_.size() > (writing_ ? 1u : 0u)) {
      queued_bytes_ -= queue_.back()->size();
      queue_.pop_back();
    }
    drop_subscriptions();
    const auto timeout = code == close_slow_consumer
                             ? shared_->config.limits.slow_consumer_close_timeout
                             : shared_->config.limits.handshake_timeout;
    close_timer_.expires_after(timeout);
    close_timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return;  // cancelled: the close completed
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    });
    websocket::close_reason why;
    why.code = code;
    why.reason.assign(reason.data(), reason.size());
    ws_.async_close(why,
                    [self = this->shared_from_this()](beast::error_code) {
                      self->close_timer_.cancel();
                    });
  }

  std::shared_ptr<Shared> shared_;
  websocket::stream<Stream> ws_;
  const Executor strand_;  // ws_'s: read from other threads, so kept apart
  ConnectionSlot slot_;
  net::steady_timer close_timer_;
  net::steady_timer login_timer_;
  beast::flat_buffer buffer_;
  TokenBucket bucket_;
  std::uint64_t id_ = 0;  // registry id, set once the handshake succeeded
  Principal principal_;
  std::deque<Frame> queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool close_started_ = false;
  bool draining_ = false;
  bool login_pending_ = false;   // an auth.login waits for its nonce check: reads are paused
  std::optional<Error> login_ts_error_;  // the pending login's ts refusal, sent after its nonce
  std::uint64_t login_seq_ = 0;  // the latest login's number: a late answer for another is dropped
  std::size_t inflight_ = 0;  // requests handed to the application (or a login), not yet answered
  std::unordered_map<std::string, Subscription> subs_;  // by channel as the client named it
  std::unordered_set<std::uint64_t> live_tokens_;
};

template <class Stream>
class HttpSession final : public SessionBase,
                          public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(std::shared_ptr<Shared> shared, Stream&& stream, ConnectionSlot slot,
              Shared::Admission admission)
      : shared_(std::move(shared)),
        stream_(std::move(stream)),
        strand_(stream_.get_executor()),
        slot_(std::move(slot)),
        admission_(admission),
        route_timer_(strand_) {}

  ~HttpSession() override {
    if (id_ != 0) shared_->leave(id_);
  }

  // From the acceptor's strand: the caller's reference goes to the session's strand.
  static void run(std::shared_ptr<HttpSession> session) {
    HttpSession& s = *session;
    s.id_ = s.shared_->enroll(session);
    net::dispatch(s.strand_, [self = std::move(session)] { self->start(); });
  }

  void shutdown(std::shared_ptr<SessionBase> self) override {
    IPX_ASSERT(self.get() == static_cast<SessionBase*>(this));
    net::post(strand_, [s = std::static_pointer_cast<HttpSession>(std::move(self))] {
      s->draining_ = true;
      if (!s->writing_ && !s->upgraded_) beast::get_lowest_layer(s->stream_).cancel();
    });
  }

 private:
  void start() {
    beast::get_lowest_layer(stream_).expires_after(shared_->config.limits.handshake_timeout);
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      stream_.async_handshake(ssl::stream_base::server,
                              beast::bind_front_handler(&HttpSession::on_handshake, this->shared_from_this()));
    } else {
      do_read();
    }
  }

  void on_handshake(beast::error_code ec) {
    if (ec) return;
    do_read();
  }

  void do_read() {
    if (draining_) return do_close();  // shutdown() ran: the drain notice is over
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_->config.limits.http_header_bytes_max));
    parser_->body_limit(shared_->config.limits.http_body_bytes_max);
    beast::get_lowest_layer(stream_).expires_after(shared_->config.limits.handshake_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::on_read, this->shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return do_close();
    if (ec) return;
    auto req = parser_->release();
    if (admission_ != Shared::Admission::ok) {
      shared_->refused.inc();
      const bool per_address = admission_ == Shared::Admission::per_address;
      auto res = make_response(req,
                               per_address ? http::status::too_many_requests
                                           : http::status::service_unavailable,
                               "application/json",
                               json_error_body(per_address ? "RATE_LIMITED" : "UNAVAILABLE",
                                               per_address ? "too many connections from this address"
                                                           : "too many connections"));
      res.keep_alive(false);
      return write(std::move(res));
    }
    if (websocket::is_upgrade(req) && shared_->draining.load()) {
      auto res = make_response(req, http::status::service_unavailable, "application/json",
                               json_error_body("UNAVAILABLE", "the server is shutting down"));
      res.keep_alive(false);
      return write(std::move(res));
    }
    if (websocket::is_upgrade(req) && req.target() == "/v1/ws") {
      beast::get_lowest_layer(stream_).expires_never();
      upgraded_ = true;  // stream_ is moved out: nothing here touches it again
      std::make_shared<WsSession<Stream>>(shared_, std::move(stream_), std::move(slot_))
          ->run(std::move(req));
      return;
    }
    HttpAnswer answer = handle_http(*shared_, req);
    if (answer.async_route != nullptr) return start_async(*answer.async_route, req);
    if (shared_->draining.load()) answer.response->keep_alive(false);
    write(std::move(*answer.response));
  }

  // An asynchronous route: no read is pending meanwhile; the timer keeps the session alive
  // (its handler holds the reference, on the strand) and bounds the wait.
  void start_async(const AsyncRouteHandler& route, const http::request<http::string_body>& req) {
    const std::uint64_t seq = ++route_seq_;
    waiting_ = true;
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    route_timer_.expires_after(shared_->config.limits.http_route_timeout);
    route_timer_.async_wait([self = this->shared_from_this(), seq](beast::error_code ec) {
      if (ec) return;
      self->respond(seq,
                    HttpResponse{503, "application/json",
                                 json_error_body("UNAVAILABLE", "no answer in time; retry later")});
    });
    auto state = std::make_shared<RouteState>(this->weak_from_this(), seq);
    route(req.target(), [state](HttpResponse r) { state->deliver(std::move(r)); });
  }

  void respond(std::uint64_t seq, HttpResponse r) {  // on the strand
    if (!waiting_ || seq != route_seq_) return;      // answered already (or timed out)
    waiting_ = false;
    route_timer_.cancel();
    auto res = make_response(version_, keep_alive_ && !shared_->draining.load(),
                             static_cast<http::status>(r.status), std::move(r.content_type),
                             std::move(r.body));
    write(std::move(res));
  }

  // Shared by the copies of one RouteResponder: the first call answers; none at all: 503.
  struct RouteState {
    RouteState(std::weak_ptr<HttpSession> s, std::uint64_t n) : session(std::move(s)), seq(n) {}
    ~RouteState() {
      if (!done.load()) {
        deliver(HttpResponse{503, "application/json", json_error_body("UNAVAILABLE", "no answer")});
      }
    }
    void deliver(HttpResponse r) {
      if (done.exchange(true)) return;
      auto s = session.lock();
      if (!s) return;
      auto ex = s->strand_;  // the reference goes with the handler, released on the strand
      net::post(ex, [self = std::move(s), seq = seq, r = std::move(r)]() mutable {
        self->respond(seq, std::move(r));
      });
    }
    std::weak_ptr<HttpSession> session;
    std::uint64_t seq;
    std::atomic<bool> done{false};
  };

  void write(http::response<http::string_body> res) {
    auto sp = std::make_shared<http::response<http::string_body>>(std::move(res));
    writing_ = true;
    http::async_write(stream_, *sp,
                      [self = this->shared_from_this(), sp](beast::error_code ec, std::size_t) {
                        self->writing_ = false;
                        if (ec) return;
                        if (!sp->keep_alive()) return self->do_close();
                        self->do_read();
                      });
  }

  void do_close() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
  }

  std::shared_ptr<Shared> shared_;
  Stream stream_;
  const Executor strand_;  // stream_'s: read from other threads, so kept apart
  ConnectionSlot slot_;
  Shared::Admission admission_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::uint64_t id_ = 0;
  bool writing_ = false;
  bool draining_ = false;
  bool upgraded_ = false;
  // An asynchronous route's request being answered (no read pending meanwhile).
  net::steady_timer route_timer_;
  bool waiting_ = false;
  std::uint64_t route_seq_ = 0;
  unsigned version_ = 11;
  bool keep_alive_ = false;
};

}  // namespace

// ---------------------------------------------------------------------------------------
// Server

// Threads: one io_context per I/O thread (concurrency hint 1), each connection on one of them
// (round robin at accept). A connection's handlers all run on its context's one thread, so
// that executor is the connection's strand: no strand object, no lock per handler, and the
// completion of an operation started on that thread is run without the scheduler's lock.
// Other threads (the engine's post-commit thread, the hub's publishers, Redis) post to it.
// The acceptor, the signals and the drain timer live on the first context.
struct Server::Impl {
  Impl(Application& app, ServerConfig config)
      : shared(std::make_shared<Shared>(app, std::move(config))),
        ssl_ctx(ssl::context::tls_server),
        contexts(make_contexts(shared->config.threads)),
        acceptor(*contexts.front()),
        signals(*contexts.front()),
        drain_timer(*contexts.front()) {
    // Every context runs until the drain is over, sessions or not.
    for (auto& c : contexts) guards.emplace_back(c->get_executor());
  }

  static std::vector<std::unique_ptr<net::io_context>> make_contexts(unsigned n) {
    IPX_ASSERT(n > 0);
    std::vector<std::unique_ptr<net::io_context>> out;
    for (unsigned i = 0; i < n; ++i) out.push_back(std::make_unique<net::io_context>(1));
    return out;
  }

  net::io_context& next_context() {
    const std::size_t i = next_context_index++ % contexts.size();  // the acceptor's thread only
    return *contexts[i];
  }

  void stop_all() {
    for (auto& c : contexts) c->stop();
  }

  // The drain is over (or there was nothing to drain): the contexts may run out of work.
  void finish() {  // on the first context
    drain_timer.cancel();
    guards.clear();
  }

  void accept() {
    acceptor.async_accept(next_context().get_executor(), [this](beast::error_code ec, Socket s) {
      if (ec) {
        if (!acceptor.is_open() || ec == net::error::operation_aborted) return;
        std::fprintf(stderr, "ipx gateway: accept: %s\n", ec.message().c_str());
      } else {
        on_accept(std::move(s));
      }
      accept();  // until close_sessions() closes the acceptor (after the drain notice)
    });
  }

  void on_accept(Socket socket) {
    beast::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    if (ec) return;
    // Replies are small and latency-bound: no Nagle delay (with delayed ACKs it costs ~40 ms
    // on every reply written in more than one segment).
    socket.set_option(tcp::no_delay(true), ec);
    std::string address = remote.address().to_string();
    const auto admission = shared->admit(address);
    ConnectionSlot slot;
    if (admission == Shared::Admission::ok) slot = ConnectionSlot(shared, std::move(address));
    if (tls) {
      HttpSession<TlsStream>::run(std::make_shared<HttpSession<TlsStream>>(
          shared, TlsStream(std::move(socket), ssl_ctx), std::move(slot), admission));
    } else {
      HttpSession<PlainStream>::run(std::make_shared<HttpSession<PlainStream>>(
          shared, PlainStream(std::move(socket)), std::move(slot), admission));
    }
  }

  // Phase 1 (drain_notice): /readyz says 503 while we still serve, so load balancers
  // move away. Phase 2: stop accepting, close sessions once their replies are out.
  void begin_drain() {  // on the acceptor's strand
    const auto notice = shared->config.limits.drain_notice;
    if (notice.count() > 0) {
      drain_timer.expires_after(notice);
      drain_timer.async_wait([this](beast::error_code) { close_sessions(); });
    } else {
      close_sessions();
    }
  }

  void close_sessions() {  // on the acceptor's strand
    beast::error_code ec;
    acceptor.close(ec);
    signals.cancel(ec);
    std::vector<std::shared_ptr<SessionBase>> live;
    bool none_left = false;
    {
      std::lock_guard lock(shared->mu);
      shared->on_drained = [this] { net::post(drain_timer.get_executor(), [this] { finish(); }); };
      for (auto& [id, weak] : shared->sessions) {
        if (auto s = weak.lock()) live.push_back(std::move(s));
      }
      none_left = shared->sessions.empty();
    }
    for (auto& s : live) {
      SessionBase& session = *s;
      session.shutdown(std::move(s));  // the reference ends on the session's strand
    }
    if (none_left) return finish();
    drain_timer.expires_after(shared->config.limits.drain_timeout);
    drain_timer.async_wait([this](beast::error_code e) {
      if (!e) stop_all();  // in-flight work did not finish in time
    });
  }

  std::shared_ptr<Shared> shared;
  ssl::context ssl_ctx;  // declared before the contexts: outlives every session
  bool tls = false;
  std::vector<std::unique_ptr<net::io_context>> contexts;  // one per I/O thread
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
  std::size_t next_context_index = 0;
  tcp::acceptor acceptor;
  net::signal_set signals;
  net::steady_timer drain_timer;
  bool started = false;
};

Server::Server(Application& app, ServerConfig config)
    : impl_(std::make_unique<Impl>(app, std::move(config))) {
  const auto& c = impl_->shared->config;
  IPX_ASSERT(c.threads > 0);
  IPX_ASSERT(c.tls_cert_file.empty() == c.tls_key_file.empty());
}

Server::~Server() {
  {
    std::lock_guard lock(impl_->shared->mu);
    impl_->shared->on_drained = nullptr;  // the drain timer is about to go
  }
  impl_->stop_all();
  // Sessions (and their sockets) go with the io_context's pending handlers.
}

void Server::add_route(std::string path_prefix, RouteHandler handler) {
  IPX_ASSERT(!impl_->started);
  IPX_ASSERT(!path_prefix.empty() && path_prefix.front() == '/');
  IPX_ASSERT(handler);
  impl_->shared->routes.push_back({std::move(path_prefix), std::move(handler), {}});
}

void Server::add_async_route(std::string path_prefix, AsyncRouteHandler handler) {
  IPX_ASSERT(!impl_->started);
  IPX_ASSERT(!path_prefix.empty() && path_prefix.front() == '/');
  IPX_ASSERT(handler);
  impl_->shared->routes.push_back({std::move(path_prefix), {}, std::move(handler)});
}

void Server::start() {
  IPX_ASSERT(!impl_->started);
  auto& c = impl_->shared->config;
  try {
    if (!c.tls_cert_file.empty()) {
      auto& ctx = impl_->ssl_ctx;
      ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                      ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
      ctx.use_certificate_chain_file(c.tls_cert_file);
      ctx.use_private_key_file(c.tls_key_file, ssl::context::pem);
      impl_->tls = true;
    }
    const tcp::endpoint endpoint(net::ip::make_address(c.listen_host), c.listen_port);
    auto& a = impl_->acceptor;
    a.open(endpoint.protocol());
    a.set_option(net::socket_base::reuse_address(true));
    a.bind(endpoint);
    a.listen(net::socket_base::max_listen_connections);
  } catch (const std::exception& e) {
    throw std::runtime_error("gateway: cannot listen on " + c.listen_host + ":" +
                             std::to_string(c.listen_port) + ": " + e.what());
  }
  impl_->started = true;
  impl_->accept();
  if (c.handle_signals) {
    impl_->signals.add(SIGINT);
    impl_->signals.add(SIGTERM);
    impl_->signals.async_wait([this](beast::error_code ec, int) {
      if (!ec) drain();
    });
  }
}

std::uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }
bool Server::tls() const noexcept { return impl_->tls; }
bool Server::draining() const noexcept { return impl_->shared->draining.load(); }
Hub& Server::hub() noexcept { return impl_->shared->hub; }
Metrics& Server::metrics() noexcept { return impl_->shared->metrics; }

void Server::run() {
  if (!impl_->started) start();
  auto loop = [](net::io_context& ioc) {
    for (;;) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "ipx gateway: handler threw: %s\n", e.what());
      }
    }
  };
  auto& contexts = impl_->contexts;
  std::vector<std::thread> threads;
  threads.reserve(contexts.size() - 1);
  for (std::size_t i = 1; i < contexts.size(); ++i)
    threads.emplace_back(loop, std::ref(*contexts[i]));
  loop(*contexts.front());
  for (auto& t : threads) t.join();
}

void Server::drain() {
  if (impl_->shared->draining.exchange(true)) return;
  net::post(impl_->acceptor.get_executor(), [this] { impl_->begin_drain(); });
}

}  // namespace ipx::gateway
