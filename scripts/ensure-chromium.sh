#!/usr/bin/env bash
# Prints the path of a headless-capable Chromium for the console's browser tests. Uses
# CHROMIUM_PATH, else Debian's /usr/bin/chromium; when there is none, installs Debian's chromium
# package with apt-get (as root, or with sudo), saying so. Nothing downloads a browser of its own.
set -euo pipefail
for candidate in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    echo "$candidate"
    exit 0
  fi
done
root="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$root/.local/logs"
log="$root/.local/logs/apt-chromium.log"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; else
    echo "[chromium] not found, and installing it needs root: run 'apt-get install chromium' as root, or set CHROMIUM_PATH" >&2
    exit 1
  fi
fi
echo "[chromium] not found: installing Debian's chromium package (apt-get install chromium; log: $log) ..." >&2
if ! $sudo apt-get install -y -q chromium >"$log" 2>&1; then
  echo "[chromium] refreshing the package lists (apt-get update) and trying again ..." >&2
  $sudo apt-get update -q >>"$log" 2>&1
  $sudo apt-get install -y -q chromium >>"$log" 2>&1 || {
    echo "[chromium] apt-get install chromium failed; the last lines of $log:" >&2
    tail -n 20 "$log" >&2
    exit 1
  }
fi
echo "[chromium] installed $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)" >&2
echo /usr/bin/chromium
