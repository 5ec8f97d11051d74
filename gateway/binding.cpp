#include "gateway/binding.hpp"

#include "gateway/hub.hpp"
#include "matching/assert.hpp"

namespace ipx::gateway {

namespace json = boost::json;

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

HttpResponse json_response(unsigned status, const json::value& body) {
  return {status, "application/json", json::serialize(body)};
}

}  // namespace

Binding::Binding(BindingOptions options) : options_(std::move(options)) {
  if (!options_.admin_key.empty()) {
    keys_[options_.admin_key] = {"admin", "admin", options_.admin_secret};
  }
}

void Binding::attach(engine::Engine* engine, Hub* hub, PushSink* sink) {
  engine_ = engine;
  hub_ = hub;
  sink_ = sink;
}

std::optional<Credential> Binding::find_key(std::string_view key) const {
  std::shared_lock lock(keys_mu_);
  auto it = keys_.find(std::string(key));
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

void Binding::credentials(const std::vector<engine::Credential>& created) {
  std::unique_lock lock(keys_mu_);
  for (const auto& c : created) {
    if (c.key == options_.admin_key) continue;  // the configured admin key always wins
    keys_[c.key] = {c.participant_id, c.kind, c.secret};
  }
}

bool Binding::ready() const { return engine_ != nullptr && engine_->accepting(); }

// PROTOCOL.md "Edges and precedence": the method exists and its params are well formed
// (BAD_REQUEST), then the role (FORBIDDEN); the engine checks objects and rules.
void Binding::handle(const Principal& principal, RequestCtx ctx) {
  const engine::MethodInfo* info = engine::find_method(ctx.method);
  if (info == nullptr) return ctx.reply.error("BAD_REQUEST", "unknown method " + ctx.method);
  static const json::object kEmpty;
  if (!ctx.params.is_null() && !ctx.params.is_object()) {
    return ctx.reply.error("BAD_REQUEST", "params: must be an object");
  }
  const json::object& params = ctx.params.is_object() ? ctx.params.get_object() : kEmpty;
  std::string request_id;
  if (const json::value* rid = params.if_contains("request_id")) {
    if (!rid->is_string() || rid->get_string().size() > 64) {
      return ctx.reply.error("BAD_REQUEST", "request_id: must be a string of at most 64 characters");
    }
    request_id = std::string(rid->get_string());
  }
  engine::Command cmd;
  cmd.method = info->method;
  engine::codec::ParseError err;
  if (!info->parse(params, cmd.params, err)) return ctx.reply.error("BAD_REQUEST", err.text());
  if (info->roles != engine::role_any &&
      (engine::roles_of_kind(principal.kind) & info->roles) == 0) {
    return ctx.reply.error("FORBIDDEN", std::string(info->name) + " is not allowed for " +
                                            (principal.kind.empty() ? "anonymous" : principal.kind));
  }
  if (engine_ == nullptr || (info->mutating && !engine_->accepting())) {
    return ctx.reply.error("UNAVAILABLE", "the journal is unavailable; retry later");
  }
  cmd.actor = principal.participant_id;
  cmd.request_id = std::move(request_id);
  Reply reply = ctx.reply;
  cmd.done = [reply](const engine::Outcome& o) { reply(o.to_reply()); };
  if (!engine_->submit(std::move(cmd))) {
    ctx.reply.error("UNAVAILABLE", "the engine queue is full; retry later");
  }
}

std::string Binding::topic_of(const std::string& channel) {
  if (starts_with(channel, "private.")) return "private#" + channel.substr(8);
  return channel;
}

json::value Binding::cached(const std::string& topic) const {
  std::shared_lock lock(cache_mu_);
  auto it = cache_.find(topic);
  return it == cache_.end() ? json::value(nullptr) : it->second;
}

ChannelAccess Binding::authorize_channel(const Principal& principal, std::string_view channel) {
  const std::string ch(channel);
  if (ch == "private") return ChannelAccess::allow("private#" + principal.participant_id);
  const auto dot = ch.find('.');
  const std::string kind = dot == std::string::npos ? ch : ch.substr(0, dot);
  if (dot == std::string::npos || dot + 1 == ch.size()) {
    return ChannelAccess::deny("BAD_REQUEST", "channels: unknown channel " + ch);
  }
  const std::string id = ch.substr(dot + 1);
  if (kind == "auction" || kind == "book") {
    if (cached(ch).is_null()) return ChannelAccess::deny("NOT_FOUND", "no such channel " + ch);
    return ChannelAccess::allow(ch);
  }
  if (kind == "trades") {
    if (cached("book." + id).is_null()) return ChannelAccess::deny("NOT_FOUND", "no such channel " + ch);
    return ChannelAccess::allow(ch);
  }
  if (kind == "disposal") {
    const auto roles = engine::roles_of_kind(principal.kind);
    if ((roles & (engine::role_operator | engine::role_bank)) == 0) {
      return ChannelAccess::deny("FORBIDDEN", "disposal channels are for the operator and the case's bank");
    }
    json::value snap = cached(ch);
    const bool mine = snap.is_object() && snap.as_object().contains("pledgee") &&
                      snap.as_object().at("pledgee") == json::value(principal.participant_id);
    if (snap.is_null() || ((roles & engine::role_operator) == 0 && !mine)) {
      return ChannelAccess::deny("NOT_FOUND", "no such channel " + ch);
    }
    return ChannelAccess::allow(ch);
  }
  return ChannelAccess::deny("BAD_REQUEST", "channels: unknown channel " + ch);
}

json::value Binding::snapshot(std::string_view topic) {
  const std::string t(topic);
  if (starts_with(t, "trades.")) {
    std::shared_lock lock(cache_mu_);
    json::array out;
    auto it = trades_.find(t);
    if (it != trades_.end()) {
      for (const auto& x : it->second) out.push_back(x);
    }
    return json::object{{"trades", std::move(out)}};
  }
  json::value v = cached(t);
  if (v.is_null() && starts_with(t, "private#")) {
    return json::object{{"participant_id", t.substr(8)}, {"cash_available", 0}, {"cash_held", 0},
                        {"positions", json::array{}}};
  }
  return v.is_null() ? json::value(json::object{}) : v;
}

void Binding::seed(const std::string& channel, const json::value& snapshot) {
  if (snapshot.is_null()) return;
  std::unique_lock lock(cache_mu_);
  cache_[topic_of(channel)] = snapshot;
}

void Binding::publish(const engine::Push& push) {
  const std::string topic = topic_of(push.channel);
  auto update = [&] {
    std::unique_lock lock(cache_mu_);
    if (!push.snapshot.is_null()) cache_[topic] = push.snapshot;
    if (push.type == "trade") {
      auto& q = trades_[topic];
      q.push_back(push.data);
      while (q.size() > options_.trades_snapshot_max) q.pop_front();
    }
  };
  if (hub_ == nullptr) {
    update();
    return;
  }
  const std::uint64_t seq = hub_->publish(topic, push.type, push.ts, push.data, update);
  if (sink_ != nullptr && !starts_with(topic, "private#") && !starts_with(topic, "disposal.")) {
    json::object frame{{"channel", push.channel}, {"seq", seq}, {"type", push.type},
                       {"ts", push.ts}, {"data", push.data}};
    sink_->public_push(push.channel, json::serialize(frame));
  }
}

HttpResponse Binding::http_view(std::string_view target) const {
  std::string path(target.substr(0, target.find('?')));
  if (path == "/v1/auctions" || path == "/v1/auctions/") {
    json::array rows;
    std::shared_lock lock(cache_mu_);
    for (auto it = cache_.lower_bound("auction."); it != cache_.end() && starts_with(it->first, "auction."); ++it) {
      rows.push_back(it->second);
    }
    return json_response(200, json::object{{"auctions", std::move(rows)}});
  }
  if (starts_with(path, "/v1/auctions/")) {
    json::value v = cached("auction." + path.substr(13));
    if (v.is_null()) return json_response(404, json::object{{"error", {{"code", "NOT_FOUND"}}}});
    return json_response(200, v);
  }
  if (starts_with(path, "/v1/markets/") && path.size() > 17 && path.substr(path.size() - 5) == "/book") {
    json::value v = cached("book." + path.substr(12, path.size() - 17));
    if (v.is_null()) return json_response(404, json::object{{"error", {{"code", "NOT_FOUND"}}}});
    return json_response(200, v);
  }
  return json_response(404, json::object{{"error", {{"code", "NOT_FOUND"}, {"message", "no such view"}}}});
}

}  // namespace ipx::gateway
