# shellcheck shell=bash
# shellcheck disable=SC2153 # STATE (stack.sh), KRB5_CONF (services/kdc.sh): not misspellings
# Apache Livy, twice from the same jars: `livy`, the gateway's Spark backend of record, runs
# its batches on the stack's YARN (services/yarn.sh) in cluster mode with recovery on, as
# production Livy does; `livy-local` (services/livy-local.sh) runs them with a local master
# on this machine, for the tests whose subject is the gateway rather than the cluster (a
# YARN application costs two JVMs and seconds more). Both spark-submit the stack's Spark
# (services/spark.sh) against the stack's HDFS (services/hdfs.sh).

LIVY_URL="http://127.0.0.1:$LIVY_PORT"
# The secure profile: Livy's REST API demands SPNEGO (HTTP/localhost or HTTP/127.0.0.1,
# principal *), Livy kinits as livy/localhost to spark-submit (--proxy-user: the caller's
# proxyUser, or the caller), and the gateway's principal (sparkgate) may name any proxyUser.
# Its recovery state is kept apart from the default profile's.
if secure_profile; then
  LIVY_AUTH=kerberos
  LIVY_STATE="$STATE/data/livy-state-secure"
else
  LIVY_AUTH=none
  LIVY_STATE="$STATE/data/livy-state"
fi

livy_marker() { echo conf/livy:; }
livy_about() {
  case $1 in
    install) echo "livy: Livy $LIVY_VERSION jars from Maven Central (cached in ~/.m2), config files" ;;
    start) echo "livy on 127.0.0.1:$LIVY_PORT (batches on YARN, cluster mode)" ;;
  esac
}
# livy_conf PORT yarn|local STATE_DIR: a livy.conf
livy_conf() {
  local port=$1 mode=$2 state=$3
  cat <<CONF
livy.server.host = 127.0.0.1
livy.server.port = $port
livy.spark.scala-version = 2.12
livy.server.csrf-protection.enabled = false
# jobs run as the user Sparkgate names (proxyUser: the tenant's cluster user)
livy.impersonation.enabled = true
livy.server.session.state-retain.sec = 3600s
livy.file.local-dir-whitelist = $STATE/local-files/
CONF
  if [ "$mode" = yarn ]; then
    cat <<CONF
# as production Livy runs: on YARN, the driver in a YARN container (cluster mode)
livy.spark.master = yarn
livy.spark.deploy-mode = cluster
# a restarted Livy recovers its batches (same ids, same YARN applications) from its state store
livy.server.recovery.mode = recovery
livy.server.recovery.state-store = filesystem
livy.server.recovery.state-store.url = file://$state
CONF
  else
    cat <<CONF
# a local master: batches are spark-submit children of this Livy (recovery needs YARN)
livy.spark.master = $SPARK_MASTER
livy.server.recovery.mode = off
CONF
  fi
  if secure_profile; then
    cat <<CONF
# the secure profile: SPNEGO on the REST API, spark-submit as livy, sparkgate a superuser
livy.server.auth.type = kerberos
livy.server.auth.kerberos.principal = *
livy.server.auth.kerberos.keytab = $(keytab http)
livy.server.launch.kerberos.principal = livy/localhost@$KRB5_REALM
livy.server.launch.kerberos.keytab = $(keytab livy)
livy.superusers = sparkgate
CONF
  fi
}
livy_install() {
  classpath livy "$HERE/poms/livy/pom.xml" "-Dlivy.version=$LIVY_VERSION"
  local name
  for name in livy livy-local; do
    mkdir -p "$STATE/conf/$name" "$STATE/$name-home"
    put "$STATE/conf/$name/log4j.properties" <"$HERE/log4j.properties"
  done
  mkdir -p "$STATE/local-files" "$LIVY_STATE"
  livy_conf "$LIVY_PORT" yarn "$LIVY_STATE" | put "$STATE/conf/livy/livy.conf"
  livy_conf "$LIVY_LOCAL_PORT" local "" | put "$STATE/conf/livy-local/livy.conf"
}
livy_check() { livy_curl "$LIVY_URL/batches?size=1" -f -m 3 >/dev/null; }
# livy_curl URL [CURL ARGS...]: in the secure profile with SPNEGO, as analyst (its own
# credentials cache)
livy_curl() {
  local url=$1
  shift
  if secure_profile; then
    local cc
    cc=$(kdc_ticket analyst "$ANALYST_PRINCIPAL") || return 1
    KRB5_CONFIG="$KRB5_CONF" KRB5CCNAME="$cc" curl -s --negotiate -u : "$@" "$url"
  else
    curl -s "$@" "$url"
  fi
}
# The environment of a secured Livy and its spark-submit children: the stack's krb5.conf
# (KRB5_CONFIG for Livy's kinit, a -D for the JVMs) and a credentials cache of Livy's own
livy_krb5_env() {
  secure_profile || return 0
  export KRB5_CONFIG="$KRB5_CONF" KRB5CCNAME="FILE:$SECRETS/livy-$1.ccache"
  SPARK_SUBMIT_OPTS+=" -Djava.security.krb5.conf=$KRB5_CONF"
  LIVY_KRB=("${KRB5_JAVA_OPTS[@]}")
}
LIVY_KRB=()

# livy_launch NAME PORT: start the Livy whose conf is $STATE/conf/NAME, wait until it answers
livy_launch() {
  local name=$1 port=$2
  claim_port "$port" "$name"
  spark_load
  (
    spark_env
    livy_krb5_env "$name"
    # shellcheck disable=SC2030 # for this subshell's exec only
    export LIVY_HOME="$STATE/$name-home" LIVY_CONF_DIR="$STATE/conf/$name" LIVY_LOG_DIR="$STATE/logs"
    cd "$LIVY_HOME" || exit
    exec setsid nohup "$JAVA_HOME/bin/java" -Xmx512m "${JDK17_OPENS[@]}" "${LIVY_KRB[@]}" \
      -cp "$LIVY_CONF_DIR:$(cat "$STATE/run/livy.classpath"):$HADOOP_CONF_DIR" \
      org.apache.livy.server.LivyServer >"$STATE/logs/$name.log" 2>&1 </dev/null
  ) &
  launched "$name" $!
  wait_for "$name" 120 up_or_dead "$name" "${name}_check"
}
livy_start() {
  already_running livy 120 livy_check && return 0
  livy_launch livy "$LIVY_PORT"
}
livy_stop() { stop_pid livy; }
# livy_status UP [--json]
livy_status() {
  if [ "${2:-}" = --json ]; then
    printf '"livy":{"url":"%s","master":"yarn","deployMode":"cluster","recovery":true,"auth":"%s","up":%s}' "$LIVY_URL" "$LIVY_AUTH" "$1"
  else
    printf '%-7s %-5s %s  (YARN, cluster mode, recovery on%s)\n' livy "$1" "$LIVY_URL" "$(secure_profile && echo ", Kerberos (SPNEGO)")"
  fi
}

# `stack.sh run-livy PORT DIR [yarn|local]`: one more Livy, in the foreground, on PORT,
# with its conf, logs and recovery state in DIR (tests start and stop their own to play
# "Livy is down, then back"; started again on the same DIR, a yarn one recovers its batches).
livy_run_foreground() {
  local port=$1 dir=$2 mode=${3:-yarn}
  [ -f "$STATE/run/livy.classpath" ] || die "the stack is not installed; run: npm run stack:up"
  [[ $mode == yarn || $mode == local ]] || die "run-livy: yarn or local, not $mode"
  JAVA_HOME=$(find_java17) || die "Java 17 not found"
  spark_load
  mkdir -p "$dir/conf" "$dir/logs" "$dir/home" "$dir/state"
  livy_conf "$port" "$mode" "$dir/state" >"$dir/conf/livy.conf"
  cp "$STATE/conf/livy/log4j.properties" "$dir/conf/"
  spark_env
  livy_krb5_env "run-livy-$port"
  # shellcheck disable=SC2031 # not livy_launch's subshell: this process execs Livy
  export LIVY_HOME="$dir/home" LIVY_CONF_DIR="$dir/conf" LIVY_LOG_DIR="$dir/logs"
  cd "$dir/home" || exit
  exec "$JAVA_HOME/bin/java" -Xmx384m "${JDK17_OPENS[@]}" "${LIVY_KRB[@]}" \
    -cp "$LIVY_CONF_DIR:$(cat "$STATE/run/livy.classpath"):$HADOOP_CONF_DIR" org.apache.livy.server.LivyServer
}
