#pragma once
// Redis scale-out of connections (docs/gateway.md "Redis"): hiredis 0.14's blocking API, each
// connection owned by one dedicated thread, so nothing here blocks an Asio I/O thread or the
// engine's post-commit path (which only enqueues).
//
// - RedisPublisher (main ipxd, a PushSink): every public push is XADD'ed to the stream
//   ipx:ch:<channel> with the explicit id <seq>-0, field f = the frame and field s = the
//   channel's snapshot data after it; ipx:snap:<channel> = {"seq","data"}; ipx:channels
//   lists the channels; ipx:cred:<key> = {participant_id, kind, secret}.
// - RedisNonceStore (main and edge): SET ipx:nonce:<nonce> 1 NX PX <ttl>; falls back to the
//   in-memory store while Redis is down.
// - EdgeFollower + EdgeApp (ipxd --edge): a read-only gateway mirroring the public channels
//   from the streams into its own hub with the main's seq numbers.
//
// Back of the envelope: a book push is ~200 B of frame plus ~3 KB of snapshot (50 levels a
// side); 10,000 entries per stream ≈ 32 MB per busy book in Redis. At 5,000 pushes/s the
// publisher pipelines batches of up to 512 entries (~1.6 MB a round trip on loopback).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "gateway/application.hpp"
#include "gateway/auth.hpp"
#include "gateway/binding.hpp"

struct redisContext;

namespace ipx::gateway {

class Gauge;
class Counter;
class Hub;

struct RedisOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string prefix = "ipx:";                    // every key starts with it
  std::size_t stream_len_max = 10'000;            // XADD MAXLEN ~ per channel stream
  std::size_t queue_items_max = 65'536;           // publisher queue; full: the push is dropped
  std::size_t batch_items_max = 512;              // stream entries per pipelined round trip
  std::chrono::milliseconds connect_timeout{500};
  std::chrono::milliseconds command_timeout{2'000};
  std::chrono::milliseconds backoff_min{50};
  std::chrono::milliseconds backoff_max{1'000};
  std::chrono::milliseconds idle_ping{500};       // an idle publisher PINGs this often
  std::chrono::milliseconds nonce_wait{100};      // record() (blocking) waits at most this
  std::size_t nonce_batch_max = 1'024;            // SET NX per pipelined round trip
  std::int64_t nonce_ttl_ms = 300'000;            // PROTOCOL.md: 5 minutes
  std::chrono::milliseconds xread_block{200};     // edge: XREAD BLOCK
  std::size_t xread_count_max = 1'000;            // edge: entries per stream per XREAD
  std::size_t edge_channels_max = 10'000;         // edge: channels mirrored
};

// "HOST:PORT" → options.host/port; false if malformed.
bool parse_redis_address(const std::string& host_port, RedisOptions& options);

// A reply, copied out of hiredis.
struct RedisValue {
  enum class Kind { nil, string, status, error, integer, array } kind = Kind::nil;
  std::string str;
  long long integer = 0;
  std::vector<RedisValue> elements;
};

// One hiredis connection, used by one thread only. Reconnects with exponential backoff.
class RedisConn {
 public:
  RedisConn(const RedisOptions& options, Gauge* up);
  ~RedisConn();
  RedisConn(const RedisConn&) = delete;
  RedisConn& operator=(const RedisConn&) = delete;

  // Connects if needed; on failure waits the backoff (or until stop) and returns false.
  bool ensure(const std::atomic<bool>& stop);
  bool connected() const noexcept { return ctx_ != nullptr; }
  bool fresh() noexcept { return std::exchange(fresh_, false); }  // connected since last asked
  // Pipelines the commands and reads every reply; false (and disconnected) on I/O error.
  bool run(const std::vector<std::vector<std::string>>& commands, std::vector<RedisValue>& replies);
  void drop();

 private:
  const RedisOptions& options_;
  Gauge* up_;
  redisContext* ctx_ = nullptr;
  bool fresh_ = false;
  std::chrono::milliseconds backoff_;
};

// The main ipxd's sink. public_snapshot/public_push/credential only enqueue.
class RedisPublisher final : public PushSink {
 public:
  RedisPublisher(RedisOptions options, Gauge* up, Counter* dropped);
  ~RedisPublisher() override;
  void start();
  void stop();

  void public_snapshot(const std::string& channel, std::uint64_t seq, SharedSnapshot data) override;
  void public_push(const std::string& channel, const Frame& frame, std::int64_t ts_ms) override;
  void credential(const std::string& key, const Credential& credential) override;
  void clock(std::int64_t now_ms, bool manual) override;

 private:
  struct Item {
    std::string channel;
    std::uint64_t seq = 0;
    Frame frame;  // null: a snapshot only (a channel with no push yet)
    SharedSnapshot snapshot;
    std::int64_t ts_ms = 0;  // the push's engine time (0 with no push)
  };
  void loop();
  // Publisher thread only. written: per channel, the snapshot of the last entry written to
  // its stream with an "s" field; an entry whose snapshot is the same one goes without "s".
  std::vector<std::vector<std::string>> commands_for(
      std::deque<Item>& batch, std::map<std::string, std::string>& creds,
      std::map<std::string, SharedSnapshot>& written);

  const RedisOptions options_;
  Gauge* up_;
  Counter* dropped_;
  std::atomic<bool> stop_{false};
  std::thread thread_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  std::map<std::string, std::pair<std::uint64_t, SharedSnapshot>> latest_;  // every channel
  std::map<std::string, std::string> creds_;        // key -> JSON, every credential
  std::set<std::string> dirty_creds_;
  std::string clock_;  // ipx:clock's value, {"now","manual"}
  bool clock_dirty_ = false;
  bool resend_all_ = true;                          // after a (re)connect
  std::string pending_channel_;                     // public_snapshot → public_push
  std::uint64_t pending_seq_ = 0;
  SharedSnapshot pending_snapshot_;
};

// SET NX PX on a dedicated thread. Every nonce is also recorded in memory first, so a replay
// on this gateway is refused at once, and while Redis is down the memory store alone decides.
// record_async() (the WebSocket login) never waits: its answer comes from the Redis thread
// after the round trip (bounded by options.command_timeout: then the connection counts as
// down and the memory store's answer stands). record() (the signed HTTP report) waits for
// it at most options.nonce_wait.
class RedisNonceStore final : public NonceStore {
 public:
  RedisNonceStore(RedisOptions options, std::shared_ptr<NonceStore> memory, Gauge* up);
  ~RedisNonceStore() override;
  Outcome record(std::string_view nonce, std::int64_t now_ms) override;
  void record_async(std::string_view nonce, std::int64_t now_ms, Done done) override;

 private:
  struct Request {
    std::string nonce;
    Done done;  // fresh, or replayed when Redis already had it
  };
  void loop();

  const RedisOptions options_;
  std::shared_ptr<NonceStore> memory_;
  Gauge* up_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> connected_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Request> requests_;
  std::thread thread_;
};

// The edge's mirror of the public channels: topic -> snapshot data at the hub's seq, the
// replicated credentials, and the main's engine clock.
class EdgeApp final : public Application {
 public:
  EdgeApp() = default;
  std::optional<Credential> find_key(std::string_view key) const override;
  // time.now (engine time as the edge knows it, see docs/gateway.md "The edge"); every other
  // method is FORBIDDEN (read-only edge).
  void handle(const Principal& principal, RequestCtx ctx) override;
  bool ready() const override { return ready_.load(); }
  ChannelAccess authorize_channel(const Principal& principal, std::string_view channel) override;
  boost::json::value snapshot(std::string_view topic) override;
  std::int64_t manual_time_ms() override;
  // GET /v1/auctions, /v1/auctions/<id>, /v1/markets/<id>/book from the mirrored snapshots.
  HttpResponse http_view(std::string_view target) const;

  // From the follower thread.
  void set_ready(bool ready) { ready_.store(ready); }
  void set_credential(const std::string& key, Credential c);
  void set_snapshot(const std::string& channel, boost::json::value data);  // under the topic lock
  bool has_channel(const std::string& channel) const;
  // ipx:clock as the main wrote it, and the ts of each push the edge delivers.
  void set_main_clock(std::int64_t now_ms, bool manual);
  void saw_engine_time(std::int64_t ts_ms);
  void set_wall_clock(std::function<std::int64_t()> wall_ms) { wall_ms_ = std::move(wall_ms); }

 private:
  std::atomic<bool> ready_{false};
  std::function<std::int64_t()> wall_ms_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Credential> keys_;
  std::unordered_map<std::string, boost::json::value> cache_;
  bool clock_known_ = false;  // ipx:clock read at least once
  bool clock_manual_ = false;
  std::int64_t engine_ms_ = 0;  // the latest engine time seen (ipx:clock, push ts)
};

// Follows the streams on its own thread: channels from ipx:channels, each starting at its
// ipx:snap:<channel>, then XREAD BLOCK from the last seq delivered (also after a reconnect,
// so nothing is missed while the entries are still in the stream). A gap (entries trimmed or
// lost) reloads the snapshot: the hub's seq jumps and subscribers re-subscribe.
class EdgeFollower {
 public:
  EdgeFollower(RedisOptions options, EdgeApp& app, Hub& hub, Gauge* up);
  ~EdgeFollower();
  void start();
  void stop();
  // Called once when the main ipxd restarted (a new epoch): its seq numbers start again.
  void on_epoch_change(std::function<void()> fn) { on_epoch_change_ = std::move(fn); }

 private:
  struct Channel {
    std::uint64_t seq = 0;  // last seq installed in the hub
    bool loaded = false;
  };
  void loop();
  bool sync();   // epoch, credentials, new channels, resyncs
  bool read();   // one XREAD round
  bool load(const std::string& channel, Channel& ch);

  const RedisOptions options_;
  EdgeApp& app_;
  Hub& hub_;
  RedisConn conn_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::function<void()> on_epoch_change_;
  std::map<std::string, Channel> channels_;
  std::string epoch_;
  long long cred_version_ = -1;
};

}  // namespace ipx::gateway
