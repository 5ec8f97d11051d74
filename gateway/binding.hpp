#pragma once
// The engine binding: implements the gateway's Application with the engine behind it.
// - handle(): method lookup, strict params (the one codec), role check, then a typed Command
//   on the engine's queue; the reply leaves from the engine's post-commit path.
// - Publisher: after each committed batch, pushes go to the hub in commit order, and the
//   binding's channel cache (what a new subscriber's snapshot shows) is updated under the
//   same topic lock, so a snapshot always agrees with the channel's seq.
// - Credentials of created participants become usable for login once committed.
#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <map>
#include <set>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <variant>

#include "engine/engine.hpp"
#include "gateway/application.hpp"
#include "gateway/auth.hpp"
#include "gateway/config.hpp"
#include "gateway/hub.hpp"

namespace ipx::gateway {

class NonceStore;

// A channel's snapshot data, shared (never copied) between the binding's cache, the hub and
// the Redis publisher; replaced, not changed, when the channel's state changes.
using SharedSnapshot = std::shared_ptr<const boost::json::value>;

struct BindingOptions {
  std::string admin_key, admin_secret;
  std::size_t trades_snapshot_max = 50;  // trades.<m> snapshot: the last N trades
  // GET /v1/reports/disposals: its signed-request check (share the server's nonce store so
  // a nonce is used once across WebSocket logins and HTTP requests) and its engine wait.
  std::shared_ptr<NonceStore> http_nonces;  // empty: a store of the binding's own
  Limits http_limits;                        // login_skew_ms, nonce_ttl_ms, nonce_store_max
};

// Publishes every public channel push somewhere else too (Redis Streams for edge gateways).
// Called on the binding's post-commit thread; must only queue.
class PushSink {
 public:
  virtual ~PushSink() = default;
  // The push's frame, the same text the hub sends to subscribers, and its ts (engine time).
  virtual void public_push(const std::string& channel, const Frame& frame, std::int64_t ts_ms) = 0;
  // The channel's snapshot data as of seq (what a new subscriber gets): called just before
  // public_push for the same push, and with seq 0 at attach() for channels with no push yet.
  // The same pointer as for the previous push means the state did not change.
  virtual void public_snapshot(const std::string& /*channel*/, std::uint64_t /*seq*/,
                               SharedSnapshot /*data*/) {}
  // Every login credential: at attach() for the known ones, then as participants are created.
  virtual void credential(const std::string& /*key*/, const Credential& /*credential*/) {}
  // Engine time and whether it is a manual clock: at start, then as a manual clock moves.
  virtual void clock(std::int64_t /*now_ms*/, bool /*manual*/) {}
};

// The read-only public views (docs/protocol.md "Transport"), answered from channel snapshot
// data: GET /v1/auctions ({"auctions": [...]}, each as auction.get), /v1/auctions/<id>,
// /v1/markets/<id>/book; 404 NOT_FOUND for an unknown one. Served by the main (Binding) and
// by an edge (EdgeApp) alike.
struct PublicViews {
  // The snapshot data of "auction.<id>" or "book.<market_id>", or null when unknown.
  std::function<boost::json::value(const std::string& channel)> channel;
  // Every auction's snapshot data, in channel-name order.
  std::function<boost::json::array()> auctions;
};
HttpResponse public_view(std::string_view target, const PublicViews& views);

class Binding final : public Application, public engine::Publisher {
 public:
  explicit Binding(BindingOptions options);

  void attach(engine::Engine* engine, Hub* hub, PushSink* sink = nullptr);

  // Application
  std::optional<Credential> find_key(std::string_view key) const override;
  void handle(const Principal& principal, RequestCtx ctx) override;
  bool ready() const override;
  ChannelAccess authorize_channel(const Principal& principal, std::string_view channel) override;
  boost::json::value snapshot(std::string_view topic) override;
  std::int64_t manual_time_ms() override;

  // engine::Publisher
  void publish(engine::Push& push) override;
  void credentials(const std::vector<engine::Credential>& created) override;
  void seed(const std::string& channel, const boost::json::value& snapshot) override;
  void clock(std::int64_t now_ms, bool manual) override;

  // Read-only HTTP views (JSON): /v1/auctions, /v1/auctions/<id>, /v1/markets/<id>/book.
  HttpResponse http_view(std::string_view target) const;

  // GET /v1/reports/disposals[?format=csv&from=&to=&region=&bank=] signed like auth.login
  // with the query fields key, ts, nonce, sig (see docs/dashboard.md). An asynchronous
  // route (Server::add_async_route): the nonce check and report.disposals, run through the
  // engine queue as that participant, answer later; nothing waits on the I/O thread.
  void report_view(std::string_view target, RouteResponder respond);

 private:
  struct ReportRequest {
    LoginParams login;
    std::int64_t wall_ms = 0;
    std::string format;  // json or csv
    boost::json::object params;
    std::optional<Error> ts_error;  // sent once the nonce is recorded (as auth.login)
  };
  std::variant<ReportRequest, HttpResponse> check_report_request(std::string_view target) const;
  void run_report(const Principal& principal, const ReportRequest& request,
                  const RouteResponder& respond);

  static std::string topic_of(const std::string& channel);
  SharedSnapshot cached(const std::string& topic) const;  // null when unknown
  SharedSnapshot shared_snapshot(const std::string& topic);

  BindingOptions options_;
  engine::Engine* engine_ = nullptr;
  Hub* hub_ = nullptr;
  PushSink* sink_ = nullptr;
  std::shared_ptr<NonceStore> http_nonces_;

  mutable std::shared_mutex keys_mu_;
  std::unordered_map<std::string, Credential> keys_;

  std::mutex clock_mu_;
  std::int64_t clock_ms_ = -1;  // the last engine time passed to the sink
  bool manual_clock_ = false;

  mutable std::shared_mutex cache_mu_;
  std::map<std::string, SharedSnapshot, std::less<>> cache_;  // topic -> snapshot data
  std::map<std::string, std::deque<boost::json::value>, std::less<>> trades_;
  // trades.<market> channels given to the sink with no push yet (the post-commit thread's).
  std::set<std::string> announced_trades_;
};

}  // namespace ipx::gateway
