#pragma once
// The subscriptions hub: per-topic sequence numbers, snapshot consistency and fan-out.
//
// publish() and subscribe() on one topic are serialised by the topic's mutex; under it
// publish runs the application's update function, takes the next seq and hands the push to
// every subscriber, and subscribe builds the snapshot (Application::snapshot) and hands it
// to the new subscriber. A subscriber therefore sees the snapshot at seq N and then N+1,
// N+2, ... with no gap and no duplicate. Each push is serialised once and the one buffer is
// shared by all subscribers (5,000 subscribers: one serialisation, 5,000 pointer copies).
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/json/value.hpp>

namespace ipx::gateway {

// JSON text made elsewhere (an engine push's data written as text), appended as it is.
struct JsonText {
  std::string_view text;
};
inline void append_json(std::string& out, JsonText t) { out += t.text; }

class Metrics;
class Counter;
class Gauge;

using Frame = std::shared_ptr<const std::string>;

// A session as the hub sees it. push() is called under the topic lock, in seq order, from
// any thread; it must only queue (post to the session's strand), never block.
//
// The hub keeps weak references only. For each push it locks one and hands it over: `self`
// (== this) must be moved into what push() queues and so be released on the subscriber's own
// strand. It may be the last reference (the session closed meanwhile), and a session must be
// destroyed on its strand, never on the publishing thread (nor under the topic lock, which
// its destructor takes to unsubscribe).
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  // token: the one from subscribe(); a session drops pushes for tokens it no longer holds.
  virtual void push(std::shared_ptr<Subscriber> self, std::uint64_t token, Frame frame) = 0;
};

class Hub {
 public:
  // Builds a topic's snapshot data; called under the topic lock.
  using SnapshotFn = std::function<boost::json::value(std::string_view topic)>;
  using WallClockFn = std::function<std::int64_t()>;

  Hub(SnapshotFn snapshot, WallClockFn wall_clock_ms, Metrics& metrics);
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // From any thread (the engine binding calls it from its one post-commit thread, in
  // commit order). Under the topic lock: update() (may be empty) runs, seq becomes seq+1,
  // and {"channel","seq","type","ts","data"} goes to every subscriber. Returns the seq.
  // frame_out: when given, the push's frame is built even with no subscriber and returned
  // there (the binding hands the same text to Redis).
  std::uint64_t publish(std::string_view topic, std::string_view type, std::int64_t ts_ms,
                        const boost::json::value& data, const std::function<void()>& update = {},
                        Frame* frame_out = nullptr);
  // The same for an object (an engine push's data), which is not copied into a value.
  std::uint64_t publish(std::string_view topic, std::string_view type, std::int64_t ts_ms,
                        const boost::json::object& data, const std::function<void()>& update = {},
                        Frame* frame_out = nullptr);
  // The same for data already written as JSON text.
  std::uint64_t publish(std::string_view topic, std::string_view type, std::int64_t ts_ms,
                        JsonText data, const std::function<void()>& update = {},
                        Frame* frame_out = nullptr);

  // For a follower of another hub (the Redis edge): under the topic lock, update() runs and
  // the topic's seq becomes `seq` without a push, so the next publish() carries seq + 1.
  // Subscribers that see the jump re-subscribe (PROTOCOL.md "Channels").
  // `ts_ms` (when > 0): the engine time of the push at seq, which a snapshot push carries.
  void reset(std::string_view topic, std::uint64_t seq, const std::function<void()>& update = {},
             std::int64_t ts_ms = 0);

  // Adds (or replaces) a subscription and pushes {"type":"snapshot","seq":<current>} to the
  // subscriber, under the topic lock. Returns the token that tags this subscription.
  std::uint64_t subscribe(std::string_view topic, std::uint64_t subscriber_id,
                          std::weak_ptr<Subscriber> subscriber);
  void unsubscribe(std::string_view topic, std::uint64_t subscriber_id);

  std::uint64_t seq(std::string_view topic) const;      // 0 before the first publish
  std::size_t subscribers(std::string_view topic) const;

  // The channel name clients see for a topic: "private#P-7" → "private".
  static std::string_view wire_name(std::string_view topic) noexcept;

 private:
  struct Sub {
    std::uint64_t id;
    std::uint64_t token;
    std::weak_ptr<Subscriber> subscriber;
  };
  struct Topic {
    mutable std::mutex mu;
    std::uint64_t seq = 0;
    std::int64_t last_ts_ms = 0;
    std::vector<Sub> subs;
  };
  template <class Data>
  std::uint64_t publish_data(std::string_view topic, std::string_view type, std::int64_t ts_ms,
                             const Data& data, const std::function<void()>& update,
                             Frame* frame_out);
  Topic& topic(std::string_view name);              // created on first use, never removed
  const Topic* find(std::string_view name) const;

  SnapshotFn snapshot_;
  WallClockFn wall_clock_ms_;
  Counter& pushes_;
  Counter& frames_;
  Gauge& subscriptions_;
  std::atomic<std::uint64_t> next_token_{1};
  mutable std::mutex topics_mu_;
  std::unordered_map<std::string, std::unique_ptr<Topic>> topics_;
};

// One serialisation of a push frame, written from its parts (data is not copied).
Frame make_push(std::string_view channel, std::uint64_t seq, std::string_view type,
                std::int64_t ts_ms, const boost::json::value& data);
Frame make_push(std::string_view channel, std::uint64_t seq, std::string_view type,
                std::int64_t ts_ms, const boost::json::object& data);
Frame make_push(std::string_view channel, std::uint64_t seq, std::string_view type,
                std::int64_t ts_ms, JsonText data);

}  // namespace ipx::gateway
