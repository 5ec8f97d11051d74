# Sourced by tools/ipx. Installs exactly what ipx needs from Debian's packages when missing.
# Idempotent; prints nothing when everything is present. Boost comes only as the 1.81 -dev
# packages (Debian's default 1.74 -dev packages conflict with them).
IPX_APT_PACKAGES=(
  g++ cmake ninja-build pkg-config git
  libboost1.81-dev libboost-json1.81-dev
  libpq-dev postgresql-15 postgresql-client-15
  libhiredis-dev redis-server
  libssl-dev openssl
  libjemalloc-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  python3-websockets
  prometheus
  clang libclang-rt-14-dev node-ws
  chromium nodejs
)

ipx_missing_packages() {
  local p missing=()
  for p in "${IPX_APT_PACKAGES[@]}" ${IPX_EXTRA_PACKAGES:-}; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
  done
  echo "${missing[@]:-}"
}

# The browser test's npm packages (playwright-core), from the committed package-lock.json
# into tests/browser/node_modules; only when missing, so it is offline-safe once installed.
ipx_setup_npm() {
  local dir
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/tests/browser"
  [ -d "$dir/node_modules/playwright-core" ] && return 0
  command -v npm >/dev/null || return 0
  echo "ipx setup: npm ci in tests/browser (playwright-core)" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
    echo "ipx setup: npm ci failed in $dir (the browser test will be skipped as failed)" >&2
}

ipx_setup() {
  local missing
  missing="$(ipx_missing_packages)"
  [ -z "$missing" ] && { ipx_setup_npm; return 0; }
  if [ "$(id -u)" != 0 ]; then
    echo "ipx setup: missing packages: $missing (run as root to install them)" >&2
    return 1
  fi
  echo "ipx setup: installing $missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
  ipx_setup_npm
}
