#pragma once
// A libpq connection that knows how to come back: `ensure()` reconnects when the connection is
// missing or broken. Owned by one thread at a time. Errors are values; the server's text of
// the last failure is kept in `last_error()`.
#include <libpq-fe.h>

#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace ipx::pg {

struct PgResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

class Connection {
 public:
  explicit Connection(std::string conninfo);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects if not connected or if the connection went bad. Returns connect_failed.
  std::error_code ensure();
  void close() noexcept;
  bool ok() const noexcept;
  PGconn* get() const noexcept { return conn_; }
  const std::string& conninfo() const noexcept { return conninfo_; }

  // Runs a statement that returns no rows (or ignores them). query_failed or connection_lost.
  std::error_code exec(std::string_view sql);
  // Runs a statement; `out` holds the result when it is PGRES_TUPLES_OK or PGRES_COMMAND_OK.
  std::error_code query(std::string_view sql, PgResult& out);
  // Classifies a failed result (or a null one) and records the message.
  std::error_code fail(const PGresult* r, std::string_view what);

  const std::string& last_error() const noexcept { return last_error_; }
  void set_error(std::string msg) { last_error_ = std::move(msg); }

 private:
  std::string conninfo_;
  PGconn* conn_ = nullptr;
  std::string last_error_;
};

}  // namespace ipx::pg
