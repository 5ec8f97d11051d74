#include "engine/pg/conn.hpp"

#include "engine/pg/errc.hpp"

namespace ipx::pg {

Connection::Connection(std::string conninfo) : conninfo_(std::move(conninfo)) {}

Connection::~Connection() { close(); }

void Connection::close() noexcept {
  if (conn_ != nullptr) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
}

bool Connection::ok() const noexcept {
  return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK;
}

std::error_code Connection::ensure() {
  if (ok()) return {};
  close();
  // A short connect timeout so an outage is noticed quickly; explicit keywords later in the
  // string win, so the caller's conninfo may still override it.
  std::string info = "connect_timeout=5 " + conninfo_;
  conn_ = PQconnectdb(info.c_str());
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    last_error_ = conn_ != nullptr ? PQerrorMessage(conn_) : "out of memory";
    while (!last_error_.empty() && last_error_.back() == '\n') last_error_.pop_back();
    close();
    return errc::connect_failed;
  }
  return {};
}

std::error_code Connection::fail(const PGresult* r, std::string_view what) {
  last_error_ = std::string(what) + ": ";
  if (r != nullptr && PQresultErrorMessage(r)[0] != '\0') {
    last_error_ += PQresultErrorMessage(r);
  } else if (conn_ != nullptr) {
    last_error_ += PQerrorMessage(conn_);
  }
  while (!last_error_.empty() && last_error_.back() == '\n') last_error_.pop_back();
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) return errc::connection_lost;
  return errc::query_failed;
}

std::error_code Connection::query(std::string_view sql, PgResult& out) {
  if (conn_ == nullptr) return errc::connection_lost;
  std::string text(sql);
  out.reset(PQexec(conn_, text.c_str()));
  const auto st = out ? PQresultStatus(out.get()) : PGRES_FATAL_ERROR;
  if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) return {};
  auto ec = fail(out.get(), text.substr(0, 60));
  out.reset();
  return ec;
}

std::error_code Connection::exec(std::string_view sql) {
  PgResult r;
  return query(sql, r);
}

}  // namespace ipx::pg
