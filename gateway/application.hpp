#pragma once
// The gateway's application interface: everything the transport needs from the engine
// binding, and nothing more. The transport owns sockets, TLS, framing, limits, login and
// subscriptions; the application owns methods, params, roles-per-method and channel data.
//
// Threading: every Application member is called from a gateway I/O thread (several run at
// once), so implementations must be thread-safe. handle() must not block: it hands the
// request over (e.g. to the engine's queue) and answers later through RequestCtx::reply,
// from any thread.
#include <bitset>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace ipx::gateway {

// Roles per PROTOCOL.md "Participant kinds and their roles".
enum class Role : std::uint8_t { admin = 0, operator_ = 1, bank = 2, trader = 3, backstop = 4 };
inline constexpr std::size_t role_count = 5;
using Roles = std::bitset<role_count>;

// admin → admin+operator; operator; bank; enterprise/individual → trader; backstop;
// risk_fund (and anything unknown) → none.
Roles roles_for_kind(std::string_view kind) noexcept;
std::string_view role_name(Role role) noexcept;
// Role names in enum order, e.g. {"admin", "operator"}.
std::vector<std::string> role_names(Roles roles);
inline bool has_role(Roles roles, Role role) noexcept {
  return roles.test(static_cast<std::size_t>(role));
}

// Who is on a connection. Before login the principal is anonymous (empty participant_id).
struct Principal {
  std::string participant_id;
  std::string kind;
  Roles roles;
  bool authenticated() const noexcept { return !participant_id.empty(); }
};

// What find_key returns for an API key.
struct Credential {
  std::string participant_id;
  std::string kind;
  std::string secret;  // the secret bytes as given to the participant
};

// A protocol error: a stable code from PROTOCOL.md ("BAD_REQUEST", "FORBIDDEN", ...).
struct Error {
  std::string code;
  std::string message;
};

// The body of a reply without its id: {"result": ...} or {"error": {"code", "message"}}.
boost::json::object make_result(boost::json::value result);
boost::json::object make_error(std::string_view code, std::string_view message);

// Appends the JSON text of v (the same bytes as boost::json::serialize) to out, without an
// intermediate string: frames are built from parts (an id, a body, a push's data) with no
// copy of the json values they hold.
void append_json(std::string& out, const boost::json::value& v);
void append_json(std::string& out, const boost::json::object& o);
void append_json_string(std::string& out, std::string_view s);  // a quoted, escaped string

// Sends the reply for one request. Copyable; all copies share one state. Call exactly once,
// from any thread (it posts to the session's strand). A second call is a bug (IPX_ASSERT).
// If every copy is destroyed without a call, the client gets INTERNAL "no reply" so no
// request is ever left unanswered. A reply to a closed connection is dropped.
class Reply {
 public:
  struct State;  // defined by the transport
  Reply() = default;
  explicit Reply(std::shared_ptr<State> state) : state_(std::move(state)) {}

  // body = make_result(...) or make_error(...).
  void operator()(boost::json::object body) const;
  void result(boost::json::value result) const { (*this)(make_result(std::move(result))); }
  void error(std::string_view code, std::string_view message) const {
    (*this)(make_error(code, message));
  }
  // The same, with the body already serialized: the JSON text of {"result": ...} or
  // {"error": {...}} (what the engine binding builds straight from an outcome, on its
  // post-commit thread, without copying it into a json::object first).
  void serialized(std::string body_json) const;

 private:
  std::shared_ptr<State> state_;
};

struct RequestCtx {
  boost::json::value id;       // the client's id: a string or an int64, echoed by the reply
  std::string method;          // as sent; the application decides whether it exists
  boost::json::value params;   // a boost::json::object, or null when absent
  Reply reply;                 // call exactly once, from any thread
};

// Decision on a subscribe request for one channel.
struct ChannelAccess {
  std::optional<Error> error;  // set: refused (FORBIDDEN, NOT_FOUND, BAD_REQUEST)
  // The hub topic when allowed. A topic "name#scope" is pushed to clients as channel
  // "name": per-participant channels (e.g. "private#P-7") stay apart in the hub.
  std::string topic;

  static ChannelAccess allow(std::string topic_key) { return {std::nullopt, std::move(topic_key)}; }
  static ChannelAccess deny(std::string code, std::string message) {
    return {Error{std::move(code), std::move(message)}, {}};
  }
};

// A read-only HTTP view added by the binding (server.add_route).
struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
};
// Called on an I/O thread with the request target (path and query); must be quick.
using RouteHandler = std::function<HttpResponse(std::string_view target)>;
// An asynchronous route: called on an I/O thread, must not block; answers later through
// respond, exactly once, from any thread (it posts to the connection's strand). If every
// copy of respond is dropped without a call, the client gets 503 UNAVAILABLE; no answer
// within Limits::http_route_timeout is 503 too.
using RouteResponder = std::function<void(HttpResponse)>;
using AsyncRouteHandler = std::function<void(std::string_view target, RouteResponder respond)>;

class Application {
 public:
  virtual ~Application() = default;

  // Thread-safe credential lookup by API key.
  virtual std::optional<Credential> find_key(std::string_view key) const = 0;

  // Every request except auth.login, subscribe and unsubscribe (the gateway's own), after
  // the envelope, rate and login checks passed. time.now arrives with an anonymous
  // principal when the connection has not logged in yet. Unknown methods and bad params
  // are the application's to refuse (BAD_REQUEST).
  virtual void handle(const Principal& principal, RequestCtx ctx) = 0;

  // /readyz: journal reachable and engine accepting.
  virtual bool ready() const = 0;

  // May this principal subscribe to this channel (as the client names it)?
  virtual ChannelAccess authorize_channel(const Principal& principal,
                                          std::string_view channel) = 0;

  // The snapshot `data` for a hub topic. Called under the topic's lock, the same lock that
  // serialises Hub::publish and its update function, so the snapshot and the topic's seq
  // agree. Must not call back into the hub for the same topic.
  virtual boost::json::value snapshot(std::string_view topic) = 0;

  // Engine time when it is not the real clock (a manual clock), else -1: the `ts` of a
  // snapshot of a channel that has had no push yet.
  virtual std::int64_t manual_time_ms() { return -1; }
};

}  // namespace ipx::gateway
