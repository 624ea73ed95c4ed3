# The images running together, on loopback only: addr-server with POD_IP set answers /addr, /health
# and gRPC GetAddr with that IP; both client images, pointed at it, print #1..#3 with that IP; SIGTERM
# (docker/podman stop) ends it with exit code 0 within its grace period.

pod_ip=10.1.0.8
first_port=41000 # the check's servers listen on the first free ports from here
server_container=grpc-lb-images-check-server-$$
containers=("$server_container")

remove_containers() {
  "${engine_cli[@]}" rm -f "${containers[@]}" >/dev/null 2>&1 || true
}

# The first port from $1 on that nothing listens on (in a range of 100).
free_port() {
  local port
  for (( port = $1; port < $1 + 100; port++ )); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
  return 1
}

# "200 OK": the status and body of a GET, or nothing when the server does not answer.
http_get() {
  node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(3000) })
    .then(async (r) => console.log(r.status, await r.text()), () => process.exitCode = 1)' "$1"
}

start_server() {
  local log="$cache_dir/logs/addr-server.run.log"
  begin
  http_port=$(free_port "$first_port") && grpc_port=$(free_port $(( http_port + 1 ))) \
    || fail "addr-server: no two free ports on 127.0.0.1 from $first_port"
  "${engine_cli[@]}" run -d --name "$server_container" "${run_flags[@]}" -e POD_IP="$pod_ip" addr-server:images-check \
    --host 127.0.0.1 --http-port "$http_port" --grpc-port "$grpc_port" --shutdown-delay-ms 500 --grace-ms 3000 \
    >"$log" 2>&1 || fail "addr-server: the container did not start" "$log"
  local tries
  for (( tries = 0; tries < 100; tries++ )); do
    [ "$(http_get "http://127.0.0.1:$http_port/health" 2>/dev/null)" = "200 OK" ] && break
    if [ "$("${engine_cli[@]}" inspect --format '{{.State.Running}}' "$server_container")" != true ]; then
      "${engine_cli[@]}" logs "$server_container" >"$log" 2>&1 || true
      fail "addr-server: exited before it was ready" "$log"
    fi
    sleep 0.2
  done
  (( tries < 100 )) || fail "addr-server: /health did not answer 200 OK within 20 s"
  done_step "addr-server: running, POD_IP=$pod_ip, HTTP 127.0.0.1:$http_port, gRPC 127.0.0.1:$grpc_port, /health OK"
}

check_server_answers() {
  begin
  local addr reply
  addr=$(http_get "http://127.0.0.1:$http_port/addr") || true
  [ "$addr" = "200 $pod_ip" ] || fail "addr-server: GET /addr answered \"$addr\", not \"200 $pod_ip\""
  reply=$(timeout 15 "$repo/out/client-grpc" "127.0.0.1:$grpc_port" --count 1 2>&1) || true
  [ "$reply" = "#1: $pod_ip" ] || fail "addr-server: gRPC GetAddr (out/client-grpc) printed \"$reply\", not \"#1: $pod_ip\""
  done_step "addr-server: GET /addr and gRPC GetAddr answer $pod_ip"
}

check_client() { # name target
  local name=$1 container="grpc-lb-images-check-$1-$$" log="$cache_dir/logs/$1.run.log"
  containers+=("$container")
  begin
  timeout 60 "${engine_cli[@]}" run --rm --name "$container" "${run_flags[@]}" "$name:images-check" \
    "$2" --count 3 --interval 200 >"$log" 2>&1 || fail "$name: exited with an error against $2" "$log"
  [ "$(cat "$log")" = "$(printf '#%d: %s\n' 1 "$pod_ip" 2 "$pod_ip" 3 "$pod_ip")" ] \
    || fail "$name: against $2 it did not print #1..#3: $pod_ip" "$log"
  done_step "$name: $2 --count 3 printed #1..#3: $pod_ip"
}

stop_server() {
  local log="$cache_dir/logs/addr-server.run.log"
  begin
  "${engine_cli[@]}" stop -t 10 "$server_container" >"$log" 2>&1 || fail "addr-server: stop failed" "$log"
  local code
  code=$("${engine_cli[@]}" inspect --format '{{.State.ExitCode}}' "$server_container") \
    || fail "addr-server: no exit code after stop"
  "${engine_cli[@]}" logs "$server_container" >"$log" 2>&1 || true
  [ "$code" = 0 ] || fail "addr-server: SIGTERM ended it with exit code $code, not 0 within the 10 s stop timeout" "$log"
  done_step "addr-server: SIGTERM (stop) → exit code 0"
}
