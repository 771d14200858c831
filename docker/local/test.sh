#!/usr/bin/env bash
# npm test: every test, against the real local stack.
#   1. starts the stack's services that are not already running (and at the end stops
#      only what this run started: by the pid `stack.sh up` reported launching);
#   2. typecheck and lint (TypeScript and Python), side by side;
#   3. node-tap (unit, integration, e2e; test/**/*.test.ts), two files at a time, among them
#      test/pytest.test.ts: pytest for jobs/ on local Spark;
#   4. phase 2, the secure profile (a full run only, and only when this run started the
#      profiled services itself: hdfs, yarn, nodemanager, timeline, livy, livy-local): stops
#      them, `stack.sh up --secure` (a KDC, then HDFS, YARN and Livy with Kerberos), runs
#      `tap test/secure` (logs/tap-secure.out), and stops what it started;
#   5. one closing line: "tests: N passed, N failed (tap N, pytest N)" (lib/test-summary.sh),
#      both phases counted.
# Arguments go to tap, e.g. `npm test -- test/health.test.ts` (phase 1 only).
# `test.sh --secure` (npm run test:secure): phase 2 alone, starting the secured stack unless
# it is up (and stopping only what it started).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT" || exit 1
STACK="$HERE/stack.sh"
# the state directory as stack.sh computes it (stack.env may set STACK_DIR)
# shellcheck source=stack.env
. "$HERE/stack.env"
STATE=${STACK_DIR:-$ROOT/.stack}
mkdir -p "$STATE/logs"

# `stack.sh up` appends "NAME PID" here for each service it launched in this call. A
# service that merely failed a check (a busy JVM) but is already running, ours (the demo's,
# say) or not, is not in it, and so is never stopped by this run.
started_file=$(mktemp "${TMPDIR:-/tmp}/sparkgate-started.XXXXXX")
# stop_started [SERVICE...]: stop those this run started (default: all), in stop order
stop_started() {
  local s pid only=" $* "
  # in stop order: the proxy, the Synapse double, Azurite, MLflow and Livy first, Redis last
  for s in proxy synapse azurite mlflow livy-local livy timeline nodemanager yarn hdfs kafka redis kdc; do
    [ $# -eq 0 ] || [[ $only == *" $s "* ]] || continue
    # the last one started under that name (phase 2 starts hdfs again, say)
    pid=$(awk -v s="$s" '$1 == s { p = $2 } END { print p }' "$started_file")
    # only if its pid file still names that process (nobody restarted it meanwhile)
    if [ -n "$pid" ] && [ "$(cat "$STATE/run/$s.pid" 2>/dev/null)" = "$pid" ]; then
      bash "$STACK" down "$s"
    fi
  done
}
trap 'stop_started; rm -f "$started_file"' EXIT
# shellcheck source=lib/test-summary.sh
. "$HERE/lib/test-summary.sh"
export TAP_TYPE_STRIP_ONLY=1

# Phase 2: the secure profile's services (the KDC, HDFS, YARN, Livy; Redis, Kafka and MLflow
# for the gateway that test/secure runs, already up after phase 1; Azurite is not needed),
# then tap test/secure. Its output: logs/tap-secure.out.
SECURE_SERVICES=(kdc redis kafka hdfs yarn nodemanager timeline livy mlflow)
secure_phase() {
  rm -f "$STATE/logs/tap-secure.out"
  if ! bash "$STACK" up --secure --started-file "$started_file" "${SECURE_SERVICES[@]}"; then
    echo "tests: the secure profile did not start (see above)" | tee "$STATE/logs/tap-secure.out"
    return 1
  fi
  # (no coverage: tap's thresholds are phase 1's business)
  npx tap --disable-coverage test/secure 2>&1 | tee "$STATE/logs/tap-secure.out"
  return "${PIPESTATUS[0]}"
}

if [ "${1:-}" = --secure ]; then
  t0=$(date +%s)
  secure_phase
  rc=$?
  echo "tests run in $(($(date +%s) - t0)) s (secure profile; tap exit $rc)"
  tests_line "$rc" "$(tap_counts <"$STATE/logs/tap-secure.out")"
  [ "$rc" -eq 0 ]
  exit
fi
# Everything answering (ours or not): nothing to start. Otherwise `up` starts those that
# do not answer and waits for any of them that is ours but slow; one answering that another
# checkout started is left alone (up would refuse its port as a stranger's).
down=()
for s in redis kafka hdfs yarn nodemanager timeline livy livy-local mlflow azurite synapse proxy; do
  bash "$STACK" check "$s" || down+=("$s")
done
if [ ${#down[@]} -gt 0 ]; then
  bash "$STACK" up --started-file "$started_file" "${down[@]}" || exit 1
fi

# Services answering that another checkout started: this one still needs its own Spark
# venv, jars and config files (installed, nothing started).
bash "$STACK" env >/dev/null 2>&1 || bash "$STACK" install || exit 1
# SPARK_HOME, HADOOP_CONF_DIR, PYSPARK_PYTHON…: the local backend's spark-submit is the stack's
eval "$(bash "$STACK" env)"
t0=$(date +%s)
# the type check and the linters at once (each mostly one core), then their output in order
npm run -s typecheck >"$STATE/logs/typecheck.out" 2>&1 &
typecheck_pid=$!
npm run -s lint >"$STATE/logs/lint.out" 2>&1 &
lint_pid=$!
wait "$typecheck_pid"
typecheck_rc=$?
wait "$lint_pid"
lint_rc=$?
cat "$STATE/logs/typecheck.out" "$STATE/logs/lint.out"
[ "$typecheck_rc" -eq 0 ] || {
  echo "tests: typecheck failed"
  exit 1
}
[ "$lint_rc" -eq 0 ] || {
  echo "tests: lint failed"
  exit 1
}

# pytest runs inside tap (test/pytest.test.ts: tap schedules it beside the other files),
# writing its output and exit code to logs/pytest.{out,rc}; stale ones are not counted
rm -f "$STATE/logs/pytest.out" "$STATE/logs/pytest.rc" "$STATE/logs/tap-secure.out"
# TypeScript through tsx only (.taprc says why: TAP_TYPE_STRIP_ONLY, exported above)
npx tap "$@" 2>&1 | tee "$STATE/logs/tap.out"
tap_rc=${PIPESTATUS[0]}
py_rc=0
[ -f "$STATE/logs/pytest.rc" ] && py_rc=$(cat "$STATE/logs/pytest.rc")

# Phase 2 (the secure profile): on a full run whose default-profile services this run
# started itself; never by stopping another's.
PROFILED=(hdfs yarn nodemanager timeline livy livy-local)
secure_rc=""
if [ $# -gt 0 ]; then
  echo "tests: phase 2 (the secure profile) skipped: tap was given files; run it alone with: npm run test:secure"
else
  not_ours=()
  for s in "${PROFILED[@]}"; do
    awk -v s="$s" '$1 == s { found = 1 } END { exit !found }' "$started_file" || not_ours+=("$s")
  done
  if [ ${#not_ours[@]} -gt 0 ]; then
    printf -v names '%s, ' "${not_ours[@]}"
    echo "tests: phase 2 (the secure profile) skipped: ${names%, } were running before this run (it stops only what it started); run it alone with: npm run test:secure"
  else
    t2=$(date +%s)
    stop_started "${PROFILED[@]}"
    secure_phase
    secure_rc=$?
    stop_started "${SECURE_SERVICES[@]}"
    echo "tests: phase 2 (the secure profile: up, tap test/secure, down) in $(($(date +%s) - t2)) s (tap exit $secure_rc)"
  fi
fi

# tap's summary and pytest's last line, counted whole (lib/test-summary.sh); phase 2's tap
# counted with phase 1's
tap_n=$(tap_counts <"$STATE/logs/tap.out")
if [ -n "$secure_rc" ]; then
  tap_n=$(sum_counts "$tap_n" "$secure_rc" "$(tap_counts <"$STATE/logs/tap-secure.out")")
  [ "$secure_rc" -eq 0 ] || [ "$tap_rc" -ne 0 ] || tap_rc=$secure_rc
fi
read -r _ tap_fail _ <<<"$tap_n"
# pytest ran when tap ran test/pytest.test.ts (every file, or that one named)
py=()
if [ -f "$STATE/logs/pytest.rc" ]; then
  py=("$py_rc" "$(pytest_counts <"$STATE/logs/pytest.out")")
fi
# Every failing assertion again at the end, with its file and tap's diagnostics, so the
# tail of a long run (all a CI log may keep) says what failed.
if [ "${tap_fail:-0}" -gt 0 ] || [ "$tap_rc" -ne 0 ]; then
  echo "failures:"
  awk '
    /^# Subtest: / { file = substr($0, 12) }
    /^[ ]+not ok / { print "  " file ": " $0; diag = 1; n = 0; next }
    diag && /^[ ]+---$/ { inyaml = 1 }
    diag && inyaml { if (n++ < 40) print "  " $0; if ($0 ~ /^[ ]+\.\.\.$/) { diag = 0; inyaml = 0 }; next }
    diag { diag = 0 }
    /^not ok / { print "  " $0 }
  ' "$STATE/logs/tap.out" "$STATE/logs/tap-secure.out" 2>/dev/null
fi
echo "tests run in $(($(date +%s) - t0)) s (tap exit $tap_rc, pytest exit $py_rc)"
tests_line "$tap_rc" "$tap_n" "${py[@]}"
[ "$tap_rc" -eq 0 ] && [ "$py_rc" -eq 0 ]
