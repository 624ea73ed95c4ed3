#!/usr/bin/env bash
# npm run test:images — the walkthrough's first step (skaffold builds the images), checked without a
# cluster: builds each target of the Dockerfile as it is (server, client-http, client-grpc,
# xds-control-plane), looks inside each image, then runs them together on loopback ports: the server
# answering both clients, and the xDS control plane, against the Kubernetes API of a running `out/lab up`,
# serving its pods to the client-grpc image on xds:///.
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
. "$here/xds.sh"

# image, its target of the Dockerfile (also the program it runs, out/TARGET)
images=(
  "addr-server server"
  "addr-client-http client-http"
  "addr-client-grpc client-grpc"
  "addr-xds-control-plane xds-control-plane"
)

mkdir -p "$cache_dir/logs"
pick_engine
trap 'remove_containers; stop_lab' EXIT
if [ "$engine" = podman ]; then
  "${engine_cli[@]}" image prune -f >/dev/null 2>&1 || true # the previous run's images, in the check's own storage
  make_stand_in
fi

begin
(cd "$repo" && node scripts/build.mjs) >"$cache_dir/logs/out.build.log" 2>&1 \
  || fail "out/: node scripts/build.mjs failed on this machine" "$cache_dir/logs/out.build.log"
done_step "out/: built on this machine, to compare each image's /app with"

for entry in "${images[@]}"; do
  read -r name target <<<"$entry"
  build_image "$name" "$target"
  inspect_image "$name" "$target"
done

start_server
check_server_answers
check_client addr-client-http "http://127.0.0.1:$http_port/addr"
check_client addr-client-grpc "127.0.0.1:$grpc_port"
stop_server
start_lab
start_control_plane
check_xds_client
stop_control_plane
say "images: all four built and ran as they should"
