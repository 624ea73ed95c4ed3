# Which tools build and run the images. A Docker engine when one answers; otherwise Debian's buildah
# (build) and podman (run) on the check's own container storage under .cache/images, where a stand-in
# for node:26-slim is made (stand-in.sh), so a real node:26-slim elsewhere is never shadowed.
# Sets:
#   engine        docker | podman
#   engine_cli    the command for run, inspect, logs, stop, rm
#   build_cli     the command that builds a Dockerfile (docker build / buildah build)
#   run_flags     what every container runs with: the host's network, so loopback ports reach it
#   storage_flags (podman) the check's own storage, for buildah and podman alike

storage_dir="$cache_dir/storage"

pick_engine() {
  if command -v docker >/dev/null && timeout 20 docker info >/dev/null 2>&1; then
    engine=docker
    engine_cli=(docker)
    build_cli=(docker build --progress=plain)
    run_flags=(--network host)
    say "engine: Docker $(docker version --format '{{.Server.Version}}')"
    return
  fi
  local tool missing=()
  for tool in buildah podman runc debootstrap; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "images: needs a running Docker engine, or buildah, podman, runc and debootstrap (missing: ${missing[*]}; on Debian/Ubuntu: sudo apt-get install buildah podman runc debootstrap)"
    exit 1
  fi
  if [ "$(id -u)" != 0 ]; then
    say "images: without a Docker engine the check makes its node:26-slim stand-in with debootstrap, which needs root: run it with sudo"
    exit 1
  fi
  engine=podman
  # overlay when the kernel has it (about twice as fast as vfs for this check).
  local driver=vfs
  grep -qw overlay /proc/filesystems && driver=overlay
  storage_flags=(--root "$storage_dir/root" --runroot "$storage_dir/run" --storage-driver "$driver")
  # crun refuses cgroup v1/hybrid hosts; runc with cgroupfs works on v1, hybrid and v2 alike.
  engine_cli=(podman "${storage_flags[@]}" --tmpdir "$storage_dir/tmp" --runtime runc --cgroup-manager cgroupfs)
  # podman and buildah ask for limits above the hard ones by default (nofile 1048576), which fails
  # without CAP_SYS_RESOURCE; ask for the hard limits instead, and no more processes than the
  # 32768 they keep for themselves.
  local nofile nproc
  nofile=$(ulimit -Hn); [ "$nofile" = unlimited ] && nofile=1048576
  nproc=$(ulimit -Hu); { [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; } && nproc=32768
  local limits=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")
  # --layers: keep each step's layer, so that the four targets share one build stage (as Docker does).
  build_cli=(buildah "${storage_flags[@]}" build --layers --pull=never --runtime runc --network host "${limits[@]}")
  run_flags=(--network host "${limits[@]}")
  say "engine: buildah $(buildah --version | awk '{print $3}') + podman $(podman --version | awk '{print $3}'), runc, $driver storage in ${storage_dir#"$repo/"}"
}

# The step a failed build stopped at, from the builder's output: BuildKit's " > [build 3/8] COPY …:",
# buildah's "[1/2] STEP 3/9: COPY …" or the classic builder's "Step 3/9 : COPY …".
failed_step() {
  local line
  line=$(grep -E '^ > \[[^]]+\] ' "$1" | tail -n 1) || true
  if [ -n "$line" ]; then
    line=${line# > }
    echo "${line%:}"
    return
  fi
  line=$(grep -E -i 'STEP [0-9]+/[0-9]+ ?: ' "$1" | tail -n 1) || true
  if [ -n "$line" ]; then
    local label=${line%%: *}
    echo "${line#*: } (${label% })"
  else
    echo "(before its first step)"
  fi
}
