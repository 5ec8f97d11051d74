#pragma once
// Test support for engine/pg: a fresh database per test on the private cluster (IPX_PG), the
// cluster superuser for tampering, and a throwaway PostgreSQL cluster of the test's own for the
// outage tests (stopping the shared cluster would break other engineers' concurrent tests).
#include <libpq-fe.h>

#include <string>

namespace ipx::pg::test {

// IPX_PG, or "" after recording a test failure with a clear message (never a skip).
std::string base_conninfo();

// Runs one SQL statement (simple query protocol); returns "" or the error message.
std::string run_sql(const std::string& conninfo, const std::string& sql);

// CREATE DATABASE ipx_test_<pid>_<random> on construction, DROP ... WITH (FORCE) at the end.
class TestDb {
 public:
  TestDb();
  ~TestDb();
  TestDb(const TestDb&) = delete;
  TestDb& operator=(const TestDb&) = delete;
  bool ok() const { return !name_.empty(); }
  const std::string& name() const { return name_; }
  std::string conninfo() const;        // as the application's role (IPX_PG's user)
  std::string super_conninfo() const;  // as the cluster superuser (IPX_PG_SUPER or user=postgres)

 private:
  std::string base_;
  std::string name_;
};

// A private cluster in a temporary folder next to IPX_PG_DATA (reachable by postgres), on a
// free port: initdb, start, stop -m fast, start again, destroy.
class PrivateCluster {
 public:
  PrivateCluster();
  ~PrivateCluster();
  PrivateCluster(const PrivateCluster&) = delete;
  PrivateCluster& operator=(const PrivateCluster&) = delete;
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  std::string conninfo() const;  // database ipx_test, user postgres
  bool stop();                   // pg_ctl stop -m fast, as postgres
  bool start();

 private:
  bool pg_ctl(const std::string& args);
  std::string bin_, dir_;
  int port_ = 0;
  bool ok_ = false;
  std::string error_;
};

}  // namespace ipx::pg::test
