#pragma once
// Gateway limits and configuration. Every bound is a named constant with the PROTOCOL.md
// default; tests/gateway exercises each at its bound.
//
// Back of the envelope: 5,000 sessions × 4 MiB outbound cap = 20 GiB worst case, reached
// only if every client stalls at once; a typical session queues a few KiB. Inbound: 1,000
// frames/s × 64 KiB = 64 MiB/s per connection at most, parsed on the I/O threads.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace ipx::gateway {

class NonceStore;

struct Limits {
  // PROTOCOL.md "Limits".
  std::size_t message_bytes_max = 64 * 1024;  // payload after reassembly; over: close 1009
  std::uint32_t requests_per_second = 1000;   // token bucket refill, every frame counted
  std::uint32_t request_burst = 1000;         // token bucket capacity
  std::chrono::milliseconds handshake_timeout{30'000};  // TCP+TLS+HTTP upgrade, and each HTTP request
  std::size_t outbound_queue_bytes_max = 4 * 1024 * 1024;  // over: close 4001 "slow consumer"

  // Our own choices (docs/gateway.md).
  // No frame (pongs included) for this long closes the session; a WS ping goes out after
  // half of it without inbound traffic, so a live client never hits it.
  std::chrono::milliseconds idle_timeout{120'000};
  std::size_t connections_per_address_max = 4096;  // over: HTTP 429, connection closed
  std::size_t connections_max = 20'000;           // over: HTTP 503, connection closed
  std::size_t http_header_bytes_max = 8 * 1024;
  std::size_t http_body_bytes_max = 8 * 1024;
  // An asynchronous HTTP route (Server::add_async_route) answers within it, else 503.
  std::chrono::milliseconds http_route_timeout{10'000};
  std::size_t subscriptions_per_session_max = 1024;
  std::size_t channels_per_request_max = 256;
  std::size_t channel_name_bytes_max = 128;
  // Once a session is over its outbound cap it gets this long to take its close frame.
  std::chrono::milliseconds slow_consumer_close_timeout{5'000};
  // Server::drain(): first /readyz answers 503 for drain_notice while everything else is
  // still served; then the listener closes and in-flight replies get drain_timeout before
  // the remaining sessions are cut.
  std::chrono::milliseconds drain_notice{0};
  std::chrono::milliseconds drain_timeout{10'000};

  // Authentication (PROTOCOL.md "Authentication").
  std::int64_t login_skew_ms = 30'000;    // |ts - wall| <= 30 s
  std::int64_t nonce_ttl_ms = 300'000;    // a nonce is refused for 5 min after first use
  std::size_t nonce_store_max = 1'000'000;  // in-memory store bound; full: UNAVAILABLE
  // A login's nonce check (Redis: one round trip, bounded by its command timeout) answers
  // within this, else the login gets UNAVAILABLE and the connection reads on.
  std::chrono::milliseconds login_timeout{5'000};
};

struct ServerConfig {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 0;  // 0: an ephemeral port, see Server::port()
  unsigned threads = 2;           // I/O threads running the one io_context
  std::string tls_cert_file;      // both set: every connection is TLS (wss://, https://)
  std::string tls_key_file;
  bool handle_signals = true;     // SIGTERM/SIGINT → drain()
  Limits limits;
  // The server's real clock in ms since the epoch (login ts check, nonce expiry).
  std::function<std::int64_t()> wall_clock_ms;  // empty: std::chrono::system_clock
  std::shared_ptr<NonceStore> nonce_store;      // empty: an in-memory store
};

}  // namespace ipx::gateway
