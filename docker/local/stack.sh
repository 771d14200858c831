#!/usr/bin/env bash
# The local stack without a container engine: Redis, HDFS (NameNode + DataNode, WebHDFS
# on), Spark (the pyspark wheel used as SPARK_HOME) and Apache Livy, all on 127.0.0.1.
#
#   stack.sh up              install what is missing (apt, PyPI, Maven Central), start
#                            what is not running; a second call is a no-op
#   stack.sh down [svc...]   stop what this script (or the demo) started, by pid, nothing
#                            else; services: gateway livy hdfs redis (default: all)
#   stack.sh status [--json] what answers, and where
#   stack.sh check [svc...]  exit 0 when each service (redis hdfs livy) answers (quiet)
#   stack.sh env             print the SPARK_HOME / HADOOP_CONF_DIR / JAVA_HOME exports
#   stack.sh run-livy P DIR  one more Livy on port P, in the foreground (for tests)
#
# Ports and versions: stack.env beside this file. State and logs: $STACK_DIR (default
# <repo>/.stack, git-ignored). Downloads are cached in the user's home: ~/.m2 (Maven),
# the pip cache, and the Spark venv under $STACK_CACHE_DIR (~/.cache/sparkgate).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=stack.env
. "$HERE/stack.env"
STATE=${STACK_DIR:-$ROOT/.stack}
CACHE=${STACK_CACHE_DIR:-$HOME/.cache/sparkgate}
HDFS_USER=${HDFS_USER:-$(id -un)}

REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
WEBHDFS_URL="http://127.0.0.1:$HDFS_NAMENODE_HTTP_PORT/webhdfs/v1"
DEFAULT_FS="hdfs://127.0.0.1:$HDFS_NAMENODE_RPC_PORT"
LIVY_URL="http://127.0.0.1:$LIVY_PORT"

# Spark 3.5, Hadoop 3.3 and Livy need these on Java 17 (Spark's launcher adds its own).
JDK17_OPENS=(-XX:+IgnoreUnrecognizedVMOptions
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED
  --add-opens=java.base/sun.util.calendar=ALL-UNNAMED
  --add-exports=java.base/sun.net.dns=ALL-UNNAMED --add-exports=java.base/sun.net.util=ALL-UNNAMED
  --add-exports=java.base/sun.security.x509=ALL-UNNAMED --add-exports=java.base/sun.security.util=ALL-UNNAMED)

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
# A pid file names a process we started; it counts only while that process lives.
ours() { [ -f "$STATE/run/$1.pid" ] && kill -0 "$(cat "$STATE/run/$1.pid")" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for() {
  local what=$1 secs=$2
  shift 2
  for _ in $(seq "$((secs * 2))"); do
    if "$@" >/dev/null; then return 0; fi
    sleep 0.5
  done
  die "$what did not answer within ${secs}s; see the logs under $STATE/logs"
}
# A port held by something we did not start: refuse, naming the holder.
claim_port() {
  local port=$1 service=$2
  if port_open "$port"; then
    local holder
    holder=$(ss -ltnpH "sport = :$port" 2>/dev/null | sed -n 's/.*users:((\(.*\))).*/\1/p' | head -1)
    die "port $port (for $service) is already taken${holder:+ by $holder}. Stop that process, or change the port in docker/local/stack.env."
  fi
}

redis_up() { redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }
webhdfs_up() { curl -sf -m 3 "$WEBHDFS_URL/?op=GETFILESTATUS&user.name=$HDFS_USER" | grep -q DIRECTORY; }
# WebHDFS answering is not enough for writes: a DataNode must have registered.
datanode_live() {
  curl -sf -m 3 "http://127.0.0.1:$HDFS_NAMENODE_HTTP_PORT/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState" |
    grep -Eq '"NumLiveDataNodes" *: *[1-9]'
}
hdfs_up() { webhdfs_up && datanode_live; }
livy_up() { curl -sf -m 3 "$LIVY_URL/batches?size=1" >/dev/null; }

# ---------------------------------------------------------------- prerequisites
find_java17() {
  local c
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-arm64 /usr/lib/jvm/java-17-openjdk /usr/lib/jvm/temurin-17-jdk-amd64; do
    if [ -n "$c" ] && [ -x "$c/bin/java" ] && "$c/bin/java" -version 2>&1 | grep -q 'version "17'; then
      echo "$c"
      return 0
    fi
  done
  return 1
}
prereqs() {
  JAVA_HOME=$(find_java17) ||
    die "Java 17 is required (Spark 3.5, Hadoop 3.3 and Livy do not run on newer JDKs here). Install it: apt-get install openjdk-17-jdk-headless"
  export JAVA_HOME
  command -v python3 >/dev/null || die "Python 3 (3.9 to 3.11) is required for Spark. Install it: apt-get install python3 python3-venv"
  python3 -c 'import sys; sys.exit(not ((3, 9) <= sys.version_info[:2] <= (3, 11)))' ||
    die "Python 3.9 to 3.11 is required for pyspark 3.5; python3 is $(python3 -V 2>&1)"
  python3 -c 'import venv, ensurepip' 2>/dev/null || die "python3 has no venv/ensurepip module. Install it: apt-get install python3-venv"
  command -v curl >/dev/null || apt_install curl
  command -v redis-server >/dev/null || apt_install redis-server
  command -v mvn >/dev/null || apt_install maven
}
apt_install() {
  [ "$(id -u)" = 0 ] || die "$1 is missing and only root can install it: sudo apt-get install -y $1"
  say "stack: installing $1 from apt"
  if [ ! -f "$STATE/run/.apt-updated" ]; then
    apt-get update -qq >"$STATE/logs/apt.log" 2>&1 || die "apt-get update failed (is the Debian package mirror reachable?); see $STATE/logs/apt.log"
    touch "$STATE/run/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >>"$STATE/logs/apt.log" 2>&1 ||
    die "apt-get install $1 failed (is the Debian package mirror reachable?); see $STATE/logs/apt.log"
}

# ---------------------------------------------------------------- installs (cached)
venv_dir() {
  local key
  key=$(printf '%s|%s' "$PYTHON_PACKAGES" "$(python3 -V 2>&1)" | sha256sum | cut -c1-12)
  echo "$CACHE/venv-$key"
}
install_spark() {
  VENV=$(venv_dir)
  if [ ! -f "$VENV/.complete" ]; then
    # The marker is written last: a cut install is redone, never half-used.
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    # shellcheck disable=SC2086 # PYTHON_PACKAGES is a list
    if ! env -u PYSPARK_HADOOP_VERSION -u PYSPARK_HIVE_VERSION "$VENV/bin/pip" install --disable-pip-version-check -q $PYTHON_PACKAGES >"$STATE/logs/pip.log" 2>&1; then
      rm -rf "$VENV"
      die "pip could not install $PYTHON_PACKAGES (is the Python package index reachable?); see $STATE/logs/pip.log"
    fi
    touch "$VENV/.complete"
  fi
  SPARK_HOME=$("$VENV/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
  # setuptools can drop the executable bit of pyspark/bin (SPARK-31231); Livy runs them directly.
  chmod +x "$SPARK_HOME"/bin/* "$SPARK_HOME"/sbin/* 2>/dev/null || true
  echo "$SPARK_HOME" >"$STATE/run/spark-home"
  echo "$VENV" >"$STATE/run/venv"
}
# classpath NAME POM PROPS...: Maven resolves the runtime classpath once per POM/version.
classpath() {
  local name=$1 pom=$2
  shift 2
  local out="$STATE/run/$name.classpath" key
  key=$(cat "$pom" <(printf '%s\n' "$@") | sha256sum | cut -c1-16)
  if [ -f "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ] && all_exist "$(cat "$out")"; then return 0; fi
  if ! mvn -B -q -f "$pom" "$@" dependency:build-classpath -Dmdep.includeScope=runtime -Dmdep.outputFile="$out" >"$STATE/logs/maven-$name.log" 2>&1; then
    die "Maven could not resolve the $name jars (is Maven Central reachable?); see $STATE/logs/maven-$name.log"
  fi
  echo "$key" >"$out.key"
}
all_exist() {
  local IFS=: f
  for f in $1; do [ -f "$f" ] || return 1; done
}
install_jars() {
  classpath hdfs "$HERE/poms/hdfs/pom.xml" "-Dhadoop.version=$HADOOP_VERSION"
  classpath livy "$HERE/poms/livy/pom.xml" "-Dlivy.version=$LIVY_VERSION"
}

# ---------------------------------------------------------------- config files
write_configs() {
  SPARK_HOME=$(cat "$STATE/run/spark-home")
  VENV=$(cat "$STATE/run/venv")
  mkdir -p "$STATE/conf/hadoop" "$STATE/conf/spark" "$STATE/conf/livy" "$STATE/livy-home"
  cat >"$STATE/conf/hadoop/core-site.xml" <<XML
<?xml version="1.0"?>
<configuration>
  <property><name>fs.defaultFS</name><value>$DEFAULT_FS</value></property>
</configuration>
XML
  cat >"$STATE/conf/hadoop/hdfs-site.xml" <<XML
<?xml version="1.0"?>
<configuration>
  <!-- one DataNode: clients (Spark, hdfs dfs) must not ask for more replicas -->
  <property><name>dfs.replication</name><value>1</value></property>
</configuration>
XML
  cp "$HERE/log4j.properties" "$STATE/conf/hadoop/log4j.properties"
  cp "$HERE/log4j.properties" "$STATE/conf/livy/log4j.properties"
  cat >"$STATE/conf/spark/spark-defaults.conf" <<CONF
spark.master                   $SPARK_MASTER
spark.driver.host              127.0.0.1
spark.driver.bindAddress       127.0.0.1
spark.ui.enabled               false
spark.sql.shuffle.partitions   2
spark.pyspark.python           $VENV/bin/python
CONF
  cat >"$STATE/conf/livy/livy.conf" <<CONF
livy.server.host = 127.0.0.1
livy.server.port = $LIVY_PORT
livy.spark.master = $SPARK_MASTER
livy.spark.scala-version = 2.12
livy.server.csrf-protection.enabled = false
livy.impersonation.enabled = false
# recovery needs YARN or Kubernetes; Sparkgate, not Livy, is the durable record here
livy.server.recovery.mode = off
livy.server.session.state-retain.sec = 3600s
livy.file.local-dir-whitelist = $STATE/local-files/
CONF
  mkdir -p "$STATE/local-files"
}

# Environment of everything that runs Spark (Livy and its spark-submit children).
spark_env() {
  export SPARK_HOME HADOOP_CONF_DIR="$STATE/conf/hadoop" SPARK_CONF_DIR="$STATE/conf/spark"
  export PYSPARK_PYTHON="$VENV/bin/python" SPARK_LOCAL_IP=127.0.0.1 SPARK_LOCAL_HOSTNAME=localhost
  export PATH="$VENV/bin:$JAVA_HOME/bin:$PATH"
}

# ---------------------------------------------------------------- services
start_redis() {
  if ours redis && redis_up; then
    say "stack:   redis already running (pid $(cat "$STATE/run/redis.pid"))"
    return 0
  fi
  claim_port "$REDIS_PORT" redis
  mkdir -p "$STATE/data/redis"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes --daemonize yes \
    --dir "$STATE/data/redis" --appendonly yes --appendfsync everysec --save "" \
    --maxmemory-policy noeviction --pidfile "$STATE/run/redis.pid" --logfile "$STATE/logs/redis.log"
  wait_for redis 20 redis_up
}
start_hdfs() {
  if ours hdfs && hdfs_up; then
    say "stack:   hdfs already running (pid $(cat "$STATE/run/hdfs.pid"))"
    return 0
  fi
  claim_port "$HDFS_NAMENODE_RPC_PORT" "the HDFS NameNode"
  claim_port "$HDFS_NAMENODE_HTTP_PORT" "WebHDFS"
  local format=()
  # Format only a new cluster; a restart keeps what was stored.
  [ -d "$STATE/data/hdfs/data" ] || format=(-format)
  mkdir -p "$STATE/data/hdfs"
  # MiniDFSClusterManager: a NameNode and a DataNode in one JVM, both bound to 127.0.0.1,
  # the DataNode registered as 127.0.0.1 so WebHDFS redirects stay on loopback; listings
  # page 10 entries at a time (dfs.ls.limit) so LISTSTATUS_BATCH paging is exercised.
  setsid nohup "$JAVA_HOME/bin/java" -Xmx768m "${JDK17_OPENS[@]}" -Djava.net.preferIPv4Stack=true \
    -cp "$(cat "$STATE/run/hdfs.classpath")" \
    -Dlog4j.configuration="file:$STATE/conf/hadoop/log4j.properties" \
    org.apache.hadoop.test.MiniDFSClusterManager "${format[@]}" -datanodes 1 \
    -nnport "$HDFS_NAMENODE_RPC_PORT" -httpport "$HDFS_NAMENODE_HTTP_PORT" \
    -Dhdfs.minidfs.basedir="$STATE/data/hdfs" -Ddfs.permissions.enabled=false -Ddfs.replication=1 \
    -Ddfs.datanode.hostname=127.0.0.1 -Ddfs.webhdfs.enabled=true -Ddfs.ls.limit=10 \
    >"$STATE/logs/hdfs.log" 2>&1 </dev/null &
  echo $! >"$STATE/run/hdfs.pid"
  wait_for "HDFS (WebHDFS + a live DataNode)" 120 hdfs_up_or_dead hdfs
}
# Stop waiting at once when the JVM has already died.
hdfs_up_or_dead() {
  ours "$1" || die "$1 exited at start; last lines of $STATE/logs/$1.log:$(printf '\n')$(tail -n 15 "$STATE/logs/$1.log")"
  hdfs_up
}
livy_up_or_dead() {
  ours livy || die "livy exited at start; last lines of $STATE/logs/livy.log:$(printf '\n')$(tail -n 15 "$STATE/logs/livy.log")"
  livy_up
}
start_livy() {
  if ours livy && livy_up; then
    say "stack:   livy already running (pid $(cat "$STATE/run/livy.pid"))"
    return 0
  fi
  claim_port "$LIVY_PORT" livy
  (
    spark_env
    export LIVY_HOME="$STATE/livy-home" LIVY_CONF_DIR="$STATE/conf/livy" LIVY_LOG_DIR="$STATE/logs"
    cd "$STATE/livy-home"
    exec setsid nohup "$JAVA_HOME/bin/java" -Xmx512m "${JDK17_OPENS[@]}" \
      -cp "$(cat "$STATE/run/livy.classpath"):$LIVY_CONF_DIR:$HADOOP_CONF_DIR" \
      org.apache.livy.server.LivyServer >"$STATE/logs/livy.log" 2>&1 </dev/null
  ) &
  echo $! >"$STATE/run/livy.pid"
  wait_for livy 120 livy_up_or_dead
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

# ---------------------------------------------------------------- commands
cmd_up() {
  mkdir -p "$STATE/run" "$STATE/logs" "$STATE/data"
  local t0
  t0=$(now)
  step "prerequisites (Java 17, Python, apt packages)" prereqs
  step "Spark: pyspark venv from PyPI (cached in $CACHE)" install_spark
  step "Hadoop $HADOOP_VERSION and Livy $LIVY_VERSION jars from Maven Central (cached in ~/.m2)" install_jars
  step "config files" write_configs
  VENV=$(cat "$STATE/run/venv")
  step "redis on 127.0.0.1:$REDIS_PORT" start_redis
  step "hdfs on 127.0.0.1:$HDFS_NAMENODE_RPC_PORT, WebHDFS on :$HDFS_NAMENODE_HTTP_PORT" start_hdfs
  step "livy on 127.0.0.1:$LIVY_PORT" start_livy
  say "stack: up in $(secs "$t0") s"
  cmd_status
}
# down [service...]: every service by default; the gateway too if the demo started it.
cmd_down() {
  local services=("$@")
  [ ${#services[@]} -gt 0 ] || services=(gateway livy hdfs redis)
  local s
  for s in "${services[@]}"; do
    case $s in
      gateway | livy | hdfs) stop_pid "$s" ;;
      redis) stop_redis ;;
      *) die "unknown service $s (gateway, livy, hdfs, redis)" ;;
    esac
  done
}
stop_redis() {
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
b() { if "$@" >/dev/null 2>&1; then echo true; else echo false; fi; }
cmd_status() {
  local spark_home=""
  [ -f "$STATE/run/spark-home" ] && spark_home=$(cat "$STATE/run/spark-home")
  local r h l
  r=$(b redis_up)
  h=$(b hdfs_up)
  l=$(b livy_up)
  if [ "${1:-}" = "--json" ]; then
    printf '{"redis":{"url":"%s","up":%s},"hdfs":{"webhdfsUrl":"%s","defaultFS":"%s","up":%s},"livy":{"url":"%s","up":%s},"spark":{"home":"%s"},"stateDir":"%s"}\n' \
      "$REDIS_URL" "$r" "$WEBHDFS_URL" "$DEFAULT_FS" "$h" "$LIVY_URL" "$l" "$spark_home" "$STATE"
  else
    printf '%-7s %-5s %s\n' service up where
    printf '%-7s %-5s %s\n' redis "$r" "$REDIS_URL"
    printf '%-7s %-5s %s  (fs.defaultFS %s)\n' hdfs "$h" "$WEBHDFS_URL" "$DEFAULT_FS"
    printf '%-7s %-5s %s\n' livy "$l" "$LIVY_URL"
    printf '%-7s %-5s %s\n' spark - "${spark_home:-(not installed)}"
    printf 'state and logs: %s\n' "$STATE"
  fi
}
# check [service...]: exit 0 when each named service (default: all) answers.
cmd_check() {
  local services=("$@") s
  [ ${#services[@]} -gt 0 ] || services=(redis hdfs livy)
  for s in "${services[@]}"; do "${s}_up" || return 1; done
}
cmd_env() {
  [ -f "$STATE/run/spark-home" ] || die "the stack is not installed; run: npm run stack:up"
  JAVA_HOME=$(find_java17) || die "Java 17 not found"
  printf 'export JAVA_HOME=%q SPARK_HOME=%q HADOOP_CONF_DIR=%q SPARK_CONF_DIR=%q PYSPARK_PYTHON=%q SPARK_LOCAL_IP=127.0.0.1\n' \
    "$JAVA_HOME" "$(cat "$STATE/run/spark-home")" "$STATE/conf/hadoop" "$STATE/conf/spark" "$(cat "$STATE/run/venv")/bin/python"
}

# run-livy PORT DIR: one more Livy, in the foreground, on PORT, with its conf and logs
# in DIR (tests start and stop their own to play "Livy is down, then back").
cmd_run_livy() {
  local port=$1 dir=$2
  [ -f "$STATE/run/livy.classpath" ] || die "the stack is not installed; run: npm run stack:up"
  JAVA_HOME=$(find_java17) || die "Java 17 not found"
  SPARK_HOME=$(cat "$STATE/run/spark-home")
  VENV=$(cat "$STATE/run/venv")
  mkdir -p "$dir/conf" "$dir/logs" "$dir/home"
  sed -e "s/^livy.server.port = .*/livy.server.port = $port/" "$STATE/conf/livy/livy.conf" >"$dir/conf/livy.conf"
  cp "$STATE/conf/livy/log4j.properties" "$dir/conf/"
  spark_env
  export LIVY_HOME="$dir/home" LIVY_CONF_DIR="$dir/conf" LIVY_LOG_DIR="$dir/logs"
  cd "$dir/home"
  exec "$JAVA_HOME/bin/java" -Xmx384m "${JDK17_OPENS[@]}" \
    -cp "$(cat "$STATE/run/livy.classpath"):$LIVY_CONF_DIR:$HADOOP_CONF_DIR" org.apache.livy.server.LivyServer
}

case "${1:-up}" in
  up) cmd_up ;;
  down) cmd_down "${@:2}" ;;
  status) cmd_status "${2:-}" ;;
  check) cmd_check "${@:2}" ;;
  env) cmd_env ;;
  run-livy) cmd_run_livy "${2:?port}" "${3:?dir}" ;;
  *) die "usage: stack.sh up|down|status [--json]|check|env|run-livy PORT DIR" ;;
esac
