# shellcheck shell=bash
# What every service of the local stack uses: logging, timed steps, pid files (and the rule
# that a pid file counts only while it names a live process of that service), port checks,
# waiting, stopping by pid, and atomic config files. Sourced by stack.sh; needs STATE and
# STARTED_FILE, and a <name>_marker function for each name whose pid file it reads.

say() { printf '%s\n' "$*" >&2; }
die() {
  say "stack: error: $*"
  exit 1
}
now() { date +%s%N; }
secs() { local ms=$((($(now) - $1) / 1000000)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }
# step NAME CMD...: run one step, print its duration.
step() {
  local name=$1 t0
  shift
  t0=$(now)
  say "stack: ▶ $name"
  "$@"
  say "stack: ✔ $name ($(secs "$t0") s)"
}
# b CMD...: "true" or "false", as CMD passes or not (for status)
b() { if "$@" >/dev/null 2>&1; then echo true; else echo false; fi; }
# list_of A B C: "A, B, C"
list_of() {
  local out
  printf -v out '%s, ' "$@"
  echo "${out%, }"
}

# ---------------------------------------------------------------- pids
alive() { kill -0 "$1" 2>/dev/null; }
pid_of() { cat "$STATE/run/$1.pid" 2>/dev/null; }
# A pid file names a process we started; it counts only while that process lives and is
# still that program: a pid file left by a crash or a reboot may name a pid the system has
# since given to some other program, which is not ours. <name>_marker prints what the
# service's command line contains.
ours() {
  local pid cmdline
  pid=$(pid_of "$1") && [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
  [ -r "/proc/$pid/cmdline" ] || return 0
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline")
  [[ $cmdline == *"$("$1_marker")"* ]]
}
# launched NAME PID: a service this call started; --started-file gets "NAME PID".
launched() {
  echo "$2" >"$STATE/run/$1.pid"
  if [ -n "$STARTED_FILE" ]; then echo "$1 $2" >>"$STARTED_FILE"; fi
}
# Stop one process group we started: TERM, then KILL after a grace period.
stop_pid() {
  local name=$1 pid
  ours "$name" || {
    rm -f "$STATE/run/$name.pid"
    return 0
  }
  pid=$(cat "$STATE/run/$name.pid")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 40); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  rm -f "$STATE/run/$name.pid"
  say "stack: stopped $name (pid $pid)"
}

# ---------------------------------------------------------------- ports and waiting
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# A port held by something we did not start: refuse, naming the holder.
claim_port() {
  local port=$1 service=$2
  if port_open "$port"; then
    local listeners holder
    listeners=$(ss -ltnpH "sport = :$port" 2>/dev/null) || true
    holder=$(sed -n '1s/.*users:((\(.*\))).*/\1/p' <<<"$listeners")
    die "port $port (for $service) is already taken${holder:+ by $holder}, not by a process this script started. Stop that process, or change the port in docker/local/stack.env."
  fi
}
# wait_for WHAT SECS CHECK...: poll CHECK until it passes; a deadline, not a count, since
# one CHECK can itself take seconds (curl -m 3).
wait_for() {
  local what=$1 secs=$2
  shift 2
  local end=$((SECONDS + secs))
  while [ "$SECONDS" -lt "$end" ]; do
    if "$@" >/dev/null; then return 0; fi
    sleep 0.5
  done
  "$@" >/dev/null || die "$what did not answer within ${secs}s; see the logs under $STATE/logs"
}
# up_or_dead NAME CHECK: stop waiting at once when the process has already died. (The
# pid, not `ours`: until its exec the child is still a copy of this shell.)
up_or_dead() {
  alive "$(pid_of "$1")" || die "$1 exited at start; last lines of $STATE/logs/$1.log:$(printf '\n')$(tail -n 15 "$STATE/logs/$1.log")"
  "$2"
}
# already_running NAME SECS CHECK...: 0 when NAME is ours and answers CHECK, after waiting
# up to SECS for it (a JVM busy in GC, or still starting, misses a check now and then; it
# is not a stranger on our port). 1 when it is not ours: the caller starts it.
already_running() {
  local name=$1 secs=$2 pid end
  shift 2
  ours "$name" || return 1
  pid=$(pid_of "$name")
  if ! "$@" >/dev/null; then
    say "stack:   $name (pid $pid) is ours but does not answer yet; waiting up to ${secs}s"
    end=$((SECONDS + secs))
    until "$@" >/dev/null; do
      if ! ours "$name"; then
        say "stack:   $name (pid $pid) exited while we waited; starting a new one"
        return 1
      fi
      [ "$SECONDS" -lt "$end" ] ||
        die "$name (pid $pid, started by this script) did not answer within ${secs}s; see $STATE/logs/$name.log. Stop it with: bash docker/local/stack.sh down $name"
      sleep 0.5
    done
  fi
  say "stack:   $name already running (pid $pid)"
}

# ---------------------------------------------------------------- config files
# put FILE: stdin to FILE, atomically (temp file + mv) and only when it changed: a second
# `up` runs while Livy's spark-submit children and other scripts read these files.
put() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then
    rm -f "$tmp"
  else
    chmod 644 "$tmp"
    mv -f "$tmp" "$1"
  fi
}
