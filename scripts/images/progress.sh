# Progress lines and failures for the image check. Every line starts with the seconds since the check
# began; a step's line ends with how long it took. A failure names the image and the step, shows the
# last lines of what the tool printed, and ends the check with exit code 1.

check_started=${EPOCHREALTIME/./}

# Seconds since a microsecond timestamp, one decimal.
seconds_since() {
  local us=$(( ${EPOCHREALTIME/./} - $1 ))
  printf '%d.%d' $(( us / 1000000 )) $(( us / 100000 % 10 ))
}

say() {
  printf '%6ss  %s\n' "$(seconds_since "$check_started")" "$*"
}

# begin; …; done_step "addr-server: built"  →  "  12.3s  addr-server: built (7.9 s)"
begin() {
  step_started=${EPOCHREALTIME/./}
}
done_step() {
  say "$* ($(seconds_since "$step_started") s)"
}

# fail "addr-server: build failed at step COPY …" [file whose last lines explain it]
fail() {
  say "FAILED: $1"
  if [ -n "${2:-}" ] && [ -s "$2" ]; then
    tail -n 15 "$2" | sed 's/^/        | /'
  fi
  exit 1
}
