// The engine with a ledger full of open holds (EngineOptions::ledger_transfers_max = 256):
// refusals happen before the journal, the timers still run and free holds, a retry still
// gets its first reply, and the journal replays to the live state. A journal kept in memory
// (JournalInMemory) stands in for PostgreSQL; the clock is the real one.
#include <chrono>
#include <future>
#include <thread>

#include "engine/engine.hpp"
#include "tests/engine/domain/harness.hpp"

namespace ipx::engine::test {
namespace {

std::int64_t wall() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct JournalInMemory : Durability {
  std::mutex mu;
  std::vector<Record> records;
  std::size_t rows = 0;
  bool available() const override { return true; }
  void submit(std::vector<Record> r, std::function<void()> done) override {
    {
      std::lock_guard lock(mu);
      for (auto& x : r) records.push_back(std::move(x));
    }
    done();
  }
  void ledger_rows(std::vector<ledger::Account>, std::vector<ledger::Transfer> t) override {
    std::lock_guard lock(mu);
    rows += t.size();
  }
};

class EngineLedgerFull : public ::testing::Test {
 protected:
  EngineLedgerFull() : engine(options(), &journal, nullptr) { engine.start(); }
  ~EngineLedgerFull() override { engine.stop(); }
  static EngineOptions options() {
    EngineOptions o;
    o.ledger_transfers_max = 256;
    return o;
  }

  Outcome call(const std::string& actor, std::string_view method, std::string_view params,
               const std::string& request_id = {}) {
    const MethodInfo* info = find_method(method);
    Command c;
    c.method = info->method;
    c.actor = actor;
    c.request_id = request_id;
    codec::ParseError err;
    EXPECT_TRUE(info->parse(json::parse(params).as_object(), c.params, err)) << err.text();
    std::promise<Outcome> p;
    auto f = p.get_future();
    c.done = [&p](const Outcome& out) { p.set_value(out); };
    EXPECT_TRUE(engine.submit(std::move(c)));
    Outcome out = f.get();
    if (!out.result_text.empty()) out.result = json::parse(out.result_text).as_object();
    return out;
  }
  void SetUp() override {
    auto person = [&](const std::string& kind, const std::string& name) {
      Outcome o = call("admin", "participant.create",
                       R"({"name":")" + name + R"(","kind":")" + kind +
                           R"(","region":"chengdu","whitelisted":true})");
      EXPECT_TRUE(o.ok()) << o.message;
      return std::string(o.result.at("participant_id").as_string());
    };
    op = person("operator", "exchange operator");
    lic = person("enterprise", "licensor");
    alice = person("enterprise", "alice");
    json::object a{{"asset_id", "PAT-1"},      {"kind", "invention_patent"}, {"title", "a patent"},
                   {"owner", lic},             {"region", "chengdu"},        {"industry", "other"},
                   {"valuation", 100'000'000}, {"expires_at", wall() + 3650 * kDayMs}};
    ASSERT_TRUE(call(op, "asset.register", json::serialize(a)).ok());
    ASSERT_TRUE(call(lic, "market.create",
                     R"({"market_id":"M","asset_id":"PAT-1","licence":{"kind":"non_exclusive","territory":["cn"],"field":"all","term_months":12},"tick":100,"min_qty":10})")
                    .ok());
    ASSERT_TRUE(call("admin", "account.fund",
                     R"({"participant_id":")" + alice + R"(","amount":1000000000})")
                    .ok());
  }
  static std::string buy(const std::string& coid, const std::string& tif, std::int64_t expire_at = 0) {
    std::string s = R"({"market_id":"M","side":"buy","type":"limit","price":100,"qty":10,"tif":")" +
                    tif + R"(","client_order_id":")" + coid + "\"";
    if (expire_at != 0) s += R"(,"expire_at":)" + std::to_string(expire_at);
    return s + "}";
  }
  // Places orders until the ledger refuses one; returns how many were placed.
  int fill(const std::string& tif, std::int64_t expire_at, const std::string& prefix) {
    for (int i = 0;; ++i) {
      Outcome o = call(alice, "order.place", buy(prefix + std::to_string(i), tif, expire_at));
      if (o.code == Code::unavailable) return i;
      EXPECT_TRUE(o.ok()) << o.message;
      if (!o.ok()) return i;
    }
  }
  // The journal replayed into a fresh engine of the same capacity: the live state.
  void expect_replays_to_the_live_state() {
    engine.stop();
    Engine replayed(options(), nullptr, nullptr);
    std::lock_guard lock(journal.mu);
    for (const Record& r : journal.records) {
      std::string error;
      ASSERT_TRUE(replayed.replay(r, error)) << error;
    }
    EXPECT_EQ(replayed.domain().state_hash(), engine.domain().state_hash());
  }

  JournalInMemory journal;
  Engine engine;
  std::string op, lic, alice;
};

// Open GTD holds fill the ledger; once they expire, the timers run (a tick is never refused),
// free the holds, and orders are taken again. Refused orders are not journaled: the journal
// replays to the live state.
TEST_F(EngineLedgerFull, TimersRunAndFreeHoldsWhenTheLedgerIsFull) {
  const std::int64_t expire = wall() + 1500;
  const int placed = fill("gtd", expire, "g");
  ASSERT_GT(placed, 200);
  std::size_t journaled = 0;
  {
    std::lock_guard lock(journal.mu);
    journaled = journal.records.size();
  }
  EXPECT_EQ(call(alice, "order.place", buy("refused", "gtc")).code, Code::unavailable);
  {
    std::lock_guard lock(journal.mu);
    EXPECT_EQ(journal.records.size(), journaled) << "a refusal is not journaled";
  }
  ASSERT_LT(wall(), expire) << "the machine was too slow to fill the ledger in time";
  std::this_thread::sleep_for(std::chrono::milliseconds(expire - wall() + 300));
  // The expiries ran on their own (engine ticks): every hold is free, and orders go on.
  Outcome o = call(alice, "account.get", "{}");
  ASSERT_TRUE(o.ok()) << o.message;
  EXPECT_EQ(o.result.at("cash_held"), 0);
  EXPECT_TRUE(call(alice, "order.place", buy("after", "gtc")).ok());
  expect_replays_to_the_live_state();
}

// A retry of a request applied before the ledger filled gets its first reply (and a reuse
// with other params DUPLICATE), not UNAVAILABLE.
TEST_F(EngineLedgerFull, ARetryGetsItsFirstReplyWhenTheLedgerIsFull) {
  const std::string first = buy("x", "gtc");
  Outcome o = call(alice, "order.place", first, "r1");
  ASSERT_TRUE(o.ok()) << o.message;
  ASSERT_GT(fill("gtc", 0, "c"), 200);
  Outcome again = call(alice, "order.place", first, "r1");
  ASSERT_TRUE(again.ok()) << again.message;
  EXPECT_EQ(again.result.at("order_id"), o.result.at("order_id"));
  EXPECT_EQ(call(alice, "order.place", buy("y", "gtc"), "r1").code, Code::duplicate);
  EXPECT_EQ(call(alice, "order.place", buy("y", "gtc"), "r2").code, Code::unavailable);
  EXPECT_EQ(call(alice, "order.cancel", R"({"market_id":"M","client_order_id":"c0"})").code, Code::ok);
  expect_replays_to_the_live_state();
}

}  // namespace
}  // namespace ipx::engine::test
