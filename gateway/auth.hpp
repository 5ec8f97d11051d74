#pragma once
// auth.login (PROTOCOL.md "Authentication"), the nonce store and the per-connection
// request rate limiter. Pure logic: no sockets, testable with a fake clock.
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>

#include <boost/json/value.hpp>

#include "gateway/application.hpp"
#include "gateway/config.hpp"

namespace ipx::gateway {

// Remembers login nonces. Recording is the only operation: it stores the nonce and says
// whether it was new, so one call both checks and claims it (a Redis SET NX PX fits).
class NonceStore {
 public:
  enum class Outcome { fresh, replayed, full };
  using Done = std::function<void(Outcome)>;
  virtual ~NonceStore() = default;
  // Blocking form: a remote store may make it wait (bounded). Never on an Asio I/O thread.
  virtual Outcome record(std::string_view nonce, std::int64_t now_ms) = 0;
  // Non-blocking form (the WebSocket login): done(outcome) is called exactly once, before
  // this returns when the answer is known at once, else later from the store's own thread
  // (it must only queue: post to a strand). The default is record(), for stores that never
  // wait (the in-memory one).
  virtual void record_async(std::string_view nonce, std::int64_t now_ms, Done done) {
    done(record(nonce, now_ms));
  }
};

// In-process store: a hash set plus a FIFO of expiries; thread-safe; bounded.
class MemoryNonceStore final : public NonceStore {
 public:
  MemoryNonceStore(std::int64_t ttl_ms, std::size_t capacity);
  Outcome record(std::string_view nonce, std::int64_t now_ms) override;
  std::size_t size() const;

 private:
  void expire(std::int64_t now_ms);  // under mu_

  const std::int64_t ttl_ms_;
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::int64_t horizon_ms_ = 0;  // expiries are kept monotonic even if the clock steps back
  std::unordered_map<std::string, std::int64_t> expiry_ms_;
  std::deque<std::pair<std::int64_t, std::string>> fifo_;
};

struct LoginParams {
  std::string key;
  std::int64_t ts = 0;
  std::string nonce;
  std::string sig;
};

// Strict params check: an object with key, ts (integer), nonce (8–64 characters), sig,
// and optionally request_id (string, <= 64 chars); anything else is BAD_REQUEST naming the
// field.
std::variant<LoginParams, Error> parse_login_params(const boost::json::value& params);

// PROTOCOL.md "Idempotency": a request_id is 1 to 64 characters (UTF-8 characters, not
// bytes). The one check for every method, login and subscribe included.
bool request_id_valid(std::string_view id);

// key + "\n" + ts + "\n" + nonce
std::string login_message(std::string_view key, std::int64_t ts, std::string_view nonce);
// Lowercase hex HMAC-SHA256.
std::string hmac_sha256_hex(std::string_view secret, std::string_view message);

// The checks after the params, in this order:
// 1. ts within limits.login_skew_ms of wall_ms (UNAUTHENTICATED);
std::optional<Error> check_login_ts(const LoginParams& login, std::int64_t wall_ms,
                                    const Limits& limits);
// 2. the nonce, recorded before the signature is looked at, so a failed login uses it up
//    too: replayed is UNAUTHENTICATED, a full store UNAVAILABLE;
std::optional<Error> nonce_error(NonceStore::Outcome outcome);
// 3. the key, then the signature (constant time); unknown key and wrong signature read the
//    same (UNAUTHENTICATED).
std::variant<Principal, Error> check_login_signature(const LoginParams& login,
                                                     const Application& app);
// All three, synchronously (NonceStore::record may wait): for callers that may block.
std::variant<Principal, Error> verify_login(const LoginParams& login, const Application& app,
                                            NonceStore& nonces, std::int64_t wall_ms,
                                            const Limits& limits);

// Token bucket: `rate` tokens per second, `burst` capacity, starts full. Integer
// arithmetic in token-nanoseconds, so no drift and no floating point.
class TokenBucket {
 public:
  TokenBucket(std::uint32_t rate_per_second, std::uint32_t burst, std::int64_t now_ns);
  bool take(std::int64_t now_ns) noexcept;  // one token, or false

 private:
  static constexpr std::int64_t scale = 1'000'000'000;  // one token = 1e9 units
  std::int64_t rate_;
  std::int64_t capacity_;
  std::int64_t level_;
  std::int64_t last_ns_;
};

}  // namespace ipx::gateway
