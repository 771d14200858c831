# shellcheck shell=bash
# Apache Livy: the gateway's Spark backend of record. Its batches are spark-submit runs of
# the stack's Spark (services/spark.sh) against the stack's HDFS (services/hdfs.sh).

LIVY_URL="http://127.0.0.1:$LIVY_PORT"

livy_marker() { echo LivyServer; }
livy_about() {
  case $1 in
    install) echo "livy: Livy $LIVY_VERSION jars from Maven Central (cached in ~/.m2), config files" ;;
    start) echo "livy on 127.0.0.1:$LIVY_PORT" ;;
  esac
}
livy_install() {
  classpath livy "$HERE/poms/livy/pom.xml" "-Dlivy.version=$LIVY_VERSION"
  mkdir -p "$STATE/conf/livy" "$STATE/livy-home" "$STATE/local-files"
  put "$STATE/conf/livy/log4j.properties" <"$HERE/log4j.properties"
  put "$STATE/conf/livy/livy.conf" <<CONF
livy.server.host = 127.0.0.1
livy.server.port = $LIVY_PORT
# as production Livy runs: on YARN, the driver in a YARN container (cluster mode)
livy.spark.master = yarn
livy.spark.deploy-mode = cluster
livy.spark.scala-version = 2.12
livy.server.csrf-protection.enabled = false
# jobs run as the user Sparkgate names (proxyUser: the tenant's cluster user)
livy.impersonation.enabled = true
# a restarted Livy recovers its batches (same ids, same YARN applications) from its state store
livy.server.recovery.mode = recovery
livy.server.recovery.state-store = filesystem
livy.server.recovery.state-store.url = file://$STATE/data/livy-state
livy.server.session.state-retain.sec = 3600s
livy.file.local-dir-whitelist = $STATE/local-files/
CONF
  mkdir -p "$STATE/data/livy-state"
}
livy_check() { curl -sf -m 3 "$LIVY_URL/batches?size=1" >/dev/null; }

livy_start() {
  already_running livy 120 livy_check && return 0
  claim_port "$LIVY_PORT" livy
  spark_load
  (
    spark_env
    # shellcheck disable=SC2030 # for this subshell's exec only
    export LIVY_HOME="$STATE/livy-home" LIVY_CONF_DIR="$STATE/conf/livy" LIVY_LOG_DIR="$STATE/logs"
    cd "$STATE/livy-home" || exit
    exec setsid nohup "$JAVA_HOME/bin/java" -Xmx512m "${JDK17_OPENS[@]}" \
      -cp "$(cat "$STATE/run/livy.classpath"):$LIVY_CONF_DIR:$HADOOP_CONF_DIR" \
      org.apache.livy.server.LivyServer >"$STATE/logs/livy.log" 2>&1 </dev/null
  ) &
  launched livy $!
  wait_for livy 120 up_or_dead livy livy_check
}
livy_stop() { stop_pid livy; }
# livy_status UP [--json]
livy_status() {
  if [ "${2:-}" = --json ]; then
    printf '"livy":{"url":"%s","up":%s}' "$LIVY_URL" "$1"
  else
    printf '%-7s %-5s %s\n' livy "$1" "$LIVY_URL"
  fi
}

# `stack.sh run-livy PORT DIR`: one more Livy, in the foreground, on PORT, with its conf
# and logs in DIR (tests start and stop their own to play "Livy is down, then back").
livy_run_foreground() {
  local port=$1 dir=$2
  [ -f "$STATE/run/livy.classpath" ] || die "the stack is not installed; run: npm run stack:up"
  JAVA_HOME=$(find_java17) || die "Java 17 not found"
  spark_load
  mkdir -p "$dir/conf" "$dir/logs" "$dir/home"
  # its own port and its own recovery state (never the stack Livy's)
  mkdir -p "$dir/state"
  sed -e "s/^livy.server.port = .*/livy.server.port = $port/" \
    -e "s|^livy.server.recovery.state-store.url = .*|livy.server.recovery.state-store.url = file://$dir/state|" \
    "$STATE/conf/livy/livy.conf" >"$dir/conf/livy.conf"
  cp "$STATE/conf/livy/log4j.properties" "$dir/conf/"
  spark_env
  # shellcheck disable=SC2031 # not livy_start's subshell: this process execs Livy
  export LIVY_HOME="$dir/home" LIVY_CONF_DIR="$dir/conf" LIVY_LOG_DIR="$dir/logs"
  cd "$dir/home" || exit
  exec "$JAVA_HOME/bin/java" -Xmx384m "${JDK17_OPENS[@]}" \
    -cp "$(cat "$STATE/run/livy.classpath"):$LIVY_CONF_DIR:$HADOOP_CONF_DIR" org.apache.livy.server.LivyServer
}
