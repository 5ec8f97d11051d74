#include "gateway/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <limits>

#include <boost/json/object.hpp>

#include "matching/assert.hpp"

namespace ipx::gateway {
namespace {

Error bad_request(std::string message) { return Error{"BAD_REQUEST", std::move(message)}; }
Error unauthenticated(std::string message) {
  return Error{"UNAUTHENTICATED", std::move(message)};
}

// Characters, not bytes: UTF-8 continuation bytes do not count.
std::size_t utf8_length(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

constexpr std::size_t key_chars_max = 256;
constexpr std::size_t sig_chars_max = 256;
constexpr std::size_t nonce_chars_min = 8;
constexpr std::size_t nonce_chars_max = 64;
constexpr std::size_t request_id_chars_max = 64;

}  // namespace

bool request_id_valid(std::string_view id) {
  const std::size_t chars = utf8_length(id);
  return chars > 0 && chars <= request_id_chars_max;
}

MemoryNonceStore::MemoryNonceStore(std::int64_t ttl_ms, std::size_t capacity)
    : ttl_ms_(ttl_ms), capacity_(capacity) {
  IPX_ASSERT(ttl_ms > 0);
  IPX_ASSERT(capacity > 0);
}

void MemoryNonceStore::expire(std::int64_t now_ms) {
  while (!fifo_.empty() && fifo_.front().first <= now_ms) {
    auto it = expiry_ms_.find(fifo_.front().second);
    if (it != expiry_ms_.end() && it->second == fifo_.front().first) expiry_ms_.erase(it);
    fifo_.pop_front();
  }
}

NonceStore::Outcome MemoryNonceStore::record(std::string_view nonce, std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  horizon_ms_ = std::max(horizon_ms_, now_ms);
  expire(horizon_ms_);
  std::string key(nonce);
  if (expiry_ms_.contains(key)) return Outcome::replayed;
  if (expiry_ms_.size() >= capacity_) return Outcome::full;
  const std::int64_t expires = horizon_ms_ + ttl_ms_;
  fifo_.emplace_back(expires, key);
  expiry_ms_.emplace(std::move(key), expires);
  IPX_ASSERT(fifo_.size() >= expiry_ms_.size());
  return Outcome::fresh;
}

std::size_t MemoryNonceStore::size() const {
  std::lock_guard lock(mu_);
  return expiry_ms_.size();
}

std::variant<LoginParams, Error> parse_login_params(const boost::json::value& params) {
  if (params.is_null()) return bad_request("params: required (key, ts, nonce, sig)");
  if (!params.is_object()) return bad_request("params: must be an object");
  const auto& o = params.get_object();
  for (const auto& kv : o) {
    const auto k = kv.key();
    if (k != "key" && k != "ts" && k != "nonce" && k != "sig" && k != "request_id") {
      return bad_request("params." + std::string(k) + ": unknown field");
    }
  }
  LoginParams out;
  auto string_field = [&o](std::string_view name, std::string& dst) -> std::optional<Error> {
    const auto* v = o.if_contains(name);
    if (v == nullptr) return bad_request("params." + std::string(name) + ": required");
    if (!v->is_string()) return bad_request("params." + std::string(name) + ": must be a string");
    dst = std::string(v->get_string());
    return std::nullopt;
  };
  if (auto e = string_field("key", out.key)) return *e;
  if (out.key.empty() || out.key.size() > key_chars_max) {
    return bad_request("params.key: must be 1-256 characters");
  }
  const auto* ts = o.if_contains("ts");
  if (ts == nullptr) return bad_request("params.ts: required");
  if (ts->is_int64()) {
    out.ts = ts->get_int64();
  } else if (ts->is_uint64() &&
             ts->get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    out.ts = static_cast<std::int64_t>(ts->get_uint64());
  } else {
    return bad_request("params.ts: must be an integer (ms since the epoch)");
  }
  if (auto e = string_field("nonce", out.nonce)) return *e;
  const std::size_t nonce_chars = utf8_length(out.nonce);
  if (nonce_chars < nonce_chars_min || nonce_chars > nonce_chars_max) {
    return bad_request("params.nonce: must be 8-64 characters");
  }
  if (auto e = string_field("sig", out.sig)) return *e;
  if (out.sig.size() > sig_chars_max) return bad_request("params.sig: too long");
  if (const auto* rid = o.if_contains("request_id")) {
    if (!rid->is_string()) return bad_request("params.request_id: must be a string");
    if (!request_id_valid(rid->get_string())) {
      return bad_request("params.request_id: 1 to 64 characters");
    }
  }
  return out;
}

std::string login_message(std::string_view key, std::int64_t ts, std::string_view nonce) {
  std::string m;
  m.reserve(key.size() + nonce.size() + 24);
  m.append(key).append("\n").append(std::to_string(ts)).append("\n").append(nonce);
  return m;
}

std::string hmac_sha256_hex(std::string_view secret, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  const unsigned char* ok =
      HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &mac_len);
  IPX_ASSERT(ok != nullptr);
  IPX_ASSERT(mac_len == 32);
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex(2 * mac_len, '0');
  for (unsigned int i = 0; i < mac_len; ++i) {
    hex[2 * i] = digits[mac[i] >> 4];
    hex[2 * i + 1] = digits[mac[i] & 0x0F];
  }
  return hex;
}

std::optional<Error> check_login_ts(const LoginParams& login, std::int64_t wall_ms,
                                    const Limits& limits) {
  // |ts - wall| <= skew, written so that no int64 ts can overflow it.
  if (login.ts < wall_ms - limits.login_skew_ms || login.ts > wall_ms + limits.login_skew_ms) {
    return unauthenticated("ts is not within the allowed skew of the server's clock");
  }
  return std::nullopt;
}

std::optional<Error> nonce_error(NonceStore::Outcome outcome) {
  switch (outcome) {
    case NonceStore::Outcome::fresh: return std::nullopt;
    case NonceStore::Outcome::replayed: return unauthenticated("nonce already used");
    case NonceStore::Outcome::full: return Error{"UNAVAILABLE", "too many logins, retry later"};
  }
  IPX_ASSERT(false && "nonce outcome");
  return std::nullopt;
}

std::variant<Principal, Error> verify_login(const LoginParams& login, const Application& app,
                                            NonceStore& nonces, std::int64_t wall_ms,
                                            const Limits& limits) {
  // The nonce is used up even by a login refused for its ts (PROTOCOL "Authentication").
  const auto ts_error = check_login_ts(login, wall_ms, limits);
  const auto nonce = nonces.record(login.nonce, wall_ms);
  if (ts_error) return *ts_error;
  if (auto e = nonce_error(nonce)) return *e;
  return check_login_signature(login, app);
}

std::variant<Principal, Error> check_login_signature(const LoginParams& login,
                                                     const Application& app) {
  const auto cred = app.find_key(login.key);
  // Unknown key and wrong signature read the same, so keys cannot be probed.
  if (!cred) return unauthenticated("invalid key or signature");
  const std::string expected = hmac_sha256_hex(cred->secret, login_message(login.key, login.ts, login.nonce));
  if (login.sig.size() != expected.size() ||
      CRYPTO_memcmp(login.sig.data(), expected.data(), expected.size()) != 0) {
    return unauthenticated("invalid key or signature");
  }
  IPX_ASSERT(!cred->participant_id.empty());
  return Principal{cred->participant_id, cred->kind, roles_for_kind(cred->kind)};
}

TokenBucket::TokenBucket(std::uint32_t rate_per_second, std::uint32_t burst, std::int64_t now_ns)
    : rate_(rate_per_second),
      capacity_(static_cast<std::int64_t>(burst) * scale),
      level_(capacity_),
      last_ns_(now_ns) {
  IPX_ASSERT(rate_per_second > 0);
  IPX_ASSERT(burst > 0);
}

bool TokenBucket::take(std::int64_t now_ns) noexcept {
  if (now_ns > last_ns_) {
    // Cap the elapsed time at what refills the whole bucket: no overflow, same result.
    const std::int64_t full_ns = capacity_ / rate_ + 1;
    const std::int64_t elapsed_ns = std::min(now_ns - last_ns_, full_ns);
    level_ = std::min(capacity_, level_ + elapsed_ns * rate_);
    last_ns_ = now_ns;
  }
  if (level_ < scale) return false;
  level_ -= scale;
  IPX_ASSERT(level_ >= 0 && level_ <= capacity_);
  return true;
}

}  // namespace ipx::gateway
