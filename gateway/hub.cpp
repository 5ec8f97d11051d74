#include "gateway/hub.hpp"

#include <algorithm>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "gateway/application.hpp"
#include "gateway/metrics.hpp"
#include "matching/assert.hpp"

namespace ipx::gateway {

namespace {

// The bytes of json::serialize({"channel","seq","type","ts","data"}).
template <class Data>
Frame push_frame(std::string_view channel, std::uint64_t seq, std::string_view type,
                 std::int64_t ts_ms, const Data& data) {
  std::string out;
  out.reserve(128 + channel.size() + type.size());
  out += "{\"channel\":";
  append_json_string(out, channel);
  out += ",\"seq\":";
  out += std::to_string(seq);
  out += ",\"type\":";
  append_json_string(out, type);
  out += ",\"ts\":";
  out += std::to_string(ts_ms);
  out += ",\"data\":";
  append_json(out, data);
  out += '}';
  return std::make_shared<const std::string>(std::move(out));
}

}  // namespace

Frame make_push(std::string_view channel, std::uint64_t seq, std::string_view type,
                std::int64_t ts_ms, const boost::json::value& data) {
  return push_frame(channel, seq, type, ts_ms, data);
}

Frame make_push(std::string_view channel, std::uint64_t seq, std::string_view type,
                std::int64_t ts_ms, const boost::json::object& data) {
  return push_frame(channel, seq, type, ts_ms, data);
}

Frame make_push(std::string_view channel, std::uint64_t seq, std::string_view type,
                std::int64_t ts_ms, JsonText data) {
  return push_frame(channel, seq, type, ts_ms, data);
}

Hub::Hub(SnapshotFn snapshot, WallClockFn wall_clock_ms, Metrics& metrics)
    : snapshot_(std::move(snapshot)),
      wall_clock_ms_(std::move(wall_clock_ms)),
      pushes_(metrics.counter("ipx_hub_publish_total", "Pushes published to hub topics")),
      frames_(metrics.counter("ipx_hub_frames_total",
                              "Push frames handed to subscribers (fan-out, snapshots included)")),
      subscriptions_(metrics.gauge("ipx_hub_subscriptions", "Live topic subscriptions")) {
  IPX_ASSERT(snapshot_);
  IPX_ASSERT(wall_clock_ms_);
}

std::string_view Hub::wire_name(std::string_view topic) noexcept {
  const auto hash = topic.find('#');
  return hash == std::string_view::npos ? topic : topic.substr(0, hash);
}

Hub::Topic& Hub::topic(std::string_view name) {
  std::lock_guard lock(topics_mu_);
  auto it = topics_.find(std::string(name));
  if (it == topics_.end()) {
    it = topics_.emplace(std::string(name), std::make_unique<Topic>()).first;
  }
  return *it->second;
}

const Hub::Topic* Hub::find(std::string_view name) const {
  std::lock_guard lock(topics_mu_);
  auto it = topics_.find(std::string(name));
  return it == topics_.end() ? nullptr : it->second.get();
}

void Hub::reset(std::string_view name, std::uint64_t seq, const std::function<void()>& update,
                std::int64_t ts_ms) {
  Topic& t = topic(name);
  std::lock_guard lock(t.mu);
  if (update) update();
  t.seq = seq;
  if (ts_ms > 0) t.last_ts_ms = ts_ms;
}

std::uint64_t Hub::publish(std::string_view name, std::string_view type, std::int64_t ts_ms,
                           const boost::json::value& data, const std::function<void()>& update,
                           Frame* frame_out) {
  return publish_data(name, type, ts_ms, data, update, frame_out);
}

std::uint64_t Hub::publish(std::string_view name, std::string_view type, std::int64_t ts_ms,
                           const boost::json::object& data, const std::function<void()>& update,
                           Frame* frame_out) {
  return publish_data(name, type, ts_ms, data, update, frame_out);
}

std::uint64_t Hub::publish(std::string_view name, std::string_view type, std::int64_t ts_ms,
                           JsonText data, const std::function<void()>& update, Frame* frame_out) {
  return publish_data(name, type, ts_ms, data, update, frame_out);
}

template <class Data>
std::uint64_t Hub::publish_data(std::string_view name, std::string_view type, std::int64_t ts_ms,
                                const Data& data, const std::function<void()>& update,
                                Frame* frame_out) {
  Topic& t = topic(name);
  std::lock_guard lock(t.mu);
  if (update) update();
  const std::uint64_t seq = ++t.seq;
  t.last_ts_ms = ts_ms;
  pushes_.inc();
  if (t.subs.empty() && frame_out == nullptr) return seq;
  const Frame frame = make_push(wire_name(name), seq, type, ts_ms, data);
  if (frame_out != nullptr) *frame_out = frame;
  std::size_t live = 0;
  for (std::size_t i = 0; i < t.subs.size(); ++i) {
    if (auto sub = t.subs[i].subscriber.lock()) {
      // The reference goes with the push to the session's strand (see Subscriber): it is
      // never released on this thread, where it could be the last one.
      Subscriber& s = *sub;
      s.push(std::move(sub), t.subs[i].token, frame);
      if (live != i) t.subs[live] = std::move(t.subs[i]);
      ++live;
    }
  }
  const std::size_t dropped = t.subs.size() - live;
  t.subs.resize(live);
  subscriptions_.add(-static_cast<std::int64_t>(dropped));
  frames_.inc(live);
  return seq;
}

std::uint64_t Hub::subscribe(std::string_view name, std::uint64_t subscriber_id,
                             std::weak_ptr<Subscriber> subscriber) {
  auto sub = subscriber.lock();
  IPX_ASSERT(sub != nullptr);
  Topic& t = topic(name);
  const std::uint64_t token = next_token_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(t.mu);
  auto it = std::find_if(t.subs.begin(), t.subs.end(),
                         [&](const Sub& s) { return s.id == subscriber_id; });
  if (it == t.subs.end()) {
    t.subs.push_back(Sub{subscriber_id, token, std::move(subscriber)});
    subscriptions_.inc();
  } else {
    it->token = token;  // re-subscribe: a fresh snapshot, older pushes are dropped
  }
  const std::int64_t ts = t.seq == 0 ? wall_clock_ms_() : t.last_ts_ms;
  Subscriber& s = *sub;
  s.push(std::move(sub), token, make_push(wire_name(name), t.seq, "snapshot", ts, snapshot_(name)));
  frames_.inc();
  return token;
}

void Hub::unsubscribe(std::string_view name, std::uint64_t subscriber_id) {
  Topic& t = topic(name);
  std::lock_guard lock(t.mu);
  const auto before = t.subs.size();
  std::erase_if(t.subs, [&](const Sub& s) { return s.id == subscriber_id; });
  subscriptions_.add(-static_cast<std::int64_t>(before - t.subs.size()));
}

std::uint64_t Hub::seq(std::string_view name) const {
  const Topic* t = find(name);
  if (t == nullptr) return 0;
  std::lock_guard lock(t->mu);
  return t->seq;
}

std::size_t Hub::subscribers(std::string_view name) const {
  const Topic* t = find(name);
  if (t == nullptr) return 0;
  std::lock_guard lock(t->mu);
  return t->subs.size();
}

}  // namespace ipx::gateway
