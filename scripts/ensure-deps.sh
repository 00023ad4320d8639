#!/usr/bin/env bash
# Installs the npm packages when they are missing or older than the lock file, so `npm start`
# and `npm test` work on a fresh clone. Sourced by the other scripts.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -x "$root/node_modules/.bin/vitest" ] || [ "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]; then
  echo "[deps] installing npm packages (npm ci) ..."
  (cd "$root" && npm ci --no-audit --no-fund)
fi
