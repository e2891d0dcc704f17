#!/usr/bin/env bash
# Installs what shardlock needs on a fresh Debian machine with Node 20 and npm:
# redis-server (apt, when missing), pnpm (the version pinned in package.json), the
# workspace's dependencies, and a build of every package.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v redis-server >/dev/null 2>&1; then
  echo "setup: installing redis-server with apt-get"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq redis-server >/dev/null
fi
# Debian starts a system redis on 6379 after the install; the project never uses it, and
# every test and the embedded bench cluster pick free ports of their own.

pnpm_version=$(node -p "require('./package.json').packageManager.split('@')[1]")
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$pnpm_version" ]; then
  echo "setup: installing pnpm@$pnpm_version"
  npm install -g "pnpm@$pnpm_version" --silent
fi

pnpm install --frozen-lockfile --reporter=silent
pnpm build
echo "setup: ready ($(redis-server --version | cut -d' ' -f3), node $(node --version), pnpm $(pnpm --version))"
