# One image, built from its target of the Dockerfile as it is, then looked at: it runs as uid/gid 1000,
# its entrypoint is the program (the image answers --help with the program's usage), and /app holds
# nothing that the build's out/ (built here on the host from the same sources) lacks.

build_image() { # name target
  local name=$1 target=$2 log="$cache_dir/logs/$1.build.log"
  begin
  "${build_cli[@]}" -f "$repo/Dockerfile" --target "$target" -t "$name:images-check" "$repo" >"$log" 2>&1 \
    || fail "$name: build failed at step $(failed_step "$log")" "$log"
  done_step "$name: built from Dockerfile, target $target"
}

inspect_image() { # name program
  local name=$1 program=$2 image="$1:images-check" log="$cache_dir/logs/$1.inspect.log"
  begin
  local ids
  ids=$("${engine_cli[@]}" run --rm "${run_flags[@]}" --entrypoint sh "$image" -c 'echo "$(id -u):$(id -g)"' 2>"$log") \
    || fail "$name: could not run id in the image" "$log"
  [ "$ids" = 1000:1000 ] || fail "$name: runs as uid:gid $ids, not 1000:1000"

  local entrypoint
  entrypoint=$("${engine_cli[@]}" image inspect --format '{{json .Config.Entrypoint}}' "$image") \
    || fail "$name: could not inspect the image"
  "${engine_cli[@]}" run --rm "${run_flags[@]}" "$image" --help >"$log" 2>&1 \
    || fail "$name: its entrypoint $entrypoint does not run $program: $(grep -m 1 -i error "$log")" "$log"
  head -n 1 "$log" | grep -q "^$program " \
    || fail "$name: its entrypoint $entrypoint does not run $program (--help printed something else)" "$log"

  local app extra
  app=$("${engine_cli[@]}" run --rm "${run_flags[@]}" --entrypoint find "$image" /app -mindepth 1 -printf '%P\n' 2>"$log") \
    || fail "$name: could not list /app in the image" "$log"
  extra=$(comm -23 <(sort <<<"$app") <(cd "$repo/out" && find . -mindepth 1 -printf '%P\n' | sort))
  [ -z "$extra" ] || fail "$name: /app holds what out/ does not: $(head -n 5 <<<"$extra" | paste -sd ' ')"
  done_step "$name: runs as 1000:1000, entrypoint $entrypoint runs $program, /app is out/ only"
}
