// End-to-end tests of gateway/server.{hpp,cpp}: real sockets on 127.0.0.1.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/gateway/support.hpp"

namespace ipx::gateway::test {
namespace {

// --- HTTP ------------------------------------------------------------------------------

TEST(GatewayHttp, HealthReadyMetricsRoutesAnd404) {
  TestApp app;
  TestServer server(app);
  EXPECT_EQ(http_get(server.port(), "/healthz").status, 200u);
  EXPECT_EQ(http_get(server.port(), "/readyz").status, 200u);
  app.ready_ = false;
  EXPECT_EQ(http_get(server.port(), "/readyz").status, 503u);
  app.ready_ = true;

  const auto nf = http_get(server.port(), "/nope");
  EXPECT_EQ(nf.status, 404u);
  EXPECT_EQ(json::parse(nf.body).at("error").at("code").as_string(), "NOT_FOUND");
  const auto route = http_get(server.port(), "/v1/test/x?y=1");
  EXPECT_EQ(route.status, 200u);
  EXPECT_EQ(json::parse(route.body).at("target").as_string(), "/v1/test/x?y=1");

  {  // some traffic so every metric family has data
    WsClient c;
    ASSERT_TRUE(c.connect(server.port()));
    EXPECT_TRUE(c.call(1, "time.now").contains("result"));
  }
  const auto m = http_get(server.port(), "/metrics");
  EXPECT_EQ(m.status, 200u);
  EXPECT_EQ(m.content_type, "text/plain; version=0.0.4; charset=utf-8");
  for (const char* name : {"ipx_ws_connections ", "ipx_ws_messages_in_total ",
                           "ipx_request_latency_seconds_bucket{le=\"+Inf\"} ",
                           "ipx_logins_total{result=\"ok\"} ", "# TYPE ipx_request_latency_seconds histogram"}) {
    EXPECT_NE(m.body.find(name), std::string::npos) << name;
  }
#ifdef IPX_PROMTOOL
  const auto path = std::filesystem::temp_directory_path() / ("ipx_metrics_" + std::to_string(::getpid()) + ".txt");
  std::ofstream(path) << m.body;
  const std::string cmd = std::string(IPX_PROMTOOL) + " check metrics < " + path.string() + " 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << m.body;
  std::filesystem::remove(path);
#endif
}

// Asynchronous routes: answered later from another thread, the I/O thread free meanwhile;
// a responder dropped without an answer, or no answer in time, is 503 UNAVAILABLE.
TEST(GatewayHttp, AsyncRoutesAnswerLaterWithoutHoldingAnIoThread) {
  TestApp app;
  ServerConfig config;
  config.threads = 1;
  config.listen_host = "127.0.0.1";
  config.handle_signals = false;
  config.limits.http_route_timeout = 300ms;
  Server server(app, config);
  std::mutex mu;
  std::vector<std::thread> answerers;
  server.add_async_route("/v1/later/", [&](std::string_view target, RouteResponder respond) {
    std::lock_guard lock(mu);
    answerers.emplace_back([t = std::string(target), respond] {
      std::this_thread::sleep_for(200ms);
      respond(HttpResponse{200, "application/json", "{\"target\":\"" + t + "\"}"});
    });
  });
  server.add_async_route("/v1/dropped/", [](std::string_view, RouteResponder) {});
  server.add_async_route("/v1/never/", [&](std::string_view, RouteResponder respond) {
    std::lock_guard lock(mu);
    answerers.emplace_back([respond] {
      std::this_thread::sleep_for(600ms);
      respond(HttpResponse{});
    });
  });
  server.start();
  std::thread runner([&] { server.run(); });
  const auto t0 = std::chrono::steady_clock::now();
  std::thread slow([&] {
    const auto r = http_get(server.port(), "/v1/later/x?y=1");
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(json::parse(r.body).at("target").as_string(), "/v1/later/x?y=1");
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 200ms);
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(http_get(server.port(), "/healthz").status, 200u);  // not behind the slow route
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 180ms);
  slow.join();
  const auto dropped = http_get(server.port(), "/v1/dropped/");
  EXPECT_EQ(dropped.status, 503u);
  EXPECT_EQ(json::parse(dropped.body).at("error").at("code").as_string(), "UNAVAILABLE");
  const auto never = http_get(server.port(), "/v1/never/");  // the late answer is dropped
  EXPECT_EQ(never.status, 503u);
  server.drain();
  runner.join();
  std::lock_guard lock(mu);
  for (auto& t : answerers) t.join();
}

// --- Login -----------------------------------------------------------------------------

TEST(GatewayLogin, SuccessGivesPrincipalAndRoles) {
  TestApp app;
  TestServer server(app);
  WsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  auto r = c.login("k-admin", "s-admin");
  ASSERT_TRUE(r.contains("result")) << json::serialize(r);
  EXPECT_EQ(r.at("id").as_string(), "login");
  const auto& res = r.at("result").as_object();
  EXPECT_EQ(res.at("participant_id").as_string(), "P-1");
  EXPECT_EQ(res.at("kind").as_string(), "admin");
  EXPECT_EQ(json::serialize(res.at("roles")), R"(["admin","operator"])");
  auto echo = c.call(2, "test.echo", json::object{{"x", 1}});
  EXPECT_EQ(echo.at("result").at("participant_id").as_string(), "P-1");

  // Re-login on the same connection switches the principal.
  r = c.login("k-fund", "s-fund");
  EXPECT_EQ(json::serialize(r.at("result").at("roles")), "[]");
  EXPECT_EQ(c.call(3, "test.echo").at("result").at("participant_id").as_string(), "P-3");
  // A failed re-login keeps the current principal.
  auto bad = login_params("k-admin", "wrong", wall_now_ms(), fresh_nonce());
  EXPECT_EQ(error_code_of(c.call(4, "auth.login", bad)), "UNAUTHENTICATED");
  EXPECT_EQ(c.call(5, "test.echo").at("result").at("participant_id").as_string(), "P-3");
}

TEST(GatewayLogin, BadSignatureUnknownKeyAndConnectionStaysOpen) {
  TestApp app;
  TestServer server(app);
  WsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  auto p = login_params("k-trader", "not-the-secret", wall_now_ms(), fresh_nonce());
  auto r = c.call(1, "auth.login", p);
  EXPECT_EQ(error_code_of(r), "UNAUTHENTICATED");
  EXPECT_EQ(r.at("id").as_int64(), 1);
  auto upper = login_params("k-trader", "s-trader", wall_now_ms(), fresh_nonce());
  std::string sig(upper.at("sig").as_string());
  for (auto& ch : sig) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  upper["sig"] = sig;  // the signature is lowercase hex
  EXPECT_EQ(error_code_of(c.call(2, "auth.login", upper)), "UNAUTHENTICATED");
  EXPECT_EQ(error_code_of(c.call(3, "auth.login",
                                 login_params("k-nobody", "x", wall_now_ms(), fresh_nonce()))),
            "UNAUTHENTICATED");
  EXPECT_EQ(error_code_of(c.call(4, "test.echo")), "UNAUTHENTICATED");
  EXPECT_TRUE(c.login("k-trader", "s-trader").contains("result"));
}

TEST(GatewayLogin, TimestampWithin30sOfWallClockAtTheBound) {
  TestApp app;
  ServerConfig config;
  const std::int64_t wall = 1'764'145'200'000;
  config.wall_clock_ms = [wall] { return wall; };
  TestServer server(app, config);
  WsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  auto at = [&](std::int64_t ts) {
    return c.call(1, "auth.login", login_params("k-trader", "s-trader", ts, fresh_nonce()));
  };
  EXPECT_EQ(error_code_of(at(wall - 30'001)), "UNAUTHENTICATED");
  EXPECT_EQ(error_code_of(at(wall + 30'001)), "UNAUTHENTICATED");
  EXPECT_TRUE(at(wall - 30'000).contains("result"));
  EXPECT_TRUE(at(wall + 30'000).contains("result"));
}

TEST(GatewayLogin, NonceRefusedWhenSeenBeforeEvenAfterAFailedLogin) {
  TestApp app;
  TestServer server(app);
  WsClient a, b;
  ASSERT_TRUE(a.connect(server.port()));
  ASSERT_TRUE(b.connect(server.port()));
  const std::int64_t ts = wall_now_ms();
  const auto p = login_params("k-trader", "s-trader", ts, "replayed-nonce-1");
  EXPECT_TRUE(a.call(1, "auth.login", p).contains("result"));
  auto r = b.call(1, "auth.login", p);  // replay, another connection
  EXPECT_EQ(error_code_of(r), "UNAUTHENTICATED");
  EXPECT_NE(error_message_of(r).find("nonce"), std::string::npos);
  // A failed login uses its nonce up too.
  EXPECT_EQ(error_code_of(b.call(2, "auth.login",
                                 login_params("k-trader", "wrong", ts, "replayed-nonce-2"))),
            "UNAUTHENTICATED");
  EXPECT_EQ(error_code_of(b.call(3, "auth.login",
                                 login_params("k-trader", "s-trader", ts, "replayed-nonce-2"))),
            "UNAUTHENTICATED");
  // So does one refused for a ts out of the window, stale or ahead: the same nonce with a good
  // ts is then refused as used.
  for (const std::int64_t off : {-120'000, 120'000}) {
    const std::string nonce = "ts-window-nonce" + std::to_string(off);
    r = b.call(4, "auth.login", login_params("k-trader", "s-trader", ts + off, nonce));
    EXPECT_EQ(error_code_of(r), "UNAUTHENTICATED");
    EXPECT_NE(error_message_of(r).find("skew"), std::string::npos) << error_message_of(r);
    r = b.call(5, "auth.login", login_params("k-trader", "s-trader", wall_now_ms(), nonce));
    EXPECT_EQ(error_code_of(r), "UNAUTHENTICATED") << off;
    EXPECT_NE(error_message_of(r).find("nonce"), std::string::npos) << error_message_of(r);
  }
}

// A nonce store that answers like a remote one: record_async() from a thread of its own,
// after `delay` (the Redis store's round trip, here made long).
class SlowNonceStore final : public NonceStore {
 public:
  explicit SlowNonceStore(std::chrono::milliseconds delay) : delay_(delay) {}
  ~SlowNonceStore() override {
    for (auto& t : threads_) t.join();
  }
  Outcome record(std::string_view nonce, std::int64_t now_ms) override {
    return memory_.record(nonce, now_ms);
  }
  void record_async(std::string_view nonce, std::int64_t now_ms, Done done) override {
    const Outcome o = memory_.record(nonce, now_ms);
    std::lock_guard lock(mu_);
    threads_.emplace_back([this, o, done = std::move(done)] {
      std::this_thread::sleep_for(delay_);
      done(o);
    });
  }

 private:
  std::chrono::milliseconds delay_;
  MemoryNonceStore memory_{300'000, 1000};
  std::mutex mu_;
  std::vector<std::thread> threads_;
};

// The nonce check does not hold an I/O thread: with one I/O thread and a login waiting
// 300 ms for its nonce, other connections are served meanwhile; the frames pipelined behind
// the login on its own connection are handled after it, in order, as the new principal.
TEST(GatewayLogin, NonceCheckIsAsynchronousAndLaterFramesWaitInOrder) {
  TestApp app;
  ServerConfig config;
  config.threads = 1;
  config.nonce_store = std::make_shared<SlowNonceStore>(300ms);
  TestServer server(app, config);
  WsClient a, b;
  ASSERT_TRUE(a.connect(server.port()));
  ASSERT_TRUE(b.connect(server.port()));
  json::object login{
      {"id", "login"},
      {"method", "auth.login"},
      {"params", login_params("k-trader", "s-trader", wall_now_ms(), fresh_nonce())}};
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(a.send_json(login));
  ASSERT_TRUE(a.send(R"({"id":2,"method":"test.echo"})"));
  ASSERT_TRUE(a.send(R"({"id":3,"method":"time.now"})"));
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(b.call(1, "time.now").contains("result"));  // not behind a's login
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 250ms);
  auto r1 = a.read_json();
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->at("id").as_string(), "login");
  EXPECT_TRUE(r1->contains("result"));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 300ms);
  auto r2 = a.read_json();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->at("id").as_int64(), 2);  // after the login, so as the trader
  EXPECT_EQ(r2->at("result").at("participant_id").as_string(), "P-2");
  auto r3 = a.read_json();
  ASSERT_TRUE(r3);
  EXPECT_EQ(r3->at("id").as_int64(), 3);
  // A replay is refused the same way, asynchronously.
  auto replay = a.call(4, "auth.login", login.at("params"));
  EXPECT_EQ(error_code_of(replay), "UNAUTHENTICATED");
  EXPECT_NE(error_message_of(replay).find("nonce"), std::string::npos);
}

// A nonce store that does not answer within limits.login_timeout: UNAVAILABLE (retry with
// a new nonce), the connection reads on, and the late answer is dropped.
TEST(GatewayLogin, NonceCheckTimeoutIsUnavailable) {
  TestApp app;
  ServerConfig config;
  config.limits.login_timeout = 100ms;
  config.nonce_store = std::make_shared<SlowNonceStore>(400ms);
  TestServer server(app, config);
  WsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  auto r =
      c.call(1, "auth.login", login_params("k-trader", "s-trader", wall_now_ms(), fresh_nonce()));
  EXPECT_EQ(error_code_of(r), "UNAVAILABLE");
  EXPECT_EQ(error_code_of(c.call(2, "test.echo")), "UNAUTHENTICATED");
  std::this_thread::sleep_for(400ms);  // the late answer arrives and changes nothing
  EXPECT_EQ(error_code_of(c.call(3, "test.echo")), "UNAUTHENTICATED");
  EXPECT_TRUE(c.call(4, "time.now").contains("result"));
}

// A session closed (drain) while its login waits: the login's reply goes out first.
TEST(GatewayLogin, DrainWaitsForALoginInProgress) {
  TestApp app;
  ServerConfig config;
  config.nonce_store = std::make_shared<SlowNonceStore>(200ms);
  TestServer server(app, config);
  WsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  ASSERT_TRUE(c.send_json(json::object{
      {"id", "login"},
      {"method", "auth.login"},
      {"params", login_params("k-trader", "s-trader", wall_now_ms(), fresh_nonce())}}));
  std::this_thread::sleep_for(50ms);
  server->drain();
  auto r = c.read_json();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->contains("result"));
  EXPECT_EQ(c.read_until_closed(), 1001);
  EXPECT_TRUE(server.join_within(5s));
}

TEST(GatewayLogin, MalformedParamsAreBadRequestNamingTheField) {
  TestApp app;
  TestServer server(app);
  WsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  auto good = [] { return login_params("k-trader", "s-trader", wall_now_ms(), fresh_nonce()); };
  auto expect_bad = [&](json::value params, const std::string& field) {
    auto r = c.call(9, "auth.login", params);
    EXPECT_EQ(error_code_of(r), "BAD_REQUEST") << json::serialize(params);
    EXPECT_NE(error_message_of(r).find(field), std::string::npos) << error_message_of(r);
  };
  expect_bad(nullptr, "params");
  expect_bad(json::array{}, "params");
  for (const char* f : {"key", "ts", "nonce", "sig"}) {
    auto p = good();
    p.erase(f);
    expect_bad(p, f);
  }
  auto p = good();
  p["extra"] = 1;
  expect_bad(p, "extra");
  p = good();
  p["ts"] = std::to_string(wall_now_ms());
  expect_bad(p, "ts");
  p = good();
  p["ts"] = 1.0 * static_cast<double>(wall_now_ms());
  expect_bad(p, "ts");
  p = good();
  p["key"] = 5;
  expect_bad(p, "key");
  // nonce: 8-64 characters, both bounds.
  const std::int64_t ts = wall_now_ms();
  expect_bad(login_params("k-trader", "s-trader", ts, std::string(7, 'a')), "nonce");
  expect_bad(login_params("k-trader", "s-trader", ts, std::string(65, 'b')), "nonce");
  EXPECT_TRUE(c.call(1, "auth.login", login_params("k-trader", "s-trader", ts, std::string(8, 'c')))
                  .contains("result"));
  EXPECT_TRUE(c.call(2, "auth.login", login_params("k-trader", "s-trader", ts, std::string(64, 'd')))
                  .contains("result"));
  auto with_rid = login_params("k-trader", "s-trader", ts, fresh_nonce());
  with_rid["request_id"] = "r-1";
  EXPECT_TRUE(c.call(3, "auth.login", with_rid).contains("result"));
}

// --- Envelope --------------------------------------------------------------------------

TEST(GatewayEnvelope, NotLoggedInIsUnauthenticatedExceptTimeNow) {
  TestApp app;
  TestServer server(app);
  WsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  auto r = c.call(1, "time.now");
  ASSERT_TRUE(r.contains("result"));
  EXPECT_TRUE(r.at("result").as_object().contains("wall"));
  EXPECT_EQ(error_code_of(c.call(2, "test.echo")), "UNAUTHENTICATED");
  EXPECT_EQ(error_code_of(c.call(3, "subscribe", json::object{{"channels", json::array{"x"}}})),
            "UNAUTHENTICATED");
  // Logged in comes before well-formed: a bad params type on a non-login method.
  EXPECT_EQ(error_code_of(c.call(4, "test.echo", json::array{})), "UNAUTHENTICATED");
  EXPECT_TRUE(c.send(R"({"id":5})"));  // no method: not time.now, so UNAUTHENTICATED
  EXPECT_EQ(error_code_of(*c.read_json()), "UNAUTHENTICATED");
}

TEST(GatewayEnvelope, NonObjectFramesAndBadIds) {
  TestApp app;
  TestServer server(app);
  WsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  ASSERT_TRUE(c.login("k-trader", "s-trader").contains("result"));
  for (const char* frame : {"not json", "[1,2]", "\"text\"", "42", "null", "{\"id\":1,"}) {
    ASSERT_TRUE(c.send(frame));
    auto r = c.read_json();
    ASSERT_TRUE(r) << frame;
    EXPECT_TRUE(r->at("id").is_null()) << frame;
    EXPECT_EQ(error_code_of(*r), "BAD_REQUEST") << frame;
  }
  // No id: served, answered with id null.
  ASSERT_TRUE(c.send(R"({"method":"test.echo"})"));
  auto served = c.read_json();
  ASSERT_TRUE(served);
  EXPECT_TRUE(served->at("id").is_null());
  EXPECT_TRUE(served->contains("result"));
  for (const char* frame :
       {R"({"id":7.0,"method":"test.echo"})", R"({"id":{"a":1},"method":"test.echo"})",
        R"({"id":true,"method":"test.echo"})", R"({"id":null,"method":"test.echo"})",
        R"({"id":9223372036854775808,"method":"test.echo"})"}) {
    ASSERT_TRUE(c.send(frame));
    auto r = c.read_json();
    ASSERT_TRUE(r) << frame;
    EXPECT_TRUE(r->at("id").is_null()) << frame;
    EXPECT_EQ(error_code_of(*r), "BAD_REQUEST") << frame;
  }
  // Valid ids are echoed: strings, int64 bounds.
  EXPECT_EQ(c.call("abc", "test.echo").at("id").as_string(), "abc");
  EXPECT_EQ(c.call(INT64_MAX, "test.echo").at("id").as_int64(), INT64_MAX);
  EXPECT_EQ(c.call(INT64_MIN, "test.echo").at("id").as_int64(), INT64_MIN);
  // Method and params shape, with the id echoed.
  ASSERT_TRUE(c.send(R"({"id":11})"));
  auto r = c.read_json();
  EXPECT_EQ(r->at("id").as_int64(), 11);
  EXPECT_EQ(error_code_of(*r), "BAD_REQUEST");
  EXPECT_EQ(error_code_of(c.call(12, "test.echo", json::array{1})), "BAD_REQUEST");
  EXPECT_EQ(error_code_of(c.call(13, "no.such.method")), "BAD_REQUEST");
  // An application that drops its Reply: the client still gets an answer.
  EXPECT_EQ(error_code_of(c.call(14, "test.drop")), "INTERNAL");
}

// --- Limits ----------------------------------------------------------------------------

std::string echo_frame_of_size(std::size_t size) {
  const std::string head = R"({"id":1,"method":"test.echo","params":{"pad":")";
  const std::string tail = "\"}}";
  return head + std::string(size - head.size() - tail.size(), 'x') + tail;
}

TEST(GatewayLimits, MessageOf64KiBAcceptedOneByteMoreCloses1009) {
  TestApp app;
  TestServer server(app);
  WsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  ASSERT_TRUE(c.login("k-trader", "s-trader").contains("result"));
  const std::string exact = echo_frame_of_size(64 * 1024);
  ASSERT_EQ(exact.size(), 65'536u);
  ASSERT_TRUE(c.send(exact));
  auto r = c.read_json();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->contains("result"));
  ASSERT_TRUE(c.send(echo_frame_of_size(64 * 1024 + 1)));
  EXPECT_EQ(c.read_until_closed(), 1009);
}

TEST(GatewayLimits, BinaryFrameCloses1003) {
  TestApp app;
  TestServer server(app);
  WsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  ASSERT_TRUE(c.send(R"({"id":1,"method":"time.now"})", /*binary=*/true));
  EXPECT_EQ(c.read_until_closed(), 1003);
}

TEST(GatewayLimits, InvalidUtf8Closes1007) {
  TestApp app;
  TestServer server(app);
  WsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  ASSERT_TRUE(c.send(std::string("{\"id\":1,\"method\":\"time.now\",\"x\":\"\xC3\x28\"}")));
  EXPECT_EQ(c.read_until_closed(), 1007);
}

// Burst at its bound: the refill is slowed to 1/s so the test measures the burst alone.
TEST(GatewayLimits, BurstOf1000AcceptedThe1001stRateLimited) {
  TestApp app;
  ServerConfig config;
  config.limits.requests_per_second = 1;
  TestServer server(app, config);
  WsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  std::string batch;
  for (int i = 1; i <= 1001; ++i) {
    ASSERT_TRUE(c.send(R"({"id":)" + std::to_string(i) + R"(,"method":"time.now"})"));
  }
  for (int i = 1; i <= 1001; ++i) {
    auto r = c.read_json();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->at("id").as_int64(), i);
    if (i <= 1000) {
      EXPECT_TRUE(r->contains("result")) << i;
    } else {
      EXPECT_EQ(error_code_of(*r), "RATE_LIMITED");
    }
  }
  // Unparseable frames are counted too, and answered with id null.
  ASSERT_TRUE(c.send("junk"));
  auto r = c.read_json();
  EXPECT_TRUE(r->at("id").is_null());
  EXPECT_EQ(error_code_of(*r), "RATE_LIMITED");
}

// The default 1,000/s refill: a flood gets at most burst + rate × elapsed through.
TEST(GatewayLimits, DefaultRateLimitUnderAFlood) {
  TestApp app;
  TestServer server(app);
  WsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  const int n = 1500;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 1; i <= n; ++i) {
    ASSERT_TRUE(c.send(R"({"id":)" + std::to_string(i) + R"(,"method":"time.now"})"));
  }
  int ok = 0, limited = 0;
  for (int i = 1; i <= n; ++i) {
    auto r = c.read_json();
    ASSERT_TRUE(r);
    if (r->contains("result")) ++ok;
    if (error_code_of(*r) == "RATE_LIMITED") ++limited;
  }
  const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(ok + limited, n);
  EXPECT_GE(ok, 1000);
  EXPECT_LE(ok, 1000 + elapsed_ms + 1);
}

TEST(GatewayLimits, ConnectionsPerAddress) {
  TestApp app;
  ServerConfig config;
  config.limits.connections_per_address_max = 3;
  TestServer server(app, config);
  WsClient a, b, c, d;
  ASSERT_TRUE(a.connect(server.port()));
  ASSERT_TRUE(b.connect(server.port()));
  ASSERT_TRUE(c.connect(server.port()));
  EXPECT_FALSE(d.connect(server.port()));
  EXPECT_EQ(d.handshake_status(), 429u);
  a.stream().close(websocket::close_code::normal);
  // The slot is released once the server has seen the close.
  bool reconnected = false;
  for (int i = 0; i < 50 && !reconnected; ++i) {
    WsClient e;
    reconnected = e.connect(server.port());
    if (!reconnected) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(reconnected);
}

TEST(GatewayLimits, HandshakeAndIdleTimeouts) {
  TestApp app;
  ServerConfig config;
  config.limits.handshake_timeout = 300ms;
  config.limits.idle_timeout = 600ms;
  TestServer server(app, config);
  {  // TCP connected, no HTTP request: cut after the handshake timeout.
    net::io_context ioc;
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server.port()));
    const auto t0 = std::chrono::steady_clock::now();
    char byte;
    beast::error_code ec;
    s.read_some(net::buffer(&byte, 1), ec);
    EXPECT_TRUE(ec);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  }
  {  // A peer that answers no ping (it never reads) is closed after the idle timeout.
    WsClient c;
    ASSERT_TRUE(c.connect(server.port()));
    std::this_thread::sleep_for(1500ms);
    std::size_t frames = 0;
    c.read_until_closed(2s, &frames);
    EXPECT_FALSE(c.timed_out());
  }
  {  // A peer that keeps reading answers the pings and stays.
    WsClient c;
    ASSERT_TRUE(c.connect(server.port()));
    EXPECT_FALSE(c.read(1500ms));
    EXPECT_TRUE(c.timed_out());
  }
}

// A client that never reads is closed 4001 while another keeps receiving everything.
TEST(GatewayLimits, SlowConsumerClosed4001OthersUnaffected) {
  TestApp app;
  ServerConfig config;
  config.limits.slow_consumer_close_timeout = 30s;
  TestServer server(app, config);
  WsClient slow, fast;
  ASSERT_TRUE(slow.connect(server.port()));
  ASSERT_TRUE(fast.connect(server.port()));
  for (auto* c : {&slow, &fast}) {
    ASSERT_TRUE(c->login("k-trader", "s-trader").contains("result"));
    ASSERT_TRUE(c->call(2, "subscribe", json::object{{"channels", json::array{"flood"}}})
                    .contains("result"));
  }
  ASSERT_EQ(fast.read_json()->at("type").as_string(), "snapshot");

  std::atomic<std::uint64_t> fast_seq{0};
  std::atomic<bool> fast_ok{true};
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop.load()) {
      auto m = fast.read_json(200ms);
      if (!m) {
        if (!fast.timed_out()) break;  // closed
        continue;
      }
      const auto seq = static_cast<std::uint64_t>(m->at("seq").as_int64());
      if (seq != fast_seq.load() + 1) fast_ok = false;
      fast_seq = seq;
    }
  });
  const json::value data = json::object{{"pad", std::string(32 * 1024, 'p')}};
  auto& slow_closes = server->metrics().counter("ipx_ws_slow_consumer_total", "");
  std::uint64_t published = 0;
  for (; published < 3000 && slow_closes.value() == 0; ++published) {
    server->hub().publish("flood", "update", wall_now_ms(), data);
    // Pace to the fast reader: at most 64 pushes (2 MiB) ahead of it.
    while (fast_seq.load() + 64 < published + 1) std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(slow_closes.value(), 1u) << "published " << published << ", fast at " << fast_seq.load();
  for (int i = 0; i < 20; ++i) server->hub().publish("flood", "update", wall_now_ms(), data);
  published += 20;
  for (int i = 0; i < 500 && fast_seq.load() < published; ++i) std::this_thread::sleep_for(10ms);
  stop = true;
  reader.join();
  EXPECT_TRUE(fast_ok.load());
  EXPECT_EQ(fast_seq.load(), published);

  std::size_t frames = 0;
  EXPECT_EQ(slow.read_until_closed(20s, &frames), 4001);
  EXPECT_EQ(slow.close_reason(), "slow consumer");
  EXPECT_LT(frames, published);
}

// --- Subscriptions ---------------------------------------------------------------------

TEST(GatewayHub, SnapshotThenGapFreeSeqUnderConcurrentPublishing) {
  TestApp app;
  TestServer server(app);
  const std::string topic = "auction.A-1";
  constexpr int publishers = 3;
  constexpr int per_publisher = 400;
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int p = 0; p < publishers; ++p) {
    threads.emplace_back([&, p] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < per_publisher; ++i) {
        server->hub().publish(topic, "bid", wall_now_ms(), json::object{{"p", p}, {"i", i}},
                              app.count_update(topic));
        if (i % 50 == 0) std::this_thread::sleep_for(1ms);
      }
    });
  }
  constexpr int clients = 4;
  std::vector<std::unique_ptr<WsClient>> cs;
  for (int i = 0; i < clients; ++i) {
    cs.push_back(std::make_unique<WsClient>());
    ASSERT_TRUE(cs.back()->connect(server.port()));
    ASSERT_TRUE(cs.back()->login("k-trader", "s-trader").contains("result"));
  }
  go = true;
  for (int i = 0; i < clients; ++i) {  // subscribe at different moments of the stream
    std::this_thread::sleep_for(std::chrono::milliseconds(20 * i));
    auto r = cs[i]->call("s", "subscribe", json::object{{"channels", json::array{topic}}});
    ASSERT_EQ(json::serialize(r.at("result")), R"({"channels":["auction.A-1"]})");
  }
  for (auto& t : threads) t.join();
  const std::uint64_t total = publishers * per_publisher;
  EXPECT_EQ(server->hub().seq(topic), total);
  for (auto& c : cs) {
    ASSERT_TRUE(c->pushes.empty());  // nothing before the reply
    auto snap = c->read_json();
    ASSERT_TRUE(snap);
    EXPECT_EQ(snap->at("type").as_string(), "snapshot");
    EXPECT_EQ(snap->at("channel").as_string(), topic);
    std::uint64_t seq = static_cast<std::uint64_t>(snap->at("seq").as_int64());
    // The snapshot was built under the same lock as the updates: state matches seq.
    EXPECT_EQ(snap->at("data").at("count").as_int64(), static_cast<std::int64_t>(seq));
    while (seq < total) {
      auto m = c->read_json();
      ASSERT_TRUE(m);
      ASSERT_EQ(static_cast<std::uint64_t>(m->at("seq").as_int64()), seq + 1);
      EXPECT_EQ(m->at("type").as_string(), "bid");
      seq += 1;
    }
  }
  // Re-subscribe after a reconnect: a fresh snapshot at the current seq.
  WsClient again;
  ASSERT_TRUE(again.connect(server.port()));
  ASSERT_TRUE(again.login("k-trader", "s-trader").contains("result"));
  ASSERT_TRUE(again.call(1, "subscribe", json::object{{"channels", json::array{topic}}})
                  .contains("result"));
  auto snap = again.read_json();
  EXPECT_EQ(snap->at("seq").as_int64(), static_cast<std::int64_t>(total));
  server->hub().publish(topic, "close", wall_now_ms(), json::object{}, app.count_update(topic));
  EXPECT_EQ(again.read_json()->at("seq").as_int64(), static_cast<std::int64_t>(total + 1));
}

// Sessions that vanish (TCP cut, no close handshake) while the hub fans out to them and
// their replies arrive from another thread: every strong reference taken off the strand
// (push, reply) is released on the session's strand. Run under ASan/TSan (docs/gateway.md
// "Threading") this is the test of the session lifetime rule; here it checks that nothing
// is left behind and the server keeps serving.
TEST(GatewayHub, SessionsCutDuringFanOutAndReplies) {
  TestApp app;
  TestServer server(app);
  const std::string topic = "auction.A-9";
  std::atomic<bool> stop{false};
  std::thread publisher([&] {  // ~1,000 pushes/s: a stream, not a flood (sanitizer builds)
    while (!stop.load()) {
      server->hub().publish(topic, "bid", wall_now_ms(), json::object{{"x", 1}},
                            app.count_update(topic));
      std::this_thread::sleep_for(1ms);
    }
  });
  std::thread replier([&] {  // answers test.defer from a thread of its own, like the engine
    while (!stop.load()) {
      for (auto& r : app.take_deferred()) r.result(json::object{{"late", true}});
      std::this_thread::sleep_for(1ms);
    }
  });
  constexpr int workers = 4;
  constexpr int rounds = 100;
  std::vector<std::thread> clients;
  std::atomic<int> subscribed{0};
  for (int w = 0; w < workers; ++w) {
    clients.emplace_back([&] {
      for (int i = 0; i < rounds; ++i) {
        WsClient c;
        if (!c.connect(server.port()) || !c.login("k-trader", "s-trader").contains("result"))
          continue;
        if (c.call(1, "subscribe", json::object{{"channels", json::array{topic}}})
                .contains("result")) {
          ++subscribed;
        }
        c.send(R"({"id":2,"method":"test.defer"})");
        c.read(5ms);  // a push or two, then the client vanishes mid-stream
      }
    });
  }
  for (auto& t : clients) t.join();
  stop = true;
  publisher.join();
  replier.join();
  for (auto& r : app.take_deferred()) r.result(json::object{});  // replies to closed sessions
  EXPECT_EQ(subscribed.load(), workers * rounds);
  // Every cut session is gone (pruned or unsubscribed), and the server still serves.
  for (int i = 0;
       i < 200 && server->metrics().render().find("ipx_ws_connections 0\n") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_NE(server->metrics().render().find("ipx_ws_connections 0\n"), std::string::npos);
  server->hub().publish(topic, "bid", wall_now_ms(), json::object{}, app.count_update(topic));
  EXPECT_EQ(server->hub().subscribers(topic), 0u);
  WsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  EXPECT_TRUE(c.login("k-trader", "s-trader").contains("result"));
}

TEST(GatewayHub, PrivateChannelsForbiddenChannelsAndUnsubscribe) {
  TestApp app;
  TestServer server(app);
  WsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  ASSERT_TRUE(c.login("k-trader", "s-trader").contains("result"));
  EXPECT_EQ(error_code_of(c.call(1, "subscribe",
                                 json::object{{"channels", json::array{"ok.1", "forbidden.x"}}})),
            "FORBIDDEN");
  EXPECT_EQ(error_code_of(c.call(2, "subscribe", json::object{{"channels", json::array{}}})),
            "BAD_REQUEST");
  EXPECT_EQ(error_code_of(c.call(3, "subscribe", json::object{{"channel", "x"}})), "BAD_REQUEST");
  EXPECT_EQ(server->hub().subscribers("ok.1"), 0u);

  ASSERT_TRUE(c.call(4, "subscribe", json::object{{"channels", json::array{"private"}}})
                  .contains("result"));
  auto snap = c.read_json();
  EXPECT_EQ(snap->at("channel").as_string(), "private");
  EXPECT_EQ(snap->at("data").at("topic").as_string(), "private#P-2");
  server->hub().publish("private#P-1", "fill", 1, json::object{});  // someone else's
  server->hub().publish("private#P-2", "fill", 2, json::object{{"mine", true}});
  auto m = c.read_json();
  EXPECT_EQ(m->at("channel").as_string(), "private");
  EXPECT_EQ(m->at("seq").as_int64(), 1);
  EXPECT_EQ(m->at("ts").as_int64(), 2);
  EXPECT_TRUE(m->at("data").at("mine").as_bool());

  auto r = c.call(5, "unsubscribe", json::object{{"channels", json::array{"private"}}});
  EXPECT_EQ(json::serialize(r.at("result")), R"({"channels":["private"]})");
  server->hub().publish("private#P-2", "fill", 3, json::object{});
  EXPECT_EQ(c.call(6, "time.now").at("id").as_int64(), 6);
  EXPECT_TRUE(c.pushes.empty());
  EXPECT_EQ(server->hub().subscribers("private#P-2"), 0u);
}

// --- TLS -------------------------------------------------------------------------------

#ifdef IPX_OPENSSL
TEST(GatewayTls, WssWithASelfSignedCertificate) {
  const auto dir = std::filesystem::temp_directory_path() / ("ipx_tls_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto cert = (dir / "cert.pem").string();
  const auto key = (dir / "key.pem").string();
  const std::string cmd = std::string(IPX_OPENSSL) +
                          " req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout " +
                          key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  TestApp app;
  ServerConfig config;
  config.tls_cert_file = cert;
  config.tls_key_file = key;
  TestServer server(app, config);
  EXPECT_TRUE(server->tls());

  ssl::context ctx(ssl::context::tls_client);
  ctx.load_verify_file(cert);  // trust exactly this self-signed certificate
  ctx.set_verify_mode(ssl::verify_peer);
  WssClient c(ctx);
  ASSERT_TRUE(c.connect(server.port())) << c.error().message();
  EXPECT_TRUE(c.call(1, "time.now").contains("result"));
  EXPECT_TRUE(c.login("k-trader", "s-trader").contains("result"));
  EXPECT_EQ(c.call(2, "test.echo", json::object{{"a", 1}}).at("result").at("params").at("a").as_int64(), 1);
  ASSERT_TRUE(c.call(3, "subscribe", json::object{{"channels", json::array{"tls.x"}}}).contains("result"));
  EXPECT_EQ(c.read_json()->at("type").as_string(), "snapshot");
  // A plain client cannot talk to the TLS port.
  WsClient plain;
  EXPECT_FALSE(plain.connect(server.port()));
  std::filesystem::remove_all(dir);
}
#endif

// --- Drain -----------------------------------------------------------------------------

TEST(GatewayDrain, InFlightRepliesGoOutThenClose1001AndRunReturns) {
  TestApp app;
  ServerConfig config;
  config.limits.drain_notice = 300ms;
  TestServer server(app, config);
  WsClient c;
  ASSERT_TRUE(c.connect(server.port()));
  ASSERT_TRUE(c.login("k-trader", "s-trader").contains("result"));
  ASSERT_TRUE(c.send(R"({"id":"deferred","method":"test.defer"})"));
  std::vector<Reply> pending;
  for (int i = 0; i < 200 && pending.empty(); ++i) {
    pending = app.take_deferred();
    if (pending.empty()) std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(pending.size(), 1u);
  server->drain();
  EXPECT_TRUE(server->draining());
  EXPECT_EQ(http_get(server.port(), "/readyz").status, 503u);   // during the notice
  EXPECT_EQ(http_get(server.port(), "/healthz").status, 200u);
  EXPECT_TRUE(c.call(5, "test.echo").contains("result"));  // still served during the notice
  std::this_thread::sleep_for(400ms);  // past the notice: the session waits for its reply
  EXPECT_EQ(error_code_of(c.call(6, "test.echo")), "UNAVAILABLE");  // new requests refused
  std::thread([r = pending.front()] { r.result(json::object{{"late", true}}); }).join();
  auto r = c.read_json();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at("id").as_string(), "deferred");
  EXPECT_TRUE(r->at("result").at("late").as_bool());
  EXPECT_EQ(c.read_until_closed(), 1001);
  EXPECT_TRUE(server.join_within(5s));
}

}  // namespace
}  // namespace ipx::gateway::test
