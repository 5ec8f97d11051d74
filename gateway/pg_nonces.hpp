#pragma once
// Login nonces that outlive a restart (PROTOCOL.md "Authentication": a nonce is refused if
// seen in the last 5 minutes). The in-memory store answers every login at once, as before;
// each fresh nonce is also written behind, in batches, to PostgreSQL's login_nonces
// (schema/0010), and start() loads the ones still inside the window back into the memory
// store. So a login frame replayed after ipxd restarts is refused, without a round trip to
// the database per login. What the write-behind has not written when the process is killed
// (at most one batch interval, 20 ms) is lost; a graceful stop writes everything.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "gateway/auth.hpp"

namespace ipx::gateway {

struct PgNonceLogOptions {
  std::int64_t ttl_ms = 300'000;  // nonces older than this are not loaded, and are deleted
  std::chrono::milliseconds flush_every{20};
  std::size_t queue_max = 100'000;  // while PostgreSQL is away; the oldest are dropped beyond
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
  std::deque<std::pair<std::string, std::int64_t>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ipx::gateway
