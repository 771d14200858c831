# shellcheck shell=bash
# HDFS: a NameNode and a DataNode in one JVM (Hadoop's MiniDFSClusterManager), WebHDFS on.
# Its client config ($STATE/conf/hadoop) is also Spark's and Livy's HADOOP_CONF_DIR.

HDFS_USER=${HDFS_USER:-$(id -un)}
WEBHDFS_URL="http://127.0.0.1:$HDFS_NAMENODE_HTTP_PORT/webhdfs/v1"
DEFAULT_FS="hdfs://127.0.0.1:$HDFS_NAMENODE_RPC_PORT"

hdfs_marker() { echo MiniDFSClusterManager; }
hdfs_about() {
  case $1 in
    install) echo "hdfs: Hadoop $HADOOP_VERSION jars from Maven Central (cached in ~/.m2), config files" ;;
    start) echo "hdfs on 127.0.0.1:$HDFS_NAMENODE_RPC_PORT, WebHDFS on :$HDFS_NAMENODE_HTTP_PORT" ;;
  esac
}
hdfs_install() {
  classpath hdfs "$HERE/poms/hdfs/pom.xml" "-Dhadoop.version=$HADOOP_VERSION"
  mkdir -p "$STATE/conf/hadoop"
  put "$STATE/conf/hadoop/core-site.xml" <<XML
<?xml version="1.0"?>
<configuration>
  <property><name>fs.defaultFS</name><value>$DEFAULT_FS</value></property>
  <!-- the stack's user (Livy's launcher, the gateway) may act for any tenant's cluster user:
       YARN's RM and HDFS check it on each proxyUser/doAs call -->
  <property><name>hadoop.proxyuser.$HDFS_USER.hosts</name><value>*</value></property>
  <property><name>hadoop.proxyuser.$HDFS_USER.groups</name><value>*</value></property>
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
}

hdfs_webhdfs_up() {
  local out
  out=$(curl -sf -m 3 "$WEBHDFS_URL/?op=GETFILESTATUS&user.name=$HDFS_USER") &&
    [[ $out == *'"type":"DIRECTORY"'* ]]
}
# WebHDFS answering is not enough for writes: a DataNode must have registered.
hdfs_datanode_live() {
  local out re='"NumLiveDataNodes" *: *[1-9]'
  out=$(curl -sf -m 3 "http://127.0.0.1:$HDFS_NAMENODE_HTTP_PORT/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState") &&
    [[ $out =~ $re ]]
}
hdfs_check() { hdfs_webhdfs_up && hdfs_datanode_live; }

hdfs_start() {
  already_running hdfs 120 hdfs_check && return 0
  claim_port "$HDFS_NAMENODE_RPC_PORT" "the HDFS NameNode"
  claim_port "$HDFS_NAMENODE_HTTP_PORT" "WebHDFS"
  local format=()
  # Format only a new cluster; a restart keeps what was stored.
  [ -d "$STATE/data/hdfs/data" ] || format=(-format)
  mkdir -p "$STATE/data/hdfs"
  # MiniDFSClusterManager: a NameNode and a DataNode in one JVM, both bound to 127.0.0.1,
  # the DataNode registered as 127.0.0.1 so WebHDFS redirects stay on loopback (its own
  # ports are ephemeral: MiniDFSCluster binds them to 127.0.0.1:0); listings page 10
  # entries at a time (dfs.ls.limit) so LISTSTATUS_BATCH paging is exercised.
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
  wait_for "HDFS (WebHDFS + a live DataNode)" 120 up_or_dead hdfs hdfs_check
}
hdfs_stop() { stop_pid hdfs; }
# hdfs_status UP [--json]
hdfs_status() {
  if [ "${2:-}" = --json ]; then
    printf '"hdfs":{"webhdfsUrl":"%s","defaultFS":"%s","up":%s}' "$WEBHDFS_URL" "$DEFAULT_FS" "$1"
  else
    printf '%-7s %-5s %s  (fs.defaultFS %s)\n' hdfs "$1" "$WEBHDFS_URL" "$DEFAULT_FS"
  fi
}
