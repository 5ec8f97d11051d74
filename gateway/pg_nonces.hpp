#pragma once
// Login nonces that outlive a restart (PROTOCOL.md "Authentication": a nonce is refused if
// seen in the last 5 minutes; "Envelope": a reply is sent only after its effects are durable).
// The in-memory store decides at once whether a nonce is fresh; a fresh one is answered
// (record_async's done) only once it is committed to PostgreSQL's login_nonces (schema/0010),
// in a group commit with the other logins waiting then (the writer wakes as soon as one
// queues). start() loads the ones still inside the window back into the memory store. So a
// login replayed after ipxd is killed, even just after the reply, is refused. While the
// database does not take the write, a fresh nonce is answered `full` (UNAVAILABLE: retry with
// a new nonce), stays seen in memory, and is written once the database is back.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "gateway/auth.hpp"

namespace ipx::gateway {

struct PgNonceLogOptions {
  std::int64_t ttl_ms = 300'000;  // nonces older than this are not loaded, and are deleted
  std::chrono::milliseconds flush_every{20};  // the writer's idle tick (pruning, retries)
  std::size_t queue_max = 100'000;  // written behind while PostgreSQL is away; beyond: full
  std::chrono::milliseconds wait{5'000};  // record()'s bound on the commit
};

class PgNonceLog final : public NonceStore {
 public:
  PgNonceLog(std::string conninfo, std::shared_ptr<NonceStore> memory, PgNonceLogOptions options = {});
  ~PgNonceLog() override;
  PgNonceLog(const PgNonceLog&) = delete;
  PgNonceLog& operator=(const PgNonceLog&) = delete;

  // After the migrations: loads the nonces seen within the last ttl_ms (real clock) into the
  // memory store, then starts the writer thread. False (with `error`) when the database
  // cannot be read: the caller refuses to start rather than forget nonces.
  bool start(std::string& error);
  // Writes what is queued (while the database answers), then joins the thread. Idempotent.
  void stop();

  // Fresh: done(fresh) after the commit (from the writer thread). Replayed or full: at once.
  void record_async(std::string_view nonce, std::int64_t now_ms, Done done) override;
  // The same, waiting (bounded by options.wait) for the answer.
  Outcome record(std::string_view nonce, std::int64_t now_ms) override;
  std::size_t loaded() const { return loaded_; }

 private:
  void run();

  const std::string conninfo_;
  const std::shared_ptr<NonceStore> memory_;
  const PgNonceLogOptions options_;
  std::size_t loaded_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  struct Item {
    std::string nonce;
    std::int64_t seen_ms = 0;
    Done done;  // empty: written behind (its login was answered already)
  };
  std::deque<Item> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ipx::gateway
