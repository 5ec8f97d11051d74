#include "gateway/static.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

namespace ipx::gateway {

namespace fs = std::filesystem;

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A plain file name: [A-Za-z0-9_.-]+, not starting with a dot (no "..", no hidden files).
bool plain_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.front() == '.') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

HttpResponse not_found() {
  return {404, "application/json", R"({"error":{"code":"NOT_FOUND","message":"no such path"}})"};
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

}  // namespace

std::string_view StaticFiles::content_type(std::string_view name) noexcept {
  if (ends_with(name, ".html")) return "text/html; charset=utf-8";
  if (ends_with(name, ".js")) return "text/javascript; charset=utf-8";
  if (ends_with(name, ".css")) return "text/css; charset=utf-8";
  if (ends_with(name, ".json")) return "application/json";
  if (ends_with(name, ".svg")) return "image/svg+xml";
  if (ends_with(name, ".png")) return "image/png";
  if (ends_with(name, ".ico")) return "image/x-icon";
  if (ends_with(name, ".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

fs::path StaticFiles::locate(const char* argv0) {
  if (const char* v = std::getenv("IPX_WWW_DIR"); v != nullptr && *v != '\0') return fs::path(v);
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec && argv0 != nullptr) exe = fs::absolute(argv0, ec);
  if (!ec && !exe.empty()) {
    const fs::path bin = exe.parent_path();
    if (is_dir(bin / "www")) return bin / "www";
    if (is_dir(bin / ".." / "share" / "ipx" / "www")) return bin / ".." / "share" / "ipx" / "www";
  }
#ifdef IPX_WWW_SOURCE_DIR
  return fs::path(IPX_WWW_SOURCE_DIR);
#else
  return fs::path("www");
#endif
}

HttpResponse StaticFiles::serve(std::string_view target) const {
  std::string_view path = target.substr(0, target.find('?'));
  path = path.substr(0, path.find('#'));
  if (path.empty() || path.front() != '/') return not_found();
  std::string_view name = path.substr(1);
  if (name.empty()) name = "index.html";
  if (!plain_name(name)) return not_found();
  std::ifstream in(dir_ / std::string(name), std::ios::binary);
  if (!in) return not_found();
  std::ostringstream body;
  body << in.rdbuf();
  return {200, std::string(content_type(name)), std::move(body).str()};
}

}  // namespace ipx::gateway
