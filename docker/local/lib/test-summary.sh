# shellcheck shell=bash
# The closing line of `npm test` (docker/local/test.sh), from what tap (both phases) and
# pytest printed:
#   tests: 5383 passed, 0 failed (tap 5052, pytest 331)
#   tests: 5379 passed, 4 failed, 3 skipped (tap 5051 passed 1 failed 1 skipped, pytest 328 passed 3 failed 2 skipped)
# Sourced by test.sh; test/unit/test-summary.test.ts runs these functions on sample output.

# tap_counts < TAP_OUTPUT: "PASSED FAILED SKIPPED" from tap's last summary,
# "# { total: N, pass: N[, fail: N][, todo: N][, skip: N] }" (todo counts as skipped).
tap_counts() {
  local line
  line=$(grep -E '^# \{ total' | tail -n 1) || true
  echo "$(count_of pass "$line") $(count_of fail "$line") $(($(count_of skip "$line") + $(count_of todo "$line")))"
}
# count_of NAME LINE: the N of "NAME: N" in LINE, 0 if absent
count_of() {
  local re="(^|[^a-z])$1: ([0-9]+)"
  if [[ $2 =~ $re ]]; then echo "${BASH_REMATCH[2]}"; else echo 0; fi
}

# pytest_counts < PYTEST_OUTPUT: "PASSED FAILED SKIPPED" from pytest's last summary line,
# e.g. "3 failed, 328 passed, 2 skipped, 1 warning in 40.12s" (with or without ===).
# Errors count as failed, xpassed as passed, xfailed as skipped; each count is read whole.
pytest_counts() {
  local line n word passed=0 failed=0 skipped=0
  line=$(grep -E '(^|[ =])[0-9]+ (passed|failed|skipped|errors?|xfailed|xpassed|deselected|warnings?)(,| in )' | tail -n 1) || true
  while read -r n word; do
    case $word in
      passed | xpassed) passed=$((passed + n)) ;;
      failed | error | errors) failed=$((failed + n)) ;;
      skipped | xfailed) skipped=$((skipped + n)) ;;
    esac
  done < <(grep -oE '(^|[ =,])[0-9]+ [a-z]+' <<<"$line" | sed -E 's/^[ =,]+//')
  echo "$passed $failed $skipped"
}

# sum_counts "PASSED FAILED SKIPPED" RC "PASSED FAILED SKIPPED": two tap runs as one (npm
# test's two phases, the default profile and the secure one); the second counts one failure
# when it exited non-zero with none counted (its stack did not start, say).
sum_counts() {
  local p1 f1 s1 p2 f2 s2
  read -r p1 f1 s1 <<<"$1"
  read -r p2 f2 s2 <<<"$3"
  [ "$2" -eq 0 ] || [ "$f2" -gt 0 ] || f2=1
  echo "$((p1 + p2)) $((f1 + f2)) $((s1 + s2))"
}

# runner_part NAME PASSED FAILED SKIPPED: "tap 5052", or "tap 5051 passed 1 failed"
runner_part() {
  local out="$1 $2"
  if [ "$3" -gt 0 ] || [ "$4" -gt 0 ]; then
    out+=" passed"
    [ "$3" -eq 0 ] || out+=" $3 failed"
    [ "$4" -eq 0 ] || out+=" $4 skipped"
  fi
  echo "$out"
}

# tests_line TAP_RC "TAP_COUNTS" [PYTEST_RC "PYTEST_COUNTS"]: the closing line. Without
# pytest's arguments (tap was given files, pytest did not run) it names tap only. A runner
# that exited non-zero with no failure counted (it crashed, say) counts one failure.
tests_line() {
  local tap_rc=$1 tp tf ts py_rc=${3:-} pp=0 pf=0 ps=0 parts line
  read -r tp tf ts <<<"$2"
  [ "$tap_rc" -eq 0 ] || [ "$tf" -gt 0 ] || tf=1
  parts=$(runner_part tap "$tp" "$tf" "$ts")
  if [ -n "$py_rc" ]; then
    read -r pp pf ps <<<"$4"
    [ "$py_rc" -eq 0 ] || [ "$pf" -gt 0 ] || pf=1
    parts+=", $(runner_part pytest "$pp" "$pf" "$ps")"
  fi
  line="tests: $((tp + pp)) passed, $((tf + pf)) failed"
  [ $((ts + ps)) -eq 0 ] || line+=", $((ts + ps)) skipped"
  echo "$line ($parts)"
}
