#!/usr/bin/env bash
# npm run test:images — the walkthrough's first step (skaffold builds the three images), checked
# without a cluster: builds Dockerfile.server, Dockerfile.client-http and Dockerfile.client-grpc as
# they are, looks inside each image, then runs them together on loopback ports.
# With a Docker engine it uses docker; without one, buildah and podman (see engine.sh).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache_dir="$repo/.cache/images" # logs/ holds what each tool printed
here="$repo/scripts/images"
. "$here/progress.sh"
. "$here/engine.sh"
. "$here/stand-in.sh"
. "$here/image.sh"
. "$here/run.sh"

# image, its Dockerfile, the program it runs
images=(
  "addr-server Dockerfile.server server"
  "addr-client-http Dockerfile.client-http client-http"
  "addr-client-grpc Dockerfile.client-grpc client-grpc"
)

mkdir -p "$cache_dir/logs"
pick_engine
trap remove_containers EXIT
if [ "$engine" = podman ]; then
  "${engine_cli[@]}" image prune -f >/dev/null 2>&1 || true # the previous run's images, in the check's own storage
  make_stand_in
fi

begin
(cd "$repo" && node scripts/build.mjs) >"$cache_dir/logs/out.build.log" 2>&1 \
  || fail "out/: node scripts/build.mjs failed on this machine" "$cache_dir/logs/out.build.log"
done_step "out/: built on this machine, to compare each image's /app with"

for entry in "${images[@]}"; do
  read -r name dockerfile program <<<"$entry"
  build_image "$name" "$dockerfile"
  inspect_image "$name" "$program"
done

start_server
check_server_answers
check_client addr-client-http "http://127.0.0.1:$http_port/addr"
check_client addr-client-grpc "127.0.0.1:$grpc_port"
stop_server
say "images: all three built and ran as they should"
