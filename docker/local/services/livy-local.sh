# shellcheck shell=bash
# The second Livy of the stack (services/livy.sh has both): a local master, no recovery,
# on LIVY_LOCAL_PORT. The tests of the gateway's own behaviour (queue, caps, crash windows,
# events) run their Spark applications here; those of the cluster's (YARN, cluster mode,
# recovery, queues) on `livy`.

LIVY_LOCAL_URL="http://127.0.0.1:$LIVY_LOCAL_PORT"

livy-local_marker() { echo conf/livy-local:; }
livy-local_about() {
  case $1 in
    install) echo "livy-local: (livy's jars, its config)" ;;
    start) echo "livy-local on 127.0.0.1:$LIVY_LOCAL_PORT (batches on a local master)" ;;
  esac
}
livy-local_install() { :; }
livy-local_check() { livy_curl "$LIVY_LOCAL_URL/batches?size=1" -f -m 3 >/dev/null; }
livy-local_start() {
  secure_profile && die "livy-local is not part of the secure profile (it runs without Kerberos)"
  already_running livy-local 120 livy-local_check && return 0
  livy_launch livy-local "$LIVY_LOCAL_PORT"
}
livy-local_stop() { stop_pid livy-local; }
livy-local_status() {
  if [ "${2:-}" = --json ]; then
    printf '"livyLocal":{"url":"%s","master":"%s","up":%s}' "$LIVY_LOCAL_URL" "$SPARK_MASTER" "$1"
  else
    printf '%-7s %-5s %s  (master %s%s)\n' livy-local "$1" "$LIVY_LOCAL_URL" "$SPARK_MASTER" \
      "$(secure_profile && echo "; not in the secure profile")"
  fi
}
