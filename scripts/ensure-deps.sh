#!/usr/bin/env bash
# Installs the npm packages when they are missing or older than the lock file, so `npm start`
# and `npm test` work on a fresh clone. Sourced by the other scripts.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# A node_modules that is a symlink belongs to another checkout (a git worktree sharing the main
# checkout's packages): installing through it would wipe that checkout's packages, so leave it be.
if [ -L "$root/node_modules" ]; then
  [ -x "$root/node_modules/.bin/vitest" ] || { echo "[deps] $root/node_modules is a symlink without packages; install in its target" >&2; exit 1; }
  exit 0
fi
if [ ! -x "$root/node_modules/.bin/vitest" ] || [ "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]; then
  echo "[deps] installing npm packages (npm ci) ..."
  (cd "$root" && npm ci --no-audit --no-fund)
fi
