# shellcheck shell=bash
# Apache Kafka: one KRaft node (broker and controller in one JVM), the gateway's event
# stream. Two ports from stack.env: the PLAINTEXT listener and the controller's.

KAFKA_BOOTSTRAP="127.0.0.1:$KAFKA_PORT"

# the main class (kafka.tools.StorageTool, which formats, is not the broker)
kafka_marker() { echo ' kafka.Kafka '; }
kafka_about() {
  case $1 in
    install) echo "kafka: Kafka $KAFKA_VERSION jars from Maven Central (cached in ~/.m2), config files" ;;
    start) echo "kafka on 127.0.0.1:$KAFKA_PORT (KRaft controller on :$KAFKA_CONTROLLER_PORT)" ;;
  esac
}
kafka_install() {
  classpath kafka "$HERE/poms/kafka/pom.xml" "-Dkafka.version=$KAFKA_VERSION"
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
  # log4j2 (Kafka 4 has no log4j 1.x): everything to stdout, which kafka_start sends to
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

# An open port is not a ready broker: a Metadata request (v7, no topics) must list a broker
# at 127.0.0.1:$KAFKA_PORT, and KRaft lists only a broker that has registered with the
# controller, caught up with the metadata log and been unfenced.
kafka_check() {
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

kafka_start() {
  already_running kafka 90 kafka_check && return 0
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
  wait_for "kafka (a Metadata request listing the broker)" 90 up_or_dead kafka kafka_check
}
kafka_stop() { stop_pid kafka; }
# kafka_status UP [--json]
kafka_status() {
  if [ "${2:-}" = --json ]; then
    printf '"kafka":{"bootstrap":"%s","up":%s}' "$KAFKA_BOOTSTRAP" "$1"
  else
    printf '%-7s %-5s %s  (KRaft controller 127.0.0.1:%s)\n' kafka "$1" "$KAFKA_BOOTSTRAP" "$KAFKA_CONTROLLER_PORT"
  fi
}
