# The xds-control-plane image against a real Kubernetes API: `out/lab up` (built on this machine) runs
# two addr-server pods on loopback addresses of their own and serves their EndpointSlices on its API; the
# control plane's container reads that API through the lab's kubeconfig and serves the pods over ADS; the
# client-grpc image, on xds:///addr-server with a bootstrap naming the control plane, gets replies from both
# pods; SIGTERM (docker/podman stop) ends the control plane with exit code 0.

lab_pid=
lab_log="$cache_dir/logs/lab.log"
lab_kubeconfig="$cache_dir/lab.kubeconfig"
lab_pods=127.250.0.0/24 # a pod network of its own, apart from the lab's default and the tests'
control_plane_container=grpc-lb-images-check-xds-$$
containers+=("$control_plane_container")

start_lab() {
  begin
  rm -f "$lab_kubeconfig"
  "$repo/out/lab" up --replicas 2 --no-mesh-client --no-service-clients --no-k8s-client \
    --http-node-port 0 --grpc-node-port 0 --mesh-port 0 --api-port 0 --dashboard-port 0 \
    --pod-cidr "$lab_pods" --kubeconfig "$lab_kubeconfig" >"$lab_log" 2>&1 </dev/null &
  lab_pid=$!
  local tries
  for (( tries = 0; tries < 150; tries++ )); do
    grep -q 'msg=ready ' "$lab_log" && [ -s "$lab_kubeconfig" ] && break
    kill -0 "$lab_pid" 2>/dev/null || fail "out/lab up: exited before it was ready" "$lab_log"
    sleep 0.2
  done
  (( tries < 150 )) || fail "out/lab up: no ready line within 30 s" "$lab_log"
  # The container runs as uid 1000; the lab's API takes no credentials, so its kubeconfig holds no secret.
  chmod 644 "$lab_kubeconfig"
  done_step "out/lab up: its Kubernetes API and two addr-server pods running, kubeconfig ${lab_kubeconfig#"$repo/"}"
}

stop_lab() {
  [ -n "$lab_pid" ] || return 0
  kill -TERM "$lab_pid" 2>/dev/null || true
  local tries
  for (( tries = 0; tries < 150; tries++ )); do
    kill -0 "$lab_pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -KILL "$lab_pid" 2>/dev/null || true
  wait "$lab_pid" 2>/dev/null || true
  lab_pid=
}

start_control_plane() {
  local log="$cache_dir/logs/addr-xds-control-plane.run.log"
  begin
  "${engine_cli[@]}" run -d --name "$control_plane_container" "${run_flags[@]}" \
    -v "$lab_kubeconfig:/kubeconfig:ro" -e KUBECONFIG=/kubeconfig addr-xds-control-plane:images-check \
    --host 127.0.0.1 --ads-port 0 >"$log" 2>&1 || fail "addr-xds-control-plane: the container did not start" "$log"
  local tries output=
  for (( tries = 0; tries < 150; tries++ )); do
    output=$("${engine_cli[@]}" logs "$control_plane_container" 2>&1 || true)
    # (|| true: a line not there yet is no failure, and set -e with pipefail would end the check)
    ads_port=$(grep -o 'msg=listening ads=127\.0\.0\.1:[0-9]*' <<<"$output" | head -n 1 | sed 's/.*://' || true)
    xds_pods=$(grep -o 'msg=endpoints .* ready=2 pods=[^ ]*' <<<"$output" | tail -n 1 | sed 's/.*pods=//; s/"//g' || true)
    [ -n "$ads_port" ] && [ -n "$xds_pods" ] && break
    if [ "$("${engine_cli[@]}" inspect --format '{{.State.Running}}' "$control_plane_container")" != true ]; then
      printf '%s\n' "$output" >"$log"
      fail "addr-xds-control-plane: exited before it served the lab's two pods" "$log"
    fi
    sleep 0.2
  done
  printf '%s\n' "$output" >"$log"
  (( tries < 150 )) || fail "addr-xds-control-plane: no listening line and two ready pods within 30 s" "$log"
  done_step "addr-xds-control-plane: ADS on 127.0.0.1:$ads_port, serving the lab's pods $xds_pods"
}

check_xds_client() {
  local container="grpc-lb-images-check-xds-client-$$" log="$cache_dir/logs/addr-client-grpc.xds.log"
  containers+=("$container")
  local bootstrap
  bootstrap=$(printf '{"xds_servers":[{"server_uri":"127.0.0.1:%s","channel_creds":[{"type":"insecure"}],"server_features":["xds_v3"]}],"node":{"id":"images-check","locality":{}}}' "$ads_port")
  begin
  timeout 60 "${engine_cli[@]}" run --rm --name "$container" "${run_flags[@]}" -e GRPC_XDS_BOOTSTRAP_CONFIG="$bootstrap" \
    addr-client-grpc:images-check xds:///addr-server --count 6 --interval 50 >"$log" 2>&1 \
    || fail "addr-client-grpc: exited with an error on xds:///addr-server" "$log"
  local expected got
  expected=$(tr ',' '\n' <<<"$xds_pods" | sed 's/:[0-9]*$//' | sort -u | paste -sd ' ')
  got=$(sed -n 's/^#[0-9]*: //p' "$log" | sort -u | paste -sd ' ')
  [ "$(grep -c '^#[0-9]*: ' "$log")" = 6 ] && [ "$got" = "$expected" ] \
    || fail "addr-client-grpc: on xds:///addr-server its 6 replies came from [$got], not from both pods [$expected]" "$log"
  done_step "addr-client-grpc: xds:///addr-server --count 6 reached both pods ($got) through the control plane"
}

stop_control_plane() {
  local log="$cache_dir/logs/addr-xds-control-plane.run.log"
  begin
  "${engine_cli[@]}" stop -t 10 "$control_plane_container" >/dev/null 2>&1 || fail "addr-xds-control-plane: stop failed"
  local code
  code=$("${engine_cli[@]}" inspect --format '{{.State.ExitCode}}' "$control_plane_container") \
    || fail "addr-xds-control-plane: no exit code after stop"
  "${engine_cli[@]}" logs "$control_plane_container" >"$log" 2>&1 || true
  [ "$code" = 0 ] && grep -q 'msg=stopped' "$log" \
    || fail "addr-xds-control-plane: SIGTERM ended it with exit code $code, not 0 after msg=stopped" "$log"
  stop_lab
  done_step "addr-xds-control-plane: SIGTERM (stop) → exit code 0"
}
