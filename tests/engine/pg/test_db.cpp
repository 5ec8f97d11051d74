#include "test_db.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>

namespace ipx::pg::test {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// Runs a shell command as the cluster owner (postgres when we are root).
int run_as_pg(const std::string& cmd) {
  const std::string full = geteuid() == 0 ? "runuser -u postgres -- " + cmd : cmd;
  return std::system(full.c_str());
}

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

std::string random_suffix() {
  std::random_device rd;
  return std::to_string(getpid()) + "_" + std::to_string(rd() % 1000000000u);
}

}  // namespace

std::string base_conninfo() {
  std::string pg = env("IPX_PG");
  if (pg.empty()) {
    ADD_FAILURE() << "IPX_PG is not set: these integration tests need the private PostgreSQL. "
                     "Run them with `tools/ipx test`, or `tools/ipx services up && eval "
                     "\"$(tools/ipx services env)\"` first.";
  }
  return pg;
}

std::string run_sql(const std::string& conninfo, const std::string& sql) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  std::string err;
  if (PQstatus(c) != CONNECTION_OK) {
    err = PQerrorMessage(c);
  } else {
    PGresult* r = PQexec(c, sql.c_str());
    const auto st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) err = PQresultErrorMessage(r);
    PQclear(r);
  }
  PQfinish(c);
  if (!err.empty() && err.back() == '\n') err.pop_back();
  return err;
}

TestDb::TestDb() : base_(base_conninfo()) {
  if (base_.empty()) return;
  const std::string name = "ipx_test_" + random_suffix();
  const std::string err = run_sql(base_, "CREATE DATABASE " + name);
  if (!err.empty()) {
    ADD_FAILURE() << "CREATE DATABASE " << name << ": " << err;
    return;
  }
  name_ = name;
}

TestDb::~TestDb() {
  if (name_.empty()) return;
  // WITH (FORCE) cannot end an autovacuum worker (a superuser's process) as the app role:
  // retry for a while when one happens to be on the database.
  std::string err;
  for (int attempt = 0; attempt < 50; ++attempt) {
    err = run_sql(base_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    if (err.empty()) return;
    usleep(100'000);
  }
  ADD_FAILURE() << "DROP DATABASE " << name_ << ": " << err;
}

std::string TestDb::conninfo() const { return base_ + " dbname=" + name_; }

std::string TestDb::super_conninfo() const {
  const std::string super = env("IPX_PG_SUPER");
  return (super.empty() ? base_ + " user=postgres" : super) + " dbname=" + name_;
}

PrivateCluster::PrivateCluster() {
  bin_ = env("IPX_PG_BIN");
  const std::string shared = env("IPX_PG_DATA");
  if (bin_.empty() || shared.empty()) {
    error_ = "IPX_PG_BIN and IPX_PG_DATA are not set (eval \"$(tools/ipx services env)\")";
    return;
  }
  port_ = free_port();
  dir_ = std::filesystem::path(shared).parent_path() / ("outage_" + random_suffix());
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec || port_ == 0) {
    error_ = "cannot create " + dir_ + " or find a free port";
    return;
  }
  const std::string owner = geteuid() == 0 ? "chown postgres " + dir_ + " && " : "";
  const std::string init = owner + (geteuid() == 0 ? "runuser -u postgres -- " : "") + bin_ +
                           "/initdb -D " + dir_ + "/data -U postgres --auth=trust --no-sync " +
                           "--no-locale -E UTF8 >" + dir_ + ".initdb.log 2>&1";
  if (std::system(init.c_str()) != 0) {
    error_ = "initdb failed, see " + dir_ + ".initdb.log";
    return;
  }
  ok_ = start() && run_sql("host=127.0.0.1 port=" + std::to_string(port_) +
                               " user=postgres dbname=postgres",
                           "CREATE DATABASE ipx_test")
                       .empty();
  if (!ok_) error_ = "private cluster did not start, see " + dir_ + "/log";
}

PrivateCluster::~PrivateCluster() {
  if (!dir_.empty()) {
    pg_ctl("-m immediate stop");
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    std::filesystem::remove(dir_ + ".initdb.log", ec);
  }
}

std::string PrivateCluster::conninfo() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=ipx_test";
}

bool PrivateCluster::pg_ctl(const std::string& args) {
  return run_as_pg(bin_ + "/pg_ctl -D " + dir_ + "/data -l " + dir_ + "/log -w -t 60 -o \"-p " +
                   std::to_string(port_) + " -k " + dir_ + " -c listen_addresses=127.0.0.1\" " +
                   args + " >/dev/null 2>&1") == 0;
}

bool PrivateCluster::stop() { return pg_ctl("-m fast stop"); }
bool PrivateCluster::start() {
  const bool running = run_as_pg(bin_ + "/pg_ctl -D " + dir_ + "/data status >/dev/null 2>&1") == 0;
  return running || pg_ctl("start");
}

}  // namespace ipx::pg::test
