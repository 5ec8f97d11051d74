# Sourced by tools/ipx: private PostgreSQL 15 and Redis for this checkout (filled in by the
# services work). Functions: services_cmd up|down|status|env, services_up, services_down, services_env.
services_up() { :; }
services_down() { :; }
services_env() { :; }
services_cmd() { echo "services: not available yet" >&2; return 1; }
