#pragma once
// The gateway server: one port for HTTP (/healthz, /readyz, /metrics, added routes) and
// WebSocket (GET /v1/ws), plain or TLS, on N I/O threads, each running an io_context of its
// own; a connection lives on one of them, which serialises its handlers. See docs/gateway.md.
//
//   ipx::gateway::Server server(app, config);   // app: an ipx::gateway::Application
//   server.add_route("/v1/views/", handler);     // optional, before start()
//   server.start();                              // binds; throws std::runtime_error
//   ... server.port(), server.hub().publish(...) from any thread ...
//   server.run();                                // blocks until drain() has finished
//
// drain() (also on SIGTERM/SIGINT when config.handle_signals) stops accepting, makes
// /readyz answer 503, lets in-flight replies go out, closes WebSockets with 1001, and then
// run() returns.
#include <cstdint>
#include <memory>
#include <string>

#include "gateway/application.hpp"
#include "gateway/config.hpp"

namespace ipx::gateway {

class Hub;
class Metrics;

class Server {
 public:
  // app must outlive the server, and must not call Reply objects once the server is
  // destroyed.
  Server(Application& app, ServerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // A read-only view: GET requests whose path starts with path_prefix go to handler.
  void add_route(std::string path_prefix, RouteHandler handler);
  // The same, answered later through a RouteResponder (the handler must not block).
  void add_async_route(std::string path_prefix, AsyncRouteHandler handler);

  void start();                   // bind + listen; throws std::runtime_error on failure
  std::uint16_t port() const;     // the bound port (after start)
  bool tls() const noexcept;
  void run();                     // runs the I/O threads; returns once drained
  void drain();                   // thread-safe, idempotent
  bool draining() const noexcept;

  Hub& hub() noexcept;
  Metrics& metrics() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ipx::gateway
