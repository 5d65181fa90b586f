#!/usr/bin/env bash
# Installs the js-libp2p interop peer (tests/interop/js) from its lockfile. Idempotent: runs
# `npm ci --ignore-scripts` only when node_modules is missing or older than package-lock.json
# (or package.json). Needs node + npm (Debian's nodejs/npm) and the npm registry.
set -euo pipefail
cd "$(dirname "$0")/../../tests/interop/js"

stamp=node_modules/.package-lock.json # written by npm ci on success
if [ -f "$stamp" ] && [ "$stamp" -nt package-lock.json ] && [ "$stamp" -nt package.json ]; then
  echo "tests/interop/js: node_modules up to date"
  exit 0
fi
command -v npm >/dev/null || { echo "npm not found (apt-get install nodejs npm)" >&2; exit 1; }
echo "tests/interop/js: npm ci --ignore-scripts"
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
touch "$stamp"
