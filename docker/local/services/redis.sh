# shellcheck shell=bash
# Redis: the gateway's queue and job store (BullMQ). Debian's redis-server, append-only
# with an fsync before every reply (a 202 for a job is on disk).

REDIS_URL="redis://127.0.0.1:$REDIS_PORT"

redis_marker() { echo redis-server; }
redis_about() {
  case $1 in
    install) echo "redis: redis-server from apt" ;;
    start) echo "redis on 127.0.0.1:$REDIS_PORT" ;;
  esac
}
redis_install() { need redis-server; }
# redis-cli has no reply timeout: a stopped or wedged redis would hang every check.
# (Health checks capture, then match: never `cmd | grep -q` under pipefail, where grep
# leaving at its first match makes cmd die of SIGPIPE and a healthy service look down.)
redis_check() {
  local out
  out=$(timeout 3 redis-cli -p "$REDIS_PORT" ping 2>/dev/null) && [ "$out" = PONG ]
}
redis_start() {
  already_running redis 20 redis_check && return 0
  claim_port "$REDIS_PORT" redis
  mkdir -p "$STATE/data/redis"
  # In the foreground of its own session, like the JVMs: its pid is known the moment it
  # starts (a daemonizing redis writes its pid file only later).
  setsid nohup redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes --daemonize no \
    --dir "$STATE/data/redis" --appendonly yes --appendfsync always --save "" \
    --maxmemory-policy noeviction --logfile "$STATE/logs/redis.log" >/dev/null 2>&1 </dev/null &
  launched redis $!
  wait_for redis 20 up_or_dead redis redis_check
}
redis_stop() {
  if ours redis; then
    # SHUTDOWN lets Redis finish its append-only file; fall back to the pid.
    redis-cli -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true
    for _ in $(seq 20); do
      ours redis || break
      sleep 0.25
    done
    stop_pid redis
    say "stack: stopped redis"
  fi
  rm -f "$STATE/run/redis.pid"
}
# redis_status UP [--json]
redis_status() {
  if [ "${2:-}" = --json ]; then
    printf '"redis":{"url":"%s","up":%s}' "$REDIS_URL" "$1"
  else
    printf '%-7s %-5s %s\n' redis "$1" "$REDIS_URL"
  fi
}
