#pragma once
// Test helpers for the gateway: a small echo-like Application, a server running on its
// own threads, and Beast WebSocket / HTTP clients with timeouts on every operation.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json.hpp>

#include "gateway/application.hpp"
#include "gateway/auth.hpp"
#include "gateway/hub.hpp"
#include "gateway/metrics.hpp"
#include "gateway/server.hpp"

namespace ipx::gateway::test {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

inline std::int64_t wall_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Credentials: k-admin/s-admin (P-1, admin), k-trader/s-trader (P-2, enterprise),
// k-fund/s-fund (P-3, risk_fund).
class TestApp final : public Application {
 public:
  std::optional<Credential> find_key(std::string_view key) const override {
    if (key == "k-admin") return Credential{"P-1", "admin", "s-admin"};
    if (key == "k-trader") return Credential{"P-2", "enterprise", "s-trader"};
    if (key == "k-fund") return Credential{"P-3", "risk_fund", "s-fund"};
    return std::nullopt;
  }

  void handle(const Principal& principal, RequestCtx ctx) override {
    if (ctx.method == "time.now") {
      json::object r;
      r["now"] = wall_now_ms();
      r["wall"] = wall_now_ms();
      return ctx.reply.result(std::move(r));
    }
    if (ctx.method == "test.echo") {
      json::object r;
      r["params"] = ctx.params;
      r["participant_id"] = principal.participant_id;
      return ctx.reply.result(std::move(r));
    }
    if (ctx.method == "test.defer") {  // answered later by the test, from its own thread
      std::lock_guard lock(mu_);
      deferred_.push_back(std::move(ctx.reply));
      return;
    }
    if (ctx.method == "test.drop") return;  // never answered: the gateway says INTERNAL
    ctx.reply.error("BAD_REQUEST", "unknown method: " + ctx.method);
  }

  bool ready() const override { return ready_.load(); }

  ChannelAccess authorize_channel(const Principal& principal, std::string_view channel) override {
    if (channel == "private") return ChannelAccess::allow("private#" + principal.participant_id);
    if (channel.starts_with("forbidden")) return ChannelAccess::deny("FORBIDDEN", "not yours");
    return ChannelAccess::allow(std::string(channel));
  }

  // Shadow state: how many updates each topic has had, kept by publish()'s update function.
  json::value snapshot(std::string_view topic) override {
    std::lock_guard lock(mu_);
    json::object o;
    o["topic"] = topic;
    o["count"] = counts_[std::string(topic)];
    return o;
  }
  std::function<void()> count_update(const std::string& topic) {
    return [this, topic] {
      std::lock_guard lock(mu_);
      ++counts_[topic];
    };
  }

  std::vector<Reply> take_deferred() {
    std::lock_guard lock(mu_);
    return std::exchange(deferred_, {});
  }

  std::atomic<bool> ready_{true};

 private:
  std::mutex mu_;
  std::map<std::string, std::int64_t> counts_;
  std::vector<Reply> deferred_;
};

// A server on 127.0.0.1:<ephemeral> running on its own thread.
class TestServer {
 public:
  explicit TestServer(TestApp& app, ServerConfig config = {}) {
    config.listen_host = "127.0.0.1";
    config.listen_port = 0;
    config.handle_signals = false;
    server_ = std::make_unique<Server>(app, std::move(config));
    server_->add_route("/v1/test/", [](std::string_view target) {
      return HttpResponse{200, "application/json", "{\"target\":\"" + std::string(target) + "\"}"};
    });
    server_->start();
    thread_ = std::thread([this] {
      server_->run();
      stopped_ = true;
    });
  }
  ~TestServer() {
    server_->drain();
    if (thread_.joinable()) thread_.join();
  }
  Server& operator*() { return *server_; }
  Server* operator->() { return server_.get(); }
  std::uint16_t port() const { return server_->port(); }
  // Waits for run() to return (after drain()).
  bool join_within(std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!stopped_.load() && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(10ms);
    }
    if (stopped_.load() && thread_.joinable()) thread_.join();
    return stopped_.load();
  }

 private:
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
};

struct HttpResult {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

inline HttpResult http_get(std::uint16_t port, const std::string& target) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.keep_alive(false);
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return {res.result_int(), std::string(res[http::field::content_type]), res.body()};
}

inline json::object login_params(const std::string& key, const std::string& secret,
                                 std::int64_t ts, const std::string& nonce) {
  json::object p;
  p["key"] = key;
  p["ts"] = ts;
  p["nonce"] = nonce;
  p["sig"] = hmac_sha256_hex(secret, login_message(key, ts, nonce));
  return p;
}

inline std::string fresh_nonce() {
  static std::atomic<std::uint64_t> n{0};
  return "nonce-" + std::to_string(wall_now_ms()) + "-" + std::to_string(n.fetch_add(1));
}

// A WebSocket client on its own io_context: every operation runs with a timeout.
template <class Stream>
class BasicWsClient {
 public:
  BasicWsClient() : ws_(make_stream()) {}
  explicit BasicWsClient(ssl::context& ctx) : ctx_(&ctx), ws_(make_stream()) {}

  // Connects and upgrades; false with the HTTP status in handshake_status() on refusal.
  bool connect(std::uint16_t port, const std::string& target = "/v1/ws") {
    auto& tcp_layer = beast::get_lowest_layer(ws_);
    beast::error_code ec;
    tcp_layer.socket().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    if (ec) return false;
    if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
      if (!run_op([&](auto h) { ws_.next_layer().async_handshake(ssl::stream_base::client, h); })) {
        return false;
      }
    }
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(http::field::user_agent, "ipx-test"); }));
    return run_op([&](auto h) { ws_.async_handshake(response_, "127.0.0.1", target, h); });
  }
  unsigned handshake_status() const { return response_.result_int(); }

  bool send(std::string_view text, bool binary = false) {
    ws_.binary(binary);
    return run_op([&](auto h) { ws_.async_write(net::buffer(text.data(), text.size()), h); });
  }
  bool send_json(const json::value& v) { return send(json::serialize(v)); }

  // The next frame, or nullopt on error/close (see error(), close_code()) or timeout.
  std::optional<std::string> read(std::chrono::milliseconds timeout = 5s) {
    if (!pending_) buffer_.clear();
    if (!run_op([&](auto h) { ws_.async_read(buffer_, h); }, timeout, /*resumable=*/true)) {
      return std::nullopt;
    }
    return beast::buffers_to_string(buffer_.data());
  }
  std::optional<json::object> read_json(std::chrono::milliseconds timeout = 5s) {
    auto s = read(timeout);
    if (!s) return std::nullopt;
    return json::parse(*s).as_object();
  }
  // Sends a request and reads frames until the reply with this id (pushes are kept).
  json::object call(json::value id, std::string_view method, json::value params = nullptr) {
    json::object req;
    req["id"] = id;
    req["method"] = method;
    if (!params.is_null()) req["params"] = params;
    EXPECT_TRUE(send_json(req));
    for (int i = 0; i < 10'000; ++i) {
      auto m = read_json();
      if (!m) {
        ADD_FAILURE() << "no reply to " << method << ": " << error_.message();
        return {};
      }
      if (m->contains("channel")) {
        pushes.push_back(*m);
        continue;
      }
      return *m;
    }
    return {};
  }
  json::object login(const std::string& key, const std::string& secret) {
    return call("login", "auth.login", login_params(key, secret, wall_now_ms(), fresh_nonce()));
  }
  // Reads until the connection fails; the close code the server sent, or 0 if none.
  std::uint16_t read_until_closed(std::chrono::milliseconds timeout = 5s,
                                  std::size_t* frames = nullptr) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (!read(std::chrono::duration_cast<std::chrono::milliseconds>(
              end - std::chrono::steady_clock::now()))) {
        return close_code();
      }
      if (frames) ++*frames;
    }
    return 0;
  }
  std::uint16_t close_code() const { return ws_.reason().code; }
  std::string close_reason() const {
    return std::string(ws_.reason().reason.data(), ws_.reason().reason.size());
  }
  beast::error_code error() const { return error_; }
  bool timed_out() const { return timed_out_; }
  websocket::stream<Stream>& stream() { return ws_; }

  std::vector<json::object> pushes;

 private:
  Stream make_stream() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      return Stream(ioc_);
    } else {
      return Stream(ioc_, *ctx_);
    }
  }

  struct Op {
    bool done = false;
    beast::error_code ec;
  };

  // Starts an operation, or resumes waiting for one abandoned by an earlier timeout (Beast
  // allows one read at a time, so a timed-out read is picked up again, not restarted).
  template <class Start>
  bool run_op(Start&& start, std::chrono::milliseconds timeout = 5s, bool resumable = false) {
    std::shared_ptr<Op> op;
    if (resumable && pending_ && !pending_->done) {
      op = pending_;
    } else {
      op = std::make_shared<Op>();
      start([op](beast::error_code ec, auto&&...) {
        op->done = true;
        op->ec = ec;
      });
    }
    timed_out_ = false;
    ioc_.restart();
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!op->done && std::chrono::steady_clock::now() < end) {
      ioc_.run_for(std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now()));
      if (ioc_.stopped()) ioc_.restart();
    }
    error_ = op->ec;
    if (!op->done) {
      timed_out_ = true;
      if (resumable) pending_ = op;
      return false;
    }
    if (pending_ == op) pending_.reset();
    return !error_;
  }

  std::shared_ptr<Op> pending_;
  net::io_context ioc_;
  ssl::context* ctx_ = nullptr;
  websocket::stream<Stream> ws_;
  beast::flat_buffer buffer_;
  websocket::response_type response_;
  beast::error_code error_;
  bool timed_out_ = false;
};

using WsClient = BasicWsClient<beast::tcp_stream>;
using WssClient = BasicWsClient<beast::ssl_stream<beast::tcp_stream>>;

inline std::string error_code_of(const json::object& reply) {
  const auto* e = reply.if_contains("error");
  if (e == nullptr || !e->is_object()) return "";
  return std::string(e->as_object().at("code").as_string());
}
inline std::string error_message_of(const json::object& reply) {
  const auto* e = reply.if_contains("error");
  if (e == nullptr || !e->is_object()) return "";
  return std::string(e->as_object().at("message").as_string());
}

}  // namespace ipx::gateway::test
