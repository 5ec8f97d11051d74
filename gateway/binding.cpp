#include "gateway/binding.hpp"

#include <charconv>

#include <map>
#include <set>
#include <vector>

#include "gateway/auth.hpp"
#include "gateway/hub.hpp"
#include "matching/assert.hpp"

namespace ipx::gateway {

namespace json = boost::json;

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

HttpResponse json_response(unsigned status, const json::value& body) {
  return {status, "application/json", json::serialize(body)};
}

// {"result": ...} or {"error": {"code", "message"}} as text, straight from the outcome: the
// bytes of json::serialize(o.to_reply()) without copying the result into another object.
std::string reply_json(const engine::Outcome& o) {
  std::string out;
  if (o.ok()) {
    out.reserve(256);
    out += "{\"result\":";
    if (o.result_text.empty()) {
      append_json(out, o.result);
    } else {
      out += o.result_text;
    }
    out += '}';
    return out;
  }
  out += "{\"error\":{\"code\":";
  append_json_string(out, engine::code_name(o.code));
  out += ",\"message\":";
  append_json_string(out, o.message);
  out += "}}";
  return out;
}

}  // namespace

Binding::Binding(BindingOptions options) : options_(std::move(options)) {
  http_nonces_ = options_.http_nonces;
  if (!http_nonces_) {
    http_nonces_ = std::make_shared<MemoryNonceStore>(options_.http_limits.nonce_ttl_ms,
                                                      options_.http_limits.nonce_store_max);
  }
  if (!options_.admin_key.empty()) {
    keys_[options_.admin_key] = {"admin", "admin", options_.admin_secret};
  }
}

void Binding::attach(engine::Engine* engine, Hub* hub, PushSink* sink) {
  engine_ = engine;
  hub_ = hub;
  sink_ = sink;
  if (sink_ == nullptr) return;
  {
    std::shared_lock lock(keys_mu_);
    for (const auto& [key, c] : keys_) sink_->credential(key, c);
  }
  // The public channels recovered from the journal (no push yet: seq 0 on a fresh hub).
  std::vector<std::string> channels;
  {
    std::shared_lock lock(cache_mu_);
    for (const auto& [topic, data] : cache_) {
      if (starts_with(topic, "auction.") || starts_with(topic, "book.")) channels.push_back(topic);
      if (starts_with(topic, "book.")) {
        channels.push_back("trades." + topic.substr(5));
        announced_trades_.insert(channels.back());
      }
    }
  }
  for (const auto& c : channels) {
    sink_->public_snapshot(c, 0, shared_snapshot(c));  // attach() comes before the first push
  }
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
    if (sink_ != nullptr) sink_->credential(c.key, keys_[c.key]);
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
    // An empty request_id could not be told from none: refused, not silently not remembered.
    if (!rid->is_string() || !request_id_valid(rid->get_string())) {
      return ctx.reply.error("BAD_REQUEST", "request_id: must be a string of 1 to 64 characters");
    }
    request_id = std::string(rid->get_string());
  }
  engine::Command cmd;
  cmd.method = info->method;
  engine::codec::ParseError err;
  // A state-changing request with a request_id keeps even a BAD_REQUEST or FORBIDDEN reply
  // (PROTOCOL "Idempotency": the first reply, success or error): the engine makes and records
  // it, so a later request with the same id and other params is DUPLICATE, on any gateway and
  // after a restart.
  // Asked only on a refusal: the usual request does not pay for it.
  auto keep = [&] {
    return info->mutating && !request_id.empty() &&
           info->method != engine::Method::time_advance && engine_ != nullptr &&
           engine_->accepting();
  };
  if (!info->parse(params, cmd.params, err)) {
    if (!keep()) return ctx.reply.error("BAD_REQUEST", err.text());
    json::object sent = params;
    sent.erase("request_id");
    cmd.invalid = err.text();
    cmd.invalid_params = json::serialize(sent);
  } else if (info->roles != engine::role_any &&
             (engine::roles_of_kind(principal.kind) & info->roles) == 0 && !keep()) {
    // PROTOCOL "Edges": params that are not well formed are BAD_REQUEST before the role.
    if (engine::Outcome s = engine::Domain::shape(info->method, cmd.params); !s.ok()) {
      return ctx.reply.error("BAD_REQUEST", s.message);
    }
    return ctx.reply.error("FORBIDDEN", std::string(info->name) + " is not allowed for " +
                                            (principal.kind.empty() ? "anonymous" : principal.kind));
  }
  if (engine_ == nullptr || (info->mutating && !engine_->accepting())) {
    return ctx.reply.error("UNAVAILABLE", "the journal is unavailable; retry later");
  }
  cmd.actor = principal.participant_id;
  cmd.request_id = std::move(request_id);
  Reply reply = ctx.reply;
  cmd.done = [reply](const engine::Outcome& o) { reply.serialized(reply_json(o)); };
  if (!engine_->submit(std::move(cmd))) {
    ctx.reply.error("UNAVAILABLE", "the engine queue is full; retry later");
  }
}

std::string Binding::topic_of(const std::string& channel) {
  if (starts_with(channel, "private.")) return "private#" + channel.substr(8);
  return channel;
}

SharedSnapshot Binding::cached(const std::string& topic) const {
  std::shared_lock lock(cache_mu_);
  auto it = cache_.find(topic);
  return it == cache_.end() ? nullptr : it->second;
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
    if (!cached(ch)) return ChannelAccess::deny("NOT_FOUND", "no such channel " + ch);
    return ChannelAccess::allow(ch);
  }
  if (kind == "trades") {
    if (!cached("book." + id)) return ChannelAccess::deny("NOT_FOUND", "no such channel " + ch);
    return ChannelAccess::allow(ch);
  }
  if (kind == "disposal") {
    const auto roles = engine::roles_of_kind(principal.kind);
    if ((roles & (engine::role_operator | engine::role_bank)) == 0) {
      return ChannelAccess::deny("FORBIDDEN", "disposal channels are for the operator and the case's bank");
    }
    const SharedSnapshot snap = cached(ch);
    const bool mine = snap && snap->is_object() && snap->as_object().contains("pledgee") &&
                      snap->as_object().at("pledgee") == json::value(principal.participant_id);
    if (!snap || ((roles & engine::role_operator) == 0 && !mine)) {
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
  const SharedSnapshot v = cached(t);
  if (!v && starts_with(t, "private#")) {
    return json::object{{"participant_id", t.substr(8)}, {"cash_available", 0}, {"cash_held", 0},
                        {"positions", json::array{}}};
  }
  return v ? *v : json::value(json::object{});
}

// For the sink: the cached pointer itself (no copy); trades' snapshot is built per push.
SharedSnapshot Binding::shared_snapshot(const std::string& topic) {
  if (starts_with(topic, "trades.")) return std::make_shared<const json::value>(snapshot(topic));
  SharedSnapshot v = cached(topic);
  return v ? v : std::make_shared<const json::value>(json::object{});
}

void Binding::clock(std::int64_t now_ms, bool manual) {
  std::lock_guard lock(clock_mu_);
  // A real clock is told once (edges use their own wall clock then); a manual one as it moves.
  if (clock_ms_ >= 0 && (!manual || now_ms == clock_ms_)) return;
  clock_ms_ = now_ms;
  manual_clock_ = manual;
  if (sink_ != nullptr) sink_->clock(now_ms, manual);
}

std::int64_t Binding::manual_time_ms() {
  std::lock_guard lock(clock_mu_);
  return manual_clock_ ? clock_ms_ : -1;
}

void Binding::seed(const std::string& channel, const json::value& snapshot) {
  if (snapshot.is_null()) return;
  std::unique_lock lock(cache_mu_);
  cache_[topic_of(channel)] = std::make_shared<const json::value>(snapshot);
}

void Binding::publish(engine::Push& push) {
  const std::string topic = topic_of(push.channel);
  // The batch's channel state (once per channel per batch, see Engine::attach_snapshots),
  // taken from the push, not copied; made before the topic lock.
  SharedSnapshot fresh;
  if (!push.snapshot.is_null())
    fresh = std::make_shared<const json::value>(std::move(push.snapshot));
  auto update = [&] {
    std::unique_lock lock(cache_mu_);
    if (fresh) cache_[topic] = std::move(fresh);
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
  const bool to_sink =
      sink_ != nullptr && !starts_with(topic, "private#") && !starts_with(topic, "disposal.");
  Frame frame;  // public channels: the one serialisation, shared with the sink
  const std::uint64_t seq =
      push.data_text.empty()
          ? hub_->publish(topic, push.type, push.ts, push.data, update, to_sink ? &frame : nullptr)
          : hub_->publish(topic, push.type, push.ts, JsonText{push.data_text}, update,
                          to_sink ? &frame : nullptr);
  if (to_sink) {
    // Only this (post-commit) thread changes the cache, so this is the snapshot as of seq.
    sink_->public_snapshot(push.channel, seq, shared_snapshot(topic));
    sink_->public_push(push.channel, frame, push.ts);
    // A market created since attach(): its trades channel exists with its book (no trade
    // yet, seq 0), for the edges too; looked at on a book's first push only.
    if (seq == 1 && starts_with(topic, "book.")) {
      const std::string trades = "trades." + topic.substr(5);
      if (hub_->seq(trades) == 0 && announced_trades_.insert(trades).second) {
        sink_->public_snapshot(trades, 0, shared_snapshot(trades));
      }
    }
  }
}

HttpResponse public_view(std::string_view target, const PublicViews& views) {
  std::string path(target.substr(0, target.find('?')));
  if (path == "/v1/auctions" || path == "/v1/auctions/") {
    return json_response(200, json::object{{"auctions", views.auctions()}});
  }
  if (starts_with(path, "/v1/auctions/")) {
    json::value v = views.channel("auction." + path.substr(13));
    if (v.is_null()) return json_response(404, json::object{{"error", {{"code", "NOT_FOUND"}}}});
    return json_response(200, v);
  }
  if (starts_with(path, "/v1/markets/") && path.size() > 17 && path.substr(path.size() - 5) == "/book") {
    json::value v = views.channel("book." + path.substr(12, path.size() - 17));
    if (v.is_null()) return json_response(404, json::object{{"error", {{"code", "NOT_FOUND"}}}});
    return json_response(200, v);
  }
  return json_response(404, json::object{{"error", {{"code", "NOT_FOUND"}, {"message", "no such view"}}}});
}

HttpResponse Binding::http_view(std::string_view target) const {
  return public_view(
      target, PublicViews{[this](const std::string& channel) {
                            const SharedSnapshot v = cached(channel);
                            return v ? *v : json::value(nullptr);
                          },
                          [this] {
                            json::array rows;
                            std::shared_lock lock(cache_mu_);
                            for (auto it = cache_.lower_bound("auction.");
                                 it != cache_.end() && starts_with(it->first, "auction."); ++it) {
                              rows.push_back(*it->second);
                            }
                            return rows;
                          }});
}

// ---------------------------------------------------------------------------------------
// GET /v1/reports/disposals

namespace {

HttpResponse http_error(unsigned status, std::string_view code, std::string_view message) {
  return json_response(status, json::object{{"error", {{"code", code}, {"message", message}}}});
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 &&
               hex_digit(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view target) {
  std::map<std::string, std::string> out;
  const auto q = target.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view part = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (part.empty()) continue;
    const auto eq = part.find('=');
    out[percent_decode(part.substr(0, eq))] =
        eq == std::string_view::npos ? std::string{} : percent_decode(part.substr(eq + 1));
  }
  return out;
}

bool parse_i64(const std::string& s, std::int64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  std::int64_t v = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

unsigned status_of(std::string_view code) {
  if (code == "BAD_REQUEST") return 400;
  if (code == "UNAUTHENTICATED") return 401;
  if (code == "FORBIDDEN") return 403;
  if (code == "NOT_FOUND") return 404;
  if (code == "UNAVAILABLE" || code == "RATE_LIMITED") return 503;
  return 500;
}

// CSV: one line per case (level "case") and per group ("bank", "region", "industry",
// "month") and the overall totals ("total"); the columns are the union of the fields in
// first-seen order; arrays are joined with ';', null is empty.
// A number as a spreadsheet reads it: doubles in their shortest decimal form ("0.75", "0"),
// not Boost.JSON's exponent form ("7.5E-1", "0E0").
std::string csv_number(const json::value& v) {
  if (!v.is_double()) return json::serialize(v);
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v.get_double(), std::chars_format::fixed);
  return r.ec == std::errc{} ? std::string(buf, r.ptr) : json::serialize(v);
}

std::string csv_cell(const json::value& v) {
  std::string s;
  if (v.is_null()) return s;
  if (v.is_string()) {
    s = std::string(v.get_string());
  } else if (v.is_array()) {
    bool first = true;
    for (const auto& x : v.get_array()) {
      if (!first) s.push_back(';');
      first = false;
      if (!x.is_null()) s += x.is_string() ? std::string(x.get_string()) : csv_number(x);
    }
  } else {
    s = csv_number(v);
  }
  if (s.find_first_of(",\"\n\r") != std::string::npos) {
    std::string q = "\"";
    for (char c : s) {
      if (c == '"') q.push_back('"');
      q.push_back(c);
    }
    q.push_back('"');
    return q;
  }
  return s;
}

std::string report_csv(const json::object& report) {
  std::vector<std::pair<std::string, const json::object*>> lines;  // level, fields
  if (const auto* rows = report.if_contains("rows"); rows != nullptr && rows->is_array()) {
    for (const auto& r : rows->get_array()) {
      if (r.is_object()) lines.emplace_back("case", &r.get_object());
    }
  }
  const json::object* totals = nullptr;
  if (const auto* t = report.if_contains("totals"); t != nullptr && t->is_object()) {
    totals = &t->get_object();
    for (const char* group : {"by_bank", "by_region", "by_industry", "by_month"}) {
      const auto* g = totals->if_contains(group);
      if (g == nullptr || !g->is_array()) continue;
      for (const auto& r : g->get_array()) {
        if (r.is_object()) lines.emplace_back(std::string(group).substr(3), &r.get_object());
      }
    }
    lines.emplace_back("total", totals);
  }
  std::vector<std::string> columns;
  std::set<std::string, std::less<>> seen;
  for (const auto& [level, fields] : lines) {
    for (const auto& kv : *fields) {
      const std::string k(kv.key());
      if (k.starts_with("by_") || seen.contains(k)) continue;
      seen.insert(k);
      columns.push_back(k);
    }
  }
  std::string out = "level";
  for (const auto& c : columns) out += "," + c;
  out += "\r\n";
  for (const auto& [level, fields] : lines) {
    out += level;
    for (const auto& c : columns) {
      out.push_back(',');
      if (const auto* v = fields->if_contains(c)) out += csv_cell(*v);
    }
    out += "\r\n";
  }
  return out;
}

}  // namespace

// Never blocks the I/O thread: the nonce check continues on the nonce store's thread (or
// here, when its answer is known at once), and the report is answered from the engine's
// post-commit thread.
void Binding::report_view(std::string_view target, RouteResponder respond) {
  auto answer = check_report_request(target);
  if (auto* r = std::get_if<HttpResponse>(&answer)) return respond(std::move(*r));
  auto request = std::make_shared<ReportRequest>(std::get<ReportRequest>(std::move(answer)));
  const std::string nonce = request->login.nonce;
  http_nonces_->record_async(
      nonce, request->wall_ms, [this, request, respond](NonceStore::Outcome outcome) {
        if (const auto& e = request->ts_error) {
          return respond(http_error(status_of(e->code), e->code, e->message));
        }
        if (auto e = nonce_error(outcome)) {
          return respond(http_error(status_of(e->code), e->code, e->message));
        }
        auto verified = check_login_signature(request->login, *this);
        if (const auto* e = std::get_if<Error>(&verified)) {
          return respond(http_error(status_of(e->code), e->code, e->message));
        }
        run_report(std::get<Principal>(verified), *request, respond);
      });
}

// The query, strictly, and the signature's ts: everything that needs no nonce store.
std::variant<Binding::ReportRequest, HttpResponse> Binding::check_report_request(
    std::string_view target) const {
  const std::string path(target.substr(0, target.find('?')));
  if (path != "/v1/reports/disposals") return http_error(404, "NOT_FOUND", "no such report");
  auto query = parse_query(target);
  static const std::set<std::string, std::less<>> known = {
      "key", "ts", "nonce", "sig", "format", "from", "to", "region", "bank"};
  for (const auto& [k, v] : query) {
    if (!known.contains(k)) return http_error(400, "BAD_REQUEST", k + ": unknown query field");
  }
  // Authentication: the auth.login signature over key, ts and nonce.
  for (const char* f : {"key", "ts", "nonce", "sig"}) {
    if (!query.contains(f)) {
      return http_error(401, "UNAUTHENTICATED",
                        std::string("sign the request: key, ts, nonce and sig (as auth.login); ") +
                            f + " is missing");
    }
  }
  LoginParams login;
  login.key = query["key"];
  login.nonce = query["nonce"];
  login.sig = query["sig"];
  if (!parse_i64(query["ts"], login.ts)) return http_error(401, "UNAUTHENTICATED", "ts: must be an integer (ms)");
  if (login.nonce.size() < 8 || login.nonce.size() > 64) {
    return http_error(401, "UNAUTHENTICATED", "nonce: 8-64 characters");
  }
  ReportRequest r;
  r.login = std::move(login);
  r.wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  r.ts_error = check_login_ts(r.login, r.wall_ms, options_.http_limits);
  r.format = query.contains("format") ? query["format"] : "json";
  if (r.format != "json" && r.format != "csv")
    return http_error(400, "BAD_REQUEST", "format: json or csv");
  for (const char* f : {"from", "to"}) {
    if (!query.contains(f)) continue;
    std::int64_t v = 0;
    if (!parse_i64(query[f], v)) return http_error(400, "BAD_REQUEST", std::string(f) + ": must be an integer (ms)");
    r.params[f] = v;
  }
  for (const char* f : {"region", "bank"}) {
    if (query.contains(f)) r.params[f] = query[f];
  }
  return r;
}

void Binding::run_report(const Principal& principal, const ReportRequest& request,
                         const RouteResponder& respond) {
  const engine::MethodInfo* info = engine::find_method("report.disposals");
  IPX_ASSERT(info != nullptr);
  engine::Command cmd;
  cmd.method = info->method;
  engine::codec::ParseError err;
  if (!info->parse(request.params, cmd.params, err))
    return respond(http_error(400, "BAD_REQUEST", err.text()));
  if ((engine::roles_of_kind(principal.kind) & info->roles) == 0) {
    return respond(http_error(403, "FORBIDDEN", "report.disposals is for the operator and banks"));
  }
  if (engine_ == nullptr)
    return respond(http_error(503, "UNAVAILABLE", "the engine is not running"));
  cmd.actor = principal.participant_id;
  cmd.done = [respond, csv = request.format == "csv"](const engine::Outcome& o) {
    if (!o.ok()) {
      const std::string_view code = engine::code_name(o.code);
      return respond({status_of(code), "application/json", json::serialize(o.to_reply())});
    }
    if (csv) return respond({200, "text/csv; charset=utf-8", report_csv(o.result_object())});
    respond(json_response(200, o.result_object()));
  };
  if (!engine_->submit(std::move(cmd))) {
    respond(http_error(503, "UNAVAILABLE", "the engine queue is full; retry later"));
  }
}

}  // namespace ipx::gateway
