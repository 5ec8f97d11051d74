// ipxd — the ipx server: engine + PostgreSQL journal + gateway on one port.
//
//   ipxd --listen HOST:PORT --pg CONNINFO [--redis HOST:PORT] [--manual-clock[=START_MS]]
//        [--tls-cert FILE --tls-key FILE] [--edge] [--config FILE] [--threads N]
//        [--snapshot-every N] [--snapshot-pace MIBPS] [--snapshot-nice N]
//        [--ledger-capacity N]
//
// Each flag also reads from the environment (IPX_LISTEN, IPX_PG, IPX_REDIS); the admin
// credentials come from the --config file (admin-key, admin-secret) or IPX_ADMIN_KEY and
// IPX_ADMIN_SECRET. At start it applies the schema
// migrations, replays the journal, then logs one line with its URL when ready. It exits
// non-zero with a clear message when it cannot start, and 0 after a graceful SIGTERM.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "engine/engine.hpp"
#include "engine/pg/durability.hpp"
#include "engine/pg/recovery.hpp"
#include "gateway/auth.hpp"
#include "gateway/binding.hpp"
#include "gateway/hub.hpp"
#include "gateway/metrics.hpp"
#include "gateway/pg_nonces.hpp"
#include "gateway/redis.hpp"
#include "gateway/server.hpp"
#include "gateway/static.hpp"


namespace {

struct Options {
  std::string listen = "127.0.0.1:8080";
  std::string pg, redis, tls_cert, tls_key, config;
  std::string admin_key, admin_secret;  // the config file's, else the environment's
  bool manual_clock = false;
  std::int64_t manual_start_ms = 0;
  bool edge = false;
  unsigned threads = 2;
  // Snapshots (docs/gateway.md "Running ipxd"): every N journal records (0: none), their
  // chunks sent at most MIBPS MiB/s (0: unpaced), the writer thread at this nice value.
  std::int64_t snapshot_every = 100'000;
  std::int64_t snapshot_pace_mibps = 64;
  std::int64_t snapshot_nice = 10;
  // The engine ledger's live log capacity (0: Domain::kEngineLedgerLimits, 4,194,304). The
  // engine touches its id index up front: 32 bytes of memory per transfer of capacity.
  std::int64_t ledger_capacity = 0;
};

[[noreturn]] void die(const std::string& msg, int code = 2) {
  std::cerr << "ipxd: " << msg << std::endl;
  std::exit(code);
}

void usage() {
  std::cout << "usage: ipxd --listen HOST:PORT --pg CONNINFO [--redis HOST:PORT]\n"
               "            [--manual-clock[=START_MS]] [--tls-cert FILE --tls-key FILE]\n"
               "            [--edge] [--config FILE] [--threads N]\n"
               "            [--snapshot-every N] [--snapshot-pace MIBPS] [--snapshot-nice N]\n"
               "            [--ledger-capacity N]\n"
               "environment: IPX_LISTEN, IPX_PG, IPX_REDIS, IPX_ADMIN_KEY, IPX_ADMIN_SECRET\n"
               "--config FILE: one flag per line, \"name value\" or \"name = value\" (the long\n"
               "  name without --), '#' comments; also admin-key and admin-secret, which\n"
               "  override the environment's; flags on the command line override the file\n";
}

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

std::int64_t parse_int(const std::string& s, const char* what) {
  try {
    std::size_t used = 0;
    const long long v = std::stoll(s, &used);
    if (used != s.size()) throw std::invalid_argument(s);
    return v;
  } catch (const std::exception&) {
    die(std::string(what) + ": not an integer: " + s);
  }
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// One "key value", "key=value" or "key = value" per line; keys are the long flag names
// without "--", plus admin-key and admin-secret (the admin credentials: a file, not the command
// line, where every user of the machine can read them). Blank lines and lines starting with
// '#' are skipped.
void read_config(const std::string& file, std::map<std::string, std::string>& out) {
  std::ifstream in(file);
  if (!in) die("cannot read config file " + file);
  std::string line;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    const auto sep = line.find_first_of("= \t");
    std::string key = line.substr(0, sep);
    std::string value = sep == std::string::npos ? "" : trim(line.substr(sep + 1));
    if (sep != std::string::npos && line[sep] != '=' && value.starts_with('=')) {
      value = trim(value.substr(1));  // "key = value"
    }
    out[key] = value;
  }
}

void apply(Options& o, const std::string& key, const std::string& value) {
  if (key == "listen") o.listen = value;
  else if (key == "pg") o.pg = value;
  else if (key == "redis") o.redis = value;
  else if (key == "tls-cert") o.tls_cert = value;
  else if (key == "tls-key") o.tls_key = value;
  else if (key == "edge") o.edge = true;
  else if (key == "threads") o.threads = static_cast<unsigned>(parse_int(value, "--threads"));
  else if (key == "snapshot-every") {
    o.snapshot_every = parse_int(value, "--snapshot-every");
    if (o.snapshot_every < 0) die("--snapshot-every: must be >= 0 (0: no snapshots)");
  } else if (key == "snapshot-pace") {
    o.snapshot_pace_mibps = parse_int(value, "--snapshot-pace");
    if (o.snapshot_pace_mibps < 0 || o.snapshot_pace_mibps > 1'000'000) {
      die("--snapshot-pace: MiB/s between 0 (unpaced) and 1000000");
    }
  } else if (key == "snapshot-nice") {
    o.snapshot_nice = parse_int(value, "--snapshot-nice");
    if (o.snapshot_nice < 0 || o.snapshot_nice > 19) die("--snapshot-nice: between 0 and 19");
  } else if (key == "ledger-capacity") {
    o.ledger_capacity = parse_int(value, "--ledger-capacity");
    if (o.ledger_capacity < 64 || o.ledger_capacity > (std::int64_t{1} << 30)) {
      die("--ledger-capacity: transfers between 64 and 1073741824");
    }
  } else if (key == "manual-clock") {
    o.manual_clock = true;
    if (!value.empty()) o.manual_start_ms = parse_int(value, "--manual-clock");
  } else die("unknown option --" + key + " (see ipxd --help)");
}

Options parse(int argc, char** argv) {
  Options o;
  if (const char* v = env("IPX_LISTEN")) o.listen = v;
  if (const char* v = env("IPX_PG")) o.pg = v;
  if (const char* v = env("IPX_REDIS")) o.redis = v;
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      usage();
      std::exit(0);
    }
    if (a.rfind("--", 0) != 0) die("unexpected argument " + a);
    a = a.substr(2);
    const auto eq = a.find('=');
    if (eq != std::string::npos) {
      flags[a.substr(0, eq)] = a.substr(eq + 1);
    } else if (a == "edge" || a == "manual-clock") {
      flags[a] = "";
    } else {
      if (i + 1 >= argc) die("--" + a + " needs a value");
      flags[a] = argv[++i];
    }
  }
  for (const char* secret : {"admin-key", "admin-secret"}) {
    if (flags.count(secret)) {
      die(std::string("--") + secret + ": give it in the --config file or the environment " +
          "(IPX_ADMIN_KEY, IPX_ADMIN_SECRET), not on the command line");
    }
  }
  if (auto it = flags.find("config"); it != flags.end()) {
    std::map<std::string, std::string> file;
    read_config(it->second, file);
    for (auto& [k, v] : file) {
      if (k == "admin-key") o.admin_key = v;
      else if (k == "admin-secret") o.admin_secret = v;
      else if (k == "config") die("config file " + it->second + ": a config file names no other");
      else apply(o, k, v);
    }
    flags.erase(it);
  }
  for (const auto& [k, v] : flags) apply(o, k, v);
  return o;
}

ipx::gateway::RedisOptions redis_options(const Options& o) {
  ipx::gateway::RedisOptions ro;
  if (!ipx::gateway::parse_redis_address(o.redis, ro)) die("--redis must be HOST:PORT, got " + o.redis);
  // Key prefix (default "ipx:"): several ipx installations (or test runs) on one Redis.
  if (const char* p = env("IPX_REDIS_PREFIX")) ro.prefix = p;
  return ro;
}

// ipxd --edge: a read-only gateway serving the public channels from the Redis Streams
// (docs/gateway.md "Redis"). No engine, no PostgreSQL.
int run_edge(const Options& o, const std::string& host, std::uint16_t port) {
  if (o.redis.empty()) die("--edge needs --redis HOST:PORT (or IPX_REDIS)");
  const ipx::gateway::RedisOptions ro = redis_options(o);
  const ipx::gateway::Limits limits;
  auto memory = std::make_shared<ipx::gateway::MemoryNonceStore>(limits.nonce_ttl_ms, limits.nonce_store_max);
  auto nonces = std::make_shared<ipx::gateway::RedisNonceStore>(ro, memory, nullptr);
  ipx::gateway::EdgeApp app;
  ipx::gateway::ServerConfig sc;
  sc.listen_host = host;
  sc.listen_port = port;
  sc.threads = o.threads;
  sc.tls_cert_file = o.tls_cert;
  sc.tls_key_file = o.tls_key;
  sc.limits = limits;
  sc.nonce_store = nonces;
  ipx::gateway::Server server(app, sc);
  // The public views from the mirrored snapshots; the signed reports need the engine.
  server.add_route("/v1/reports/", [](std::string_view) {
    return ipx::gateway::HttpResponse{
        403, "application/json",
        R"({"error":{"code":"FORBIDDEN","message":"read-only edge: /v1/reports/ is served by the main gateway"}})"};
  });
  server.add_route("/v1/", [&app](std::string_view target) { return app.http_view(target); });
  auto& up = server.metrics().gauge("ipx_redis_up", "1 while the Redis connection is up");
  ipx::gateway::EdgeFollower follower(ro, app, server.hub(), &up);
  int code = 0;
  follower.on_epoch_change([&] {
    std::cerr << "ipxd: the main ipxd restarted (its seq numbers start again); the edge stops "
                 "so that it is restarted with them" << std::endl;
    app.set_ready(false);
    code = 3;
    server.drain();
  });
  try {
    server.start();
  } catch (const std::exception& e) {
    die(std::string("cannot listen on ") + o.listen + ": " + e.what(), 1);
  }
  follower.start();
  const char* scheme = server.tls() ? "https" : "http";
  std::cout << "ipxd ready: " << scheme << "://" << host << ":" << server.port() << "/ (ws"
            << (server.tls() ? "s" : "") << "://" << host << ":" << server.port()
            << "/v1/ws), read-only edge following redis " << o.redis << std::endl;
  server.run();
  follower.stop();
  std::cout << "ipxd: stopped" << std::endl;
  return code;
}

// The ledger's fill, refreshed on every GET /metrics: compaction keeps its live log under half
// its capacity; near the capacity the engine refuses state-changing commands (UNAVAILABLE),
// so operators alert on the ratio of the first two.
void export_ledger_metrics(ipx::gateway::Metrics& m, const ipx::engine::Engine& e) {
  auto* used = &m.gauge("ipx_ledger_transfers", "Transfers in the engine ledger's live log");
  auto* max = &m.gauge("ipx_ledger_transfers_max",
                       "The live log's capacity; state-changing commands are refused "
                       "(UNAVAILABLE) within 1/16 of it");
  auto* retired = &m.counter("ipx_ledger_transfers_retired_total",
                             "Settled transfers retired from memory (kept in PostgreSQL)");
  m.add_collector([=, &e] {
    used->set(static_cast<std::int64_t>(e.ledger_transfers()));
    max->set(static_cast<std::int64_t>(e.ledger_transfers_max()));
    retired->set(e.ledger_retired());
  });
}

// The journal's and the snapshots' statistics, refreshed on every GET /metrics.
void export_journal_metrics(ipx::gateway::Metrics& m, const ipx::pg::PgDurability& d) {
  auto* seq = &m.gauge("ipx_journal_committed_seq", "The last journal seq committed to PostgreSQL");
  auto* queued = &m.gauge("ipx_journal_queued_records", "Journal records waiting for their commit");
  auto* commits = &m.counter("ipx_journal_commits_total", "Journal transactions committed");
  auto* records = &m.counter("ipx_journal_records_total", "Journal records committed");
  auto* failures = &m.counter("ipx_journal_failures_total", "Failed journal commits or connects");
  auto* written = &m.counter("ipx_snapshots_written_total", "Snapshots written to PostgreSQL");
  auto* failed = &m.counter("ipx_snapshots_failed_total", "Snapshot writes that failed");
  auto* skipped = &m.counter("ipx_snapshots_skipped_total",
                            "Snapshots not taken because the previous one was still being written");
  auto* bytes = &m.gauge("ipx_snapshot_last_bytes", "The size of the last snapshot's state");
  auto* pause = &m.real_gauge("ipx_snapshot_last_pause_seconds",
                             "How long the engine stopped to take the last snapshot");
  auto* pause_max = &m.real_gauge("ipx_snapshot_max_pause_seconds",
                                 "The longest engine pause for a snapshot since start");
  auto* write = &m.real_gauge("ipx_snapshot_last_write_seconds",
                             "How long the last snapshot took to build and write (writer thread)");
  m.add_collector([=, &d] {
    const ipx::pg::CommitterStats c = d.stats();
    seq->set(c.committed_seq);
    queued->set(static_cast<std::int64_t>(c.queued_records));
    commits->set(c.commits);
    records->set(c.records);
    failures->set(c.failures);
    const ipx::pg::SnapshotStats s = d.snapshot_stats();
    written->set(static_cast<std::uint64_t>(s.written));
    failed->set(static_cast<std::uint64_t>(s.failed));
    skipped->set(static_cast<std::uint64_t>(s.skipped));
    bytes->set(s.last_bytes);
    using Seconds = std::chrono::duration<double>;
    pause->set(std::chrono::duration_cast<Seconds>(s.last_pause).count());
    pause_max->set(std::chrono::duration_cast<Seconds>(s.max_pause).count());
    write->set(std::chrono::duration_cast<Seconds>(s.last_build + s.last_write).count());
  });
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  if (o.edge) {
    const auto c = o.listen.rfind(':');
    if (c == std::string::npos) die("--listen must be HOST:PORT");
    const std::int64_t p = parse_int(o.listen.substr(c + 1), "--listen port");
    if (p < 0 || p > 65535) die("--listen port out of range");
    return run_edge(o, o.listen.substr(0, c), static_cast<std::uint16_t>(p));
  }
  if (o.pg.empty()) die("no PostgreSQL: give --pg CONNINFO or IPX_PG");
  if (o.tls_cert.empty() != o.tls_key.empty()) die("--tls-cert and --tls-key go together");
  const auto colon = o.listen.rfind(':');
  if (colon == std::string::npos) die("--listen must be HOST:PORT");
  const std::int64_t port = parse_int(o.listen.substr(colon + 1), "--listen port");
  if (port < 0 || port > 65535) die("--listen port out of range");

  ipx::gateway::BindingOptions bo;
  bo.admin_key = !o.admin_key.empty()   ? o.admin_key
                 : env("IPX_ADMIN_KEY") ? env("IPX_ADMIN_KEY")
                                        : "admin";
  if (!o.admin_secret.empty()) {
    bo.admin_secret = o.admin_secret;
  } else if (const char* s = env("IPX_ADMIN_SECRET")) {
    bo.admin_secret = s;
  } else {
    die("no admin secret: set IPX_ADMIN_SECRET (and IPX_ADMIN_KEY, default \"admin\"), or "
        "admin-secret (and admin-key) in the --config file");
  }
  // One nonce store for WebSocket logins and signed HTTP requests (GET /v1/reports/...).
  const ipx::gateway::Limits limits;
  // In memory, written behind to PostgreSQL and loaded back at start (a restart forgets none).
  auto nonce_log = std::make_shared<ipx::gateway::PgNonceLog>(
      o.pg,
      std::make_shared<ipx::gateway::MemoryNonceStore>(limits.nonce_ttl_ms, limits.nonce_store_max),
      ipx::gateway::PgNonceLogOptions{.ttl_ms = limits.nonce_ttl_ms});
  std::shared_ptr<ipx::gateway::NonceStore> nonces = nonce_log;
  // With --redis: nonces in Redis (SET NX PX), the memory store behind them while it is down.
  std::optional<ipx::gateway::RedisOptions> redis;
  if (!o.redis.empty()) {
    redis = redis_options(o);
    nonces = std::make_shared<ipx::gateway::RedisNonceStore>(*redis, nonces, nullptr);
  }
  bo.http_nonces = nonces;
  bo.http_limits = limits;
  ipx::gateway::Binding binding(bo);

  ipx::pg::DurabilityOptions dopts;
  dopts.ledger_rows = true;  // the ledger rows share the batch's commit
  dopts.snapshot_every = o.snapshot_every;
  dopts.snapshots.pace_bytes_per_second = static_cast<std::size_t>(o.snapshot_pace_mibps) << 20;
  dopts.snapshots.nice = static_cast<int>(o.snapshot_nice);
  ipx::pg::PgDurability durability(o.pg, dopts);
  ipx::engine::EngineOptions eo;
  eo.manual_clock = o.manual_clock;
  eo.manual_start_ms = o.manual_start_ms;
  eo.ledger_transfers_max = static_cast<std::size_t>(o.ledger_capacity);
  ipx::engine::Engine engine(eo, &durability, &binding);
  auto rec = ipx::pg::recover(engine, o.pg, {});
  if (!rec.ok()) die("cannot start: " + rec.message, 1);
  if (auto ec = durability.start(engine); ec) die("cannot start the journal: " + durability.last_error(), 1);
  if (std::string error; !nonce_log->start(error)) die("cannot start: " + error, 1);

  ipx::gateway::ServerConfig sc;
  sc.listen_host = o.listen.substr(0, colon);
  sc.listen_port = static_cast<std::uint16_t>(port);
  sc.threads = o.threads;
  sc.tls_cert_file = o.tls_cert;
  sc.tls_key_file = o.tls_key;
  sc.limits = limits;
  sc.nonce_store = nonces;
  ipx::gateway::Server server(binding, sc);
  std::unique_ptr<ipx::gateway::RedisPublisher> publisher;
  if (redis) {
    publisher = std::make_unique<ipx::gateway::RedisPublisher>(
        *redis, &server.metrics().gauge("ipx_redis_up", "1 while the Redis connection is up"),
        &server.metrics().counter("ipx_redis_dropped_total",
                                  "Stream entries dropped because the Redis queue was full"));
    publisher->start();
  }
  binding.attach(&engine, &server.hub(), publisher.get());
  export_journal_metrics(server.metrics(), durability);
  export_ledger_metrics(server.metrics(), engine);
  // Routes match by prefix in the order added: the report, the views, then the dashboard.
  server.add_async_route("/v1/reports/",
                         [&binding](std::string_view target, ipx::gateway::RouteResponder respond) {
                           binding.report_view(target, std::move(respond));
                         });
  server.add_route("/v1/", [&binding](std::string_view target) { return binding.http_view(target); });
  const ipx::gateway::StaticFiles www(ipx::gateway::StaticFiles::locate(argc > 0 ? argv[0] : nullptr));
  server.add_route("/", [&www](std::string_view target) { return www.serve(target); });
  try {
    server.start();
  } catch (const std::exception& e) {
    die(std::string("cannot listen on ") + o.listen + ": " + e.what(), 1);
  }
  engine.start();
  const char* scheme = server.tls() ? "https" : "http";
  std::cout << "ipxd ready: " << scheme << "://" << sc.listen_host << ":" << server.port()
            << "/ (ws" << (server.tls() ? "s" : "") << "://" << sc.listen_host << ":" << server.port()
            << "/v1/ws), journal at seq " << engine.last_seq() << ", "
            << (o.manual_clock ? "manual clock" : "real clock") << std::endl;
  server.run();
  engine.stop();
  durability.stop();
  nonce_log->stop();
  if (publisher) publisher->stop();
  std::cout << "ipxd: stopped" << std::endl;
  return 0;
}
