#!/usr/bin/env bash
# Builds the native executables: out/server, out/client-http, out/client-grpc (run them with Node.js >= 22.19).
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "build.sh: Node.js >= 22.19 with npm is needed (https://nodejs.org)" >&2
  exit 1
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
node scripts/build.mjs
