#!/usr/bin/env bash
# npm run demo: the local stack, the gateway (in the background, pid under .stack/run),
# /readyz green, then the URLs to try. `npm run stack:down` stops all of it.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=stack.env
. "$HERE/stack.env"
STATE=${STACK_DIR:-$ROOT/.stack}
cd "$ROOT"

bash "$HERE/stack.sh" up

HOST=${SPARKGATE_HOST:-127.0.0.1}
PORT=${SPARKGATE_PORT:-$GATEWAY_PORT}
BASE="http://$HOST:$PORT"
pidfile="$STATE/run/gateway.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "demo: gateway already running (pid $(cat "$pidfile"))"
else
  if (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
    echo "demo: error: $HOST:$PORT is taken by another process; set SPARKGATE_PORT" >&2
    exit 1
  fi
  setsid nohup node --import tsx src/server.ts >"$STATE/logs/gateway.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  echo "demo: gateway starting (pid $!), log: $STATE/logs/gateway.log"
fi

for _ in $(seq 60); do
  if curl -sf "$BASE/readyz" >/dev/null 2>&1; then break; fi
  sleep 0.5
done
echo "demo: GET $BASE/readyz"
curl -s -w '\nHTTP %{http_code}\n' "$BASE/readyz"
curl -sf "$BASE/readyz" >/dev/null || {
  echo "demo: error: the gateway is not ready; see $STATE/logs/gateway.log" >&2
  exit 1
}

cat <<TXT

Sparkgate is up.
  gateway       $BASE
  Swagger UI    $BASE/docs
  OpenAPI       $BASE/docs/json
  health        $BASE/healthz  $BASE/readyz
  Livy          http://127.0.0.1:$LIVY_PORT/batches
  WebHDFS       http://127.0.0.1:$HDFS_NAMENODE_HTTP_PORT/webhdfs/v1/?op=LISTSTATUS
  Redis         redis://127.0.0.1:$REDIS_PORT
Stop everything: npm run stack:down
TXT
