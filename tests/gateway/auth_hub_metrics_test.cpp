// Socket-free tests of gateway/auth, gateway/hub and gateway/metrics.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "gateway/application.hpp"
#include "gateway/auth.hpp"
#include "gateway/hub.hpp"
#include "gateway/metrics.hpp"

namespace ipx::gateway {
namespace {

namespace json = boost::json;

TEST(GatewayRoles, KindsMapToRolesPerProtocol) {
  EXPECT_EQ(role_names(roles_for_kind("admin")), (std::vector<std::string>{"admin", "operator"}));
  EXPECT_EQ(role_names(roles_for_kind("operator")), (std::vector<std::string>{"operator"}));
  EXPECT_EQ(role_names(roles_for_kind("bank")), (std::vector<std::string>{"bank"}));
  EXPECT_EQ(role_names(roles_for_kind("enterprise")), (std::vector<std::string>{"trader"}));
  EXPECT_EQ(role_names(roles_for_kind("individual")), (std::vector<std::string>{"trader"}));
  EXPECT_EQ(role_names(roles_for_kind("backstop")), (std::vector<std::string>{"backstop"}));
  EXPECT_TRUE(roles_for_kind("risk_fund").none());
  EXPECT_TRUE(has_role(roles_for_kind("admin"), Role::operator_));
}

TEST(GatewayAuth, HmacMatchesAKnownVector) {
  // RFC 4231 test case 2.
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(login_message("k", 17, "abcdefgh"), "k\n17\nabcdefgh");
}

TEST(GatewayAuth, TokenBucketBurstThenRefillAtTheRate) {
  constexpr std::int64_t ms = 1'000'000;
  TokenBucket b(1000, 1000, 0);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(b.take(0)) << i;
  EXPECT_FALSE(b.take(0));           // the 1,001st at the same instant
  EXPECT_FALSE(b.take(ms - 1));      // not yet one token back
  EXPECT_TRUE(b.take(ms));           // 1 ms at 1,000/s = one token
  EXPECT_FALSE(b.take(ms));
  // A long pause refills to the burst, never beyond it.
  const std::int64_t later = 3600LL * 1000 * ms;
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(b.take(later)) << i;
  EXPECT_FALSE(b.take(later));
}

TEST(GatewayAuth, NonceStoreRemembersForTheTtlAndIsBounded) {
  MemoryNonceStore s(300'000, 2);
  EXPECT_EQ(s.record("aaaaaaaa", 1'000), NonceStore::Outcome::fresh);
  EXPECT_EQ(s.record("aaaaaaaa", 300'999), NonceStore::Outcome::replayed);
  EXPECT_EQ(s.record("bbbbbbbb", 2'000), NonceStore::Outcome::fresh);
  EXPECT_EQ(s.record("cccccccc", 2'000), NonceStore::Outcome::full);
  EXPECT_EQ(s.record("aaaaaaaa", 301'000), NonceStore::Outcome::fresh);  // expired, reusable
  EXPECT_EQ(s.size(), 2u);
  // A clock stepping back does not resurrect expired entries nor shorten live ones.
  EXPECT_EQ(s.record("aaaaaaaa", 5'000), NonceStore::Outcome::replayed);
}

TEST(GatewayAuth, LoginParamsStrict) {
  auto ok = json::parse(R"({"key":"k","ts":1,"nonce":"12345678","sig":"ab"})");
  EXPECT_TRUE(std::holds_alternative<LoginParams>(parse_login_params(ok)));
  auto err = [](const char* text) {
    auto r = parse_login_params(json::parse(text));
    return std::holds_alternative<Error>(r) ? std::get<Error>(r).message : std::string("ok");
  };
  EXPECT_NE(err(R"({"key":"k","ts":1,"nonce":"12345678","sig":"ab","x":1})").find("params.x"), std::string::npos);
  EXPECT_NE(err(R"({"key":"k","ts":1.5,"nonce":"12345678","sig":"ab"})").find("params.ts"), std::string::npos);
  EXPECT_NE(err(R"({"key":"k","ts":18446744073709551615,"nonce":"12345678","sig":"ab"})").find("params.ts"), std::string::npos);
  // 8 characters of which some are multi-byte: counted as characters.
  EXPECT_EQ(err("{\"key\":\"k\",\"ts\":1,\"nonce\":\"\xE5\x88\xA9\xE5\x88\xA9\xE5\x88\xA9\xE5\x88\xA9\xE5\x88\xA9\xE5\x88\xA9\xE5\x88\xA9\xE5\x88\xA9\",\"sig\":\"ab\"}"), "ok");
}

// Frames are built from parts; each part must be exactly json::serialize's text.
TEST(GatewayJson, AppendJsonIsSerialize) {
  json::object big;
  for (int i = 0; i < 300; ++i)
    big["k" + std::to_string(i)] = json::array{i, "v\"\n\u00e9", 1.5, nullptr, true};
  const json::value values[] = {json::value(big), json::value(nullptr), json::value(-7),
                                json::value(18446744073709551615ull), json::value("a\"b\\c\x01")};
  for (const auto& v : values) {
    std::string out = "prefix";
    append_json(out, v);
    EXPECT_EQ(out, "prefix" + json::serialize(v));
  }
  std::string s;
  append_json(s, big);
  EXPECT_EQ(s, json::serialize(big));
  std::string q;
  append_json_string(q, "x\"y\u2028");
  EXPECT_EQ(q, json::serialize(json::value("x\"y\u2028")));
}

class Sink final : public Subscriber {
 public:
  void push(std::shared_ptr<Subscriber> self, std::uint64_t token, Frame frame) override {
    EXPECT_EQ(self.get(), this);
    tokens.push_back(token);
    frames.push_back(std::move(frame));
  }
  std::vector<std::uint64_t> tokens;
  std::vector<Frame> frames;
};

// Stands for a session's strand: push() queues the reference it is handed, and the queue
// is run (and the references released) later, by the test, as a strand would.
class Mailbox {
 public:
  std::vector<std::shared_ptr<Subscriber>> queued;
};

class QueuingSink final : public Subscriber {
 public:
  QueuingSink(Mailbox& box, Hub& hub, std::uint64_t id, int& destroyed)
      : box_(box), hub_(hub), id_(id), destroyed_(destroyed) {}
  ~QueuingSink() override {
    hub_.unsubscribe("auction.A-1", id_);  // takes the topic lock: must not run under it
    ++destroyed_;
  }
  void push(std::shared_ptr<Subscriber> self, std::uint64_t, Frame) override {
    box_.queued.push_back(std::move(self));
  }

 private:
  Mailbox& box_;
  Hub& hub_;
  std::uint64_t id_;
  int& destroyed_;
};

// The hub's fan-out takes a strong reference per subscriber and hands it over: after
// publish() returns the hub holds none, so a session whose last owner goes meanwhile dies
// where its queued push is run (its strand), never on the publishing thread.
TEST(GatewayHubUnit, FanOutHandsItsReferenceToTheSubscriber) {
  Metrics metrics;
  Hub hub([](std::string_view) { return json::value(0); }, [] { return std::int64_t{5}; }, metrics);
  Mailbox box;
  int destroyed = 0;
  std::vector<std::shared_ptr<QueuingSink>> sinks;
  for (std::uint64_t i = 0; i < 3; ++i) {
    sinks.push_back(std::make_shared<QueuingSink>(box, hub, i + 1, destroyed));
    hub.subscribe("auction.A-1", i + 1, sinks.back());
  }
  box.queued.clear();  // the snapshots
  for (auto& s : sinks) EXPECT_EQ(s.use_count(), 1);
  hub.publish("auction.A-1", "bid", 1, json::object{});
  EXPECT_EQ(box.queued.size(), 3u);
  for (auto& s : sinks) EXPECT_EQ(s.use_count(), 2);  // the test's and the queued push's
  sinks.clear();                                      // the sessions close meanwhile
  EXPECT_EQ(destroyed, 0);
  box.queued.clear();  // the "strand" runs the pushes: the last references end here
  EXPECT_EQ(destroyed, 3);
  EXPECT_EQ(hub.subscribers("auction.A-1"), 0u);
}

TEST(GatewayHubUnit, OneSerialisationSharedByAllSubscribers) {
  Metrics metrics;
  std::int64_t state = 0;
  Hub hub([&](std::string_view) { return json::value(state); }, [] { return std::int64_t{5}; },
          metrics);
  std::vector<std::shared_ptr<Sink>> sinks;
  for (std::uint64_t i = 0; i < 5000; ++i) {
    sinks.push_back(std::make_shared<Sink>());
    hub.subscribe("book.M-1", i + 1, sinks.back());
  }
  EXPECT_EQ(*sinks[0]->frames[0],
            R"({"channel":"book.M-1","seq":0,"type":"snapshot","ts":5,"data":0})");
  const auto seq = hub.publish("book.M-1", "update", 1764145200123, json::object{{"q", 1}},
                               [&] { ++state; });
  EXPECT_EQ(seq, 1u);
  EXPECT_EQ(*sinks[4999]->frames[1],
            R"({"channel":"book.M-1","seq":1,"type":"update","ts":1764145200123,"data":{"q":1}})");
  EXPECT_EQ(sinks[0]->frames[1].get(), sinks[4999]->frames[1].get());  // the same buffer
  sinks.resize(10);  // dropped subscribers are pruned on the next publish
  hub.publish("book.M-1", "update", 1, json::object{});
  EXPECT_EQ(hub.subscribers("book.M-1"), 10u);
  hub.unsubscribe("book.M-1", 1);
  EXPECT_EQ(hub.subscribers("book.M-1"), 9u);
  EXPECT_EQ(Hub::wire_name("private#P-7"), "private");
}

TEST(GatewayMetrics, ExpositionFormat) {
  Metrics m;
  m.counter("ipx_x_total", "Things \"done\"\nnewline").inc(3);
  m.counter("ipx_y_total", "Labelled", {{"code", "a\"b"}}).inc();
  m.gauge("ipx_g", "A gauge").set(-2);
  auto& h = m.histogram("ipx_h_seconds", "A histogram", {0.001, 0.1});
  h.observe(0.0005);
  h.observe(0.05);
  h.observe(2.0);
  const std::string text = m.render();
  EXPECT_NE(text.find("# HELP ipx_x_total Things \"done\"\\nnewline\n# TYPE ipx_x_total counter\nipx_x_total 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ipx_y_total{code=\"a\\\"b\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ipx_g -2\n"), std::string::npos);
  EXPECT_NE(text.find("ipx_h_seconds_bucket{le=\"0.001\"} 1\nipx_h_seconds_bucket{le=\"0.1\"} 2\n"
                      "ipx_h_seconds_bucket{le=\"+Inf\"} 3\nipx_h_seconds_sum "),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ipx_h_seconds_count 3\n"), std::string::npos);
  EXPECT_NEAR(h.sum(), 2.0505, 1e-12);
  EXPECT_EQ(&m.counter("ipx_x_total", ""), &m.counter("ipx_x_total", ""));
}

// Series mirrored from elsewhere: a collector runs at each render, before the text is made.
TEST(GatewayMetrics, CollectorsRefreshMirroredSeriesAtEachRender) {
  Metrics m;
  auto* pause = &m.real_gauge("ipx_p_seconds", "A fractional gauge");
  auto* total = &m.counter("ipx_c_total", "A mirrored counter");
  int source = 0;
  m.add_collector([&] {
    ++source;
    pause->set(0.25 * source);
    total->set(static_cast<std::uint64_t>(10 * source));
  });
  const std::string first = m.render();
  EXPECT_NE(first.find("# TYPE ipx_p_seconds gauge\nipx_p_seconds 0.25\n"), std::string::npos) << first;
  EXPECT_NE(first.find("ipx_c_total 10\n"), std::string::npos) << first;
  const std::string second = m.render();
  EXPECT_NE(second.find("ipx_p_seconds 0.5\n"), std::string::npos) << second;
  EXPECT_NE(second.find("ipx_c_total 20\n"), std::string::npos) << second;
}

}  // namespace
}  // namespace ipx::gateway
