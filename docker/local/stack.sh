#!/usr/bin/env bash
# The local stack without a container engine: Redis, Apache Kafka (one KRaft node), HDFS
# (NameNode + DataNode, WebHDFS on), Spark (the pyspark wheel used as SPARK_HOME), Apache
# Livy and an MLflow tracking server, all on 127.0.0.1.
#
#   stack.sh up [--started-file F] [svc...]
#                            install what is missing (apt, PyPI, Maven Central), start
#                            what is not running (the named services only: redis kafka
#                            hdfs livy mlflow; default: all); a second call is a no-op.
#                            With --started-file, append "NAME PID" to F for each service
#                            this call launched (test.sh stops those, and only those)
#   stack.sh install         only the installs and config files of up; starts nothing
#   stack.sh down [svc...]   stop what this script (or the demo) started, by pid, nothing
#                            else; services: gateway mlflow livy hdfs kafka redis (default: all)
#   stack.sh status [--json] what answers, and where
#   stack.sh check [svc...]  exit 0 when each service (redis kafka hdfs livy mlflow) answers (quiet)
#   stack.sh env             print the SPARK_HOME / HADOOP_CONF_DIR / JAVA_HOME exports
#                            (`up` also writes them to $STACK_DIR/run/local-spark.json,
#                            where the gateway's local backend finds the stack's Spark)
#   stack.sh run-livy P DIR  one more Livy on port P, in the foreground (for tests)
#
# Ports and versions: stack.env beside this file. State and logs: $STACK_DIR (default
# <repo>/.stack, git-ignored). Downloads are cached in the user's home: ~/.m2 (Maven),
# the pip cache, and the Spark and MLflow venvs under $STACK_CACHE_DIR (~/.cache/sparkgate).
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
KAFKA_BOOTSTRAP="127.0.0.1:$KAFKA_PORT"
MLFLOW_URL="http://127.0.0.1:$MLFLOW_PORT"

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
alive() { kill -0 "$1" 2>/dev/null; }
pid_of() { cat "$STATE/run/$1.pid" 2>/dev/null; }
# What each service's command line contains: a pid file left by a crash or a reboot may
# name a pid the system has since given to some other program, which is not ours.
marker() {
  case $1 in
    redis) echo redis-server ;;
    hdfs) echo MiniDFSClusterManager ;;
    livy) echo LivyServer ;;
    kafka) echo ' kafka.Kafka ' ;; # the main class (kafka.tools.StorageTool is not the broker)
    mlflow) echo 'mlflow server' ;;
    gateway) echo node ;;
  esac
}
# A pid file names a process we started; it counts only while that process lives (and is
# still that program).
ours() {
  local pid cmdline
  pid=$(pid_of "$1") && [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
  [ -r "/proc/$pid/cmdline" ] || return 0
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline")
  [[ $cmdline == *"$(marker "$1")"* ]]
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
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
# launched NAME PID: a service this call started; --started-file gets "NAME PID".
launched() {
  echo "$2" >"$STATE/run/$1.pid"
  if [ -n "$STARTED_FILE" ]; then echo "$1 $2" >>"$STARTED_FILE"; fi
}
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

# Health checks capture, then match: never `cmd | grep -q` under pipefail, where grep
# leaving at its first match makes cmd die of SIGPIPE (curl exit 23) and a healthy service
# look down.
# redis-cli has no reply timeout: a stopped or wedged redis would hang every check.
redis_up() {
  local out
  out=$(timeout 3 redis-cli -p "$REDIS_PORT" ping 2>/dev/null) && [ "$out" = PONG ]
}
webhdfs_up() {
  local out
  out=$(curl -sf -m 3 "$WEBHDFS_URL/?op=GETFILESTATUS&user.name=$HDFS_USER") &&
    [[ $out == *'"type":"DIRECTORY"'* ]]
}
# WebHDFS answering is not enough for writes: a DataNode must have registered.
datanode_live() {
  local out re='"NumLiveDataNodes" *: *[1-9]'
  out=$(curl -sf -m 3 "http://127.0.0.1:$HDFS_NAMENODE_HTTP_PORT/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState") &&
    [[ $out =~ $re ]]
}
hdfs_up() { webhdfs_up && datanode_live; }
livy_up() { curl -sf -m 3 "$LIVY_URL/batches?size=1" >/dev/null; }
# /health answers OK once the app is loaded (the SQLite store migrated)
mlflow_up() {
  local out
  out=$(curl -sf -m 3 "$MLFLOW_URL/health") && [ "$out" = OK ]
}
# An open port is not a ready broker: a Metadata request (v7, no topics) must list a broker
# at 127.0.0.1:$KAFKA_PORT, and KRaft lists only a broker that has registered with the
# controller, caught up with the metadata log and been unfenced.
kafka_up() {
  timeout 3 python3 - "$KAFKA_PORT" 2>/dev/null <<'PY'
import socket, struct, sys
port = int(sys.argv[1])
sock = socket.create_connection(("127.0.0.1", port), timeout=2)
client = b"sparkgate-stack"
# request header v1 (api_key 3 = Metadata, version 7, correlation id 1, client id), then
# topics = [] (none, not null = all) and allow_auto_topic_creation = false
body = struct.pack(">hhih", 3, 7, 1, len(client)) + client + struct.pack(">i?", 0, False)
sock.sendall(struct.pack(">i", len(body)) + body)
def read(n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("closed")
        data += chunk
    return data
reply = read(struct.unpack(">i", read(4))[0])
correlation, _throttle, count = struct.unpack_from(">iii", reply)
at, brokers = 12, []
for _ in range(count):
    _node, length = struct.unpack_from(">ih", reply, at)
    host = reply[at + 6 : at + 6 + length].decode()
    at += 6 + length
    broker_port, rack = struct.unpack_from(">ih", reply, at)
    at += 6 + max(rack, 0)
    brokers.append((host, broker_port))
sys.exit(0 if correlation == 1 and ("127.0.0.1", port) in brokers else 1)
PY
}

# ---------------------------------------------------------------- prerequisites
find_java17() {
  local c v
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-arm64 /usr/lib/jvm/java-17-openjdk /usr/lib/jvm/temurin-17-jdk-amd64; do
    if [ -n "$c" ] && [ -x "$c/bin/java" ] && v=$("$c/bin/java" -version 2>&1) && [[ $v == *'version "17'* ]]; then
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
  # the curl notebook's cells (notebooks/) pipe through jq; the Swagger UI test drives
  # Debian's Chromium (no browser download)
  command -v jq >/dev/null || apt_install jq
  command -v chromium >/dev/null || apt_install chromium
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
    # the notebook's bash kernel, registered inside the venv (jupyter lab / nbclient find it)
    if ! "$VENV/bin/python" -m bash_kernel.install --sys-prefix >>"$STATE/logs/pip.log" 2>&1; then
      rm -rf "$VENV"
      die "could not register the bash kernel for the notebook; see $STATE/logs/pip.log"
    fi
    touch "$VENV/.complete"
  fi
  SPARK_HOME=$("$VENV/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
  # setuptools can drop the executable bit of pyspark/bin (SPARK-31231); Livy runs them directly.
  chmod +x "$SPARK_HOME"/bin/* "$SPARK_HOME"/sbin/* 2>/dev/null || true
  echo "$SPARK_HOME" | put "$STATE/run/spark-home"
  echo "$VENV" | put "$STATE/run/venv"
}
# The MLflow server's own venv, keyed like the Spark one; the marker is written last.
install_mlflow() {
  local key venv
  key=$(printf '%s|%s' "$MLFLOW_PACKAGES" "$(python3 -V 2>&1)" | sha256sum | cut -c1-12)
  venv="$CACHE/mlflow-$key"
  if [ ! -f "$venv/.complete" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    # shellcheck disable=SC2086 # MLFLOW_PACKAGES is a list
    if ! "$venv/bin/pip" install --disable-pip-version-check -q $MLFLOW_PACKAGES >"$STATE/logs/pip-mlflow.log" 2>&1; then
      rm -rf "$venv"
      die "pip could not install $MLFLOW_PACKAGES (is the Python package index reachable?); see $STATE/logs/pip-mlflow.log"
    fi
    touch "$venv/.complete"
  fi
  echo "$venv" | put "$STATE/run/mlflow-venv"
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
  classpath kafka "$HERE/poms/kafka/pom.xml" "-Dkafka.version=$KAFKA_VERSION"
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
write_configs() {
  SPARK_HOME=$(cat "$STATE/run/spark-home")
  VENV=$(cat "$STATE/run/venv")
  mkdir -p "$STATE/conf/hadoop" "$STATE/conf/spark" "$STATE/conf/livy" "$STATE/livy-home"
  put "$STATE/conf/hadoop/core-site.xml" <<XML
<?xml version="1.0"?>
<configuration>
  <property><name>fs.defaultFS</name><value>$DEFAULT_FS</value></property>
</configuration>
XML
  put "$STATE/conf/hadoop/hdfs-site.xml" <<XML
<?xml version="1.0"?>
<configuration>
  <!-- one DataNode: clients (Spark, hdfs dfs) must not ask for more replicas -->
  <property><name>dfs.replication</name><value>1</value></property>
</configuration>
XML
  put "$STATE/conf/hadoop/log4j.properties" <"$HERE/log4j.properties"
  put "$STATE/conf/livy/log4j.properties" <"$HERE/log4j.properties"
  put "$STATE/conf/spark/spark-defaults.conf" <<CONF
spark.master                   $SPARK_MASTER
spark.driver.host              127.0.0.1
spark.driver.bindAddress       127.0.0.1
spark.ui.enabled               false
spark.sql.shuffle.partitions   2
spark.pyspark.python           $VENV/bin/python
CONF
  put "$STATE/conf/livy/livy.conf" <<CONF
livy.server.host = 127.0.0.1
livy.server.port = $LIVY_PORT
livy.spark.master = $SPARK_MASTER
livy.spark.scala-version = 2.12
livy.server.csrf-protection.enabled = false
# jobs run as the user Sparkgate names (proxyUser: the tenant's cluster user)
livy.impersonation.enabled = true
# recovery needs YARN or Kubernetes; Sparkgate, not Livy, is the durable record here
livy.server.recovery.mode = off
livy.server.session.state-retain.sec = 3600s
livy.file.local-dir-whitelist = $STATE/local-files/
CONF
  mkdir -p "$STATE/local-files"
  write_kafka_configs
}
# One KRaft node, broker and controller in one JVM, on loopback only. Three partitions per
# new topic, so that per-key ordering matters; internal topics with one replica.
write_kafka_configs() {
  mkdir -p "$STATE/conf/kafka"
  put "$STATE/conf/kafka/server.properties" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$STATE/data/kafka
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
# fewer than the default 50: less for the first consumer group to wait for on 2 cores
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
CONF
  # log4j2 (Kafka 4 has no log4j 1.x): everything to stdout, which start_kafka sends to
  # $STATE/logs/kafka.log; the per-request and state-change chatter is left out.
  put "$STATE/conf/kafka/log4j2.properties" <<'CONF'
status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = %d{ISO8601} %p %c{1}: %m%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
CONF
}

# The stack's Spark for a spark-submit run outside Livy: `env` prints it as exports, and
# local-spark.json holds it for the gateway's local backend (no SPARKGATE_* or SPARK_HOME
# needed). Sets LS_* from the installed state.
local_spark_vars() {
  [ -f "$STATE/run/spark-home" ] || die "the stack is not installed; run: npm run stack:up"
  LS_JAVA_HOME=$(find_java17) || die "Java 17 not found"
  LS_SPARK_HOME=$(cat "$STATE/run/spark-home")
  LS_HADOOP_CONF_DIR="$STATE/conf/hadoop"
  LS_SPARK_CONF_DIR="$STATE/conf/spark"
  LS_PYSPARK_PYTHON="$(cat "$STATE/run/venv")/bin/python"
}
write_local_spark() {
  local_spark_vars
  # json.dumps escapes what a path may hold; put makes it atomic for a reading gateway.
  python3 -c 'import json, sys
home, java, hadoop, conf, python = sys.argv[1:]
print(json.dumps({"sparkHome": home, "env": {"JAVA_HOME": java, "HADOOP_CONF_DIR": hadoop,
    "SPARK_CONF_DIR": conf, "PYSPARK_PYTHON": python, "SPARK_LOCAL_IP": "127.0.0.1"}}))' \
    "$LS_SPARK_HOME" "$LS_JAVA_HOME" "$LS_HADOOP_CONF_DIR" "$LS_SPARK_CONF_DIR" "$LS_PYSPARK_PYTHON" |
    put "$STATE/run/local-spark.json"
}

# Environment of everything that runs Spark (Livy and its spark-submit children).
spark_env() {
  export SPARK_HOME HADOOP_CONF_DIR="$STATE/conf/hadoop" SPARK_CONF_DIR="$STATE/conf/spark"
  export PYSPARK_PYTHON="$VENV/bin/python" SPARK_LOCAL_IP=127.0.0.1 SPARK_LOCAL_HOSTNAME=localhost
  export PATH="$VENV/bin:$JAVA_HOME/bin:$PATH"
}

# ---------------------------------------------------------------- services
start_redis() {
  already_running redis 20 redis_up && return 0
  claim_port "$REDIS_PORT" redis
  mkdir -p "$STATE/data/redis"
  # In the foreground of its own session, like the JVMs: its pid is known the moment it
  # starts (a daemonizing redis writes its pid file only later).
  setsid nohup redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes --daemonize no \
    --dir "$STATE/data/redis" --appendonly yes --appendfsync always --save "" \
    --maxmemory-policy noeviction --logfile "$STATE/logs/redis.log" >/dev/null 2>&1 </dev/null &
  launched redis $!
  wait_for redis 20 up_or_dead redis redis_up
}
start_hdfs() {
  already_running hdfs 120 hdfs_up && return 0
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
    -Dhadoop.proxyuser."$(id -un)".hosts='*' -Dhadoop.proxyuser."$(id -un)".groups='*' \
    -Ddfs.datanode.hostname=127.0.0.1 -Ddfs.webhdfs.enabled=true -Ddfs.ls.limit=10 \
    >"$STATE/logs/hdfs.log" 2>&1 </dev/null &
  launched hdfs $!
  wait_for "HDFS (WebHDFS + a live DataNode)" 120 up_or_dead hdfs hdfs_up
}
# up_or_dead NAME CHECK: stop waiting at once when the process has already died. (The
# pid, not `ours`: until its exec the child is still a copy of this shell.)
up_or_dead() {
  alive "$(pid_of "$1")" || die "$1 exited at start; last lines of $STATE/logs/$1.log:$(printf '\n')$(tail -n 15 "$STATE/logs/$1.log")"
  "$2"
}
start_livy() {
  already_running livy 120 livy_up && return 0
  claim_port "$LIVY_PORT" livy
  (
    spark_env
    export LIVY_HOME="$STATE/livy-home" LIVY_CONF_DIR="$STATE/conf/livy" LIVY_LOG_DIR="$STATE/logs"
    cd "$STATE/livy-home"
    exec setsid nohup "$JAVA_HOME/bin/java" -Xmx512m "${JDK17_OPENS[@]}" \
      -cp "$(cat "$STATE/run/livy.classpath"):$LIVY_CONF_DIR:$HADOOP_CONF_DIR" \
      org.apache.livy.server.LivyServer >"$STATE/logs/livy.log" 2>&1 </dev/null
  ) &
  launched livy $!
  wait_for livy 120 up_or_dead livy livy_up
}

start_kafka() {
  already_running kafka 90 kafka_up && return 0
  claim_port "$KAFKA_PORT" kafka
  claim_port "$KAFKA_CONTROLLER_PORT" "the Kafka controller"
  # Format a new log directory once, with a fresh cluster id; a restart keeps the topics
  # (and --ignore-formatted keeps a formatted one as it is).
  if [ ! -f "$STATE/data/kafka/meta.properties" ]; then
    mkdir -p "$STATE/data/kafka"
    local id
    id=$(python3 -c 'import base64, uuid; print(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))')
    "$JAVA_HOME/bin/java" -Xmx256m -Djava.net.preferIPv4Stack=true \
      -Dlog4j2.configurationFile="$STATE/conf/kafka/log4j2.properties" \
      -cp "$(cat "$STATE/run/kafka.classpath")" kafka.tools.StorageTool format \
      --config "$STATE/conf/kafka/server.properties" --cluster-id "$id" --ignore-formatted \
      >"$STATE/logs/kafka-format.log" 2>&1 </dev/null ||
      die "Kafka could not format $STATE/data/kafka; see $STATE/logs/kafka-format.log"
  fi
  setsid nohup "$JAVA_HOME/bin/java" -Xms128m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true \
    -Dlog4j2.configurationFile="$STATE/conf/kafka/log4j2.properties" \
    -cp "$(cat "$STATE/run/kafka.classpath")" \
    kafka.Kafka "$STATE/conf/kafka/server.properties" >"$STATE/logs/kafka.log" 2>&1 </dev/null &
  launched kafka $!
  wait_for "kafka (a Metadata request listing the broker)" 90 up_or_dead kafka kafka_up
}

# MLflow: runs and the model registry in SQLite, artifacts under $STATE/mlflow/artifacts,
# served through the server's own REST API (--serve-artifacts: clients never write there
# themselves). Kept small: one uvicorn worker, no access log, and no job execution (its
# seven huey consumers took ~1.2 GB for GenAI jobs the stack never runs); ~0.5 GB in all.
start_mlflow() {
  already_running mlflow 60 mlflow_up && return 0
  claim_port "$MLFLOW_PORT" mlflow
  local venv
  venv=$(cat "$STATE/run/mlflow-venv")
  mkdir -p "$STATE/mlflow/artifacts"
  (
    cd "$STATE/mlflow"
    # no telemetry, no "git not found" warning, no Python warnings (a starlette deprecation)
    export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true GIT_PYTHON_REFRESH=quiet
    export MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false PYTHONWARNINGS=ignore
    # model versions name their source on HDFS (the Spark model Sparkgate's jobs wrote)
    export MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES=hdfs
    exec setsid nohup "$venv/bin/mlflow" server --host 127.0.0.1 --port "$MLFLOW_PORT" \
      --backend-store-uri "sqlite:///$STATE/mlflow/mlflow.db" \
      --serve-artifacts --artifacts-destination "$STATE/mlflow/artifacts" \
      --workers 1 --uvicorn-opts --no-access-log >"$STATE/logs/mlflow.log" 2>&1 </dev/null
  ) &
  launched mlflow $!
  wait_for "mlflow (GET /health)" 90 up_or_dead mlflow mlflow_up
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
# install: what up installs and writes, without starting anything (a checkout whose tests
# run against services that another checkout of this repository started still needs its
# own Spark venv, jars and config files).
cmd_install() {
  mkdir -p "$STATE/run" "$STATE/logs" "$STATE/data"
  step "prerequisites (Java 17, Python, apt packages)" prereqs
  step "Spark: pyspark venv from PyPI (cached in $CACHE)" install_spark
  step "MLflow: $MLFLOW_PACKAGES venv from PyPI (cached in $CACHE)" install_mlflow
  step "Hadoop $HADOOP_VERSION, Livy $LIVY_VERSION and Kafka $KAFKA_VERSION jars from Maven Central (cached in ~/.m2)" install_jars
  step "config files" write_configs
  step "local-spark.json (the stack's Spark, for the gateway's local backend)" write_local_spark
}
cmd_up() {
  STARTED_FILE=""
  local services=()
  while [ $# -gt 0 ]; do
    case $1 in
      --started-file)
        STARTED_FILE=${2:?--started-file needs a file}
        shift 2
        ;;
      -*) die "unknown option for up: $1 (--started-file FILE)" ;;
      redis | kafka | hdfs | livy | mlflow)
        services+=("$1")
        shift
        ;;
      *) die "unknown service $1 (redis, kafka, hdfs, livy, mlflow)" ;;
    esac
  done
  [ ${#services[@]} -gt 0 ] || services=(redis kafka hdfs livy mlflow)
  local t0 s
  t0=$(now)
  cmd_install
  VENV=$(cat "$STATE/run/venv")
  # in this order whatever was named: Livy needs HDFS's config, nothing needs MLflow
  for s in redis kafka hdfs livy mlflow; do
    [[ " ${services[*]} " == *" $s "* ]] || continue
    case $s in
      redis) step "redis on 127.0.0.1:$REDIS_PORT" start_redis ;;
      kafka) step "kafka on 127.0.0.1:$KAFKA_PORT (KRaft controller on :$KAFKA_CONTROLLER_PORT)" start_kafka ;;
      hdfs) step "hdfs on 127.0.0.1:$HDFS_NAMENODE_RPC_PORT, WebHDFS on :$HDFS_NAMENODE_HTTP_PORT" start_hdfs ;;
      livy) step "livy on 127.0.0.1:$LIVY_PORT" start_livy ;;
      mlflow) step "mlflow on 127.0.0.1:$MLFLOW_PORT" start_mlflow ;;
    esac
  done
  say "stack: up in $(secs "$t0") s"
  cmd_status
}
# down [service...]: every service by default; the gateway too if the demo started it.
# By pid file only; configs, data and local-spark.json stay.
cmd_down() {
  local services=("$@")
  [ ${#services[@]} -gt 0 ] || services=(gateway mlflow livy hdfs kafka redis)
  local s
  for s in "${services[@]}"; do
    case $s in
      gateway | mlflow | livy | hdfs | kafka) stop_pid "$s" ;;
      redis) stop_redis ;;
      *) die "unknown service $s (gateway, mlflow, livy, hdfs, kafka, redis)" ;;
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
  local r k h l m
  r=$(b redis_up)
  k=$(b kafka_up)
  h=$(b hdfs_up)
  l=$(b livy_up)
  m=$(b mlflow_up)
  if [ "${1:-}" = "--json" ]; then
    printf '{"redis":{"url":"%s","up":%s},"kafka":{"bootstrap":"%s","up":%s},"hdfs":{"webhdfsUrl":"%s","defaultFS":"%s","up":%s},"livy":{"url":"%s","up":%s},"mlflow":{"url":"%s","up":%s},"spark":{"home":"%s"},"stateDir":"%s"}\n' \
      "$REDIS_URL" "$r" "$KAFKA_BOOTSTRAP" "$k" "$WEBHDFS_URL" "$DEFAULT_FS" "$h" "$LIVY_URL" "$l" "$MLFLOW_URL" "$m" "$spark_home" "$STATE"
  else
    printf '%-7s %-5s %s\n' service up where
    printf '%-7s %-5s %s\n' redis "$r" "$REDIS_URL"
    printf '%-7s %-5s %s  (KRaft controller 127.0.0.1:%s)\n' kafka "$k" "$KAFKA_BOOTSTRAP" "$KAFKA_CONTROLLER_PORT"
    printf '%-7s %-5s %s  (fs.defaultFS %s)\n' hdfs "$h" "$WEBHDFS_URL" "$DEFAULT_FS"
    printf '%-7s %-5s %s\n' livy "$l" "$LIVY_URL"
    printf '%-7s %-5s %s  (artifacts served, under %s/mlflow)\n' mlflow "$m" "$MLFLOW_URL" "$STATE"
    printf '%-7s %-5s %s\n' spark - "${spark_home:-(not installed)}"
    printf 'state and logs: %s\n' "$STATE"
  fi
}
# check [service...]: exit 0 when each named service (default: all) answers.
cmd_check() {
  local services=("$@") s
  [ ${#services[@]} -gt 0 ] || services=(redis kafka hdfs livy mlflow)
  for s in "${services[@]}"; do
    case $s in
      redis | kafka | hdfs | livy | mlflow) "${s}_up" || return 1 ;;
      *) die "unknown service $s (redis, kafka, hdfs, livy, mlflow)" ;;
    esac
  done
}
cmd_env() {
  local_spark_vars
  printf 'export JAVA_HOME=%q SPARK_HOME=%q HADOOP_CONF_DIR=%q SPARK_CONF_DIR=%q PYSPARK_PYTHON=%q SPARK_LOCAL_IP=127.0.0.1\n' \
    "$LS_JAVA_HOME" "$LS_SPARK_HOME" "$LS_HADOOP_CONF_DIR" "$LS_SPARK_CONF_DIR" "$LS_PYSPARK_PYTHON"
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
  up) cmd_up "${@:2}" ;;
  install) cmd_install ;;
  down) cmd_down "${@:2}" ;;
  status) cmd_status "${2:-}" ;;
  check) cmd_check "${@:2}" ;;
  env) cmd_env ;;
  run-livy) cmd_run_livy "${2:?port}" "${3:?dir}" ;;
  *) die "usage: stack.sh up [--started-file F] [svc...]|install|down [svc...]|status [--json]|check [svc...]|env|run-livy PORT DIR" ;;
esac
