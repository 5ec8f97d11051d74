#include "engine/pg/errc.hpp"

#include <string>

namespace ipx::pg {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "ipx.pg"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok: return "ok";
      case errc::connect_failed: return "cannot connect to PostgreSQL";
      case errc::connection_lost: return "connection to PostgreSQL lost";
      case errc::query_failed: return "PostgreSQL refused a statement";
      case errc::sequence_mismatch: return "batch does not continue the journal";
      case errc::chain_mismatch: return "re-sent records differ from the committed ones";
      case errc::chain_broken: return "journal hash chain broken";
      case errc::bad_record: return "journal record out of bounds";
      case errc::snapshot_conflict: return "snapshot exists with another state hash";
      case errc::snapshot_ahead: return "snapshot ahead of the committed journal";
      case errc::migration_failed: return "schema migration failed";
      case errc::queue_full: return "journal commit queue full";
      case errc::stopped: return "journal committer stopped";
      case errc::fatal: return "journal committer failed (integrity error)";
      case errc::state_mismatch: return "replayed state differs from a snapshot";
      case errc::replay_failed: return "the engine refused a journal record";
    }
    return "unknown ipx.pg error";
  }
};

}  // namespace

const std::error_category& pg_category() noexcept {
  static const Category category;
  return category;
}

}  // namespace ipx::pg
