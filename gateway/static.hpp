#pragma once
// The web dashboard's static files (gateway/www/: index.html, app.js, style.css), served by
// ipxd at "/" as a route (see docs/dashboard.md). Files are read from disk on each request
// (they are small), so editing them needs no restart. Only plain file names directly in the
// folder are served ("/" is index.html); anything else is a 404 JSON error.
//
//   ipx::gateway::StaticFiles www(ipx::gateway::StaticFiles::locate(argv[0]));
//   server.add_route("/", [&www](std::string_view t) { return www.serve(t); });  // last
#include <filesystem>
#include <string>
#include <string_view>

#include "gateway/application.hpp"

namespace ipx::gateway {

class StaticFiles {
 public:
  explicit StaticFiles(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // The folder: $IPX_WWW_DIR if set; else "www" next to the executable (an install), else
  // "../share/ipx/www" from it; else the source tree's gateway/www (IPX_WWW_SOURCE_DIR, a
  // compile definition). May name a folder that does not exist (then every file is a 404).
  static std::filesystem::path locate(const char* argv0);

  // GET target (path and query) → the file, or 404.
  HttpResponse serve(std::string_view target) const;

  const std::filesystem::path& dir() const noexcept { return dir_; }

  static std::string_view content_type(std::string_view file_name) noexcept;

 private:
  std::filesystem::path dir_;
};

}  // namespace ipx::gateway
