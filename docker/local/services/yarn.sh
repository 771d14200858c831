# shellcheck shell=bash
# YARN's ResourceManager (services/nodemanager.sh: its one NodeManager), each the daemon a
# real cluster runs, started from its own main class in its own JVM, from Maven Central's
# hadoop-minicluster artifacts (poms/yarn/pom.xml). One yarn-site.xml ($STATE/conf/hadoop,
# also Spark's and Livy's client config) describes both: fixed ports on 127.0.0.1, a
# capacity scheduler with the queues default and prod, log aggregation to HDFS. Livy runs
# its batches here in cluster mode (services/livy.sh).

YARN_URL="http://127.0.0.1:$YARN_RM_WEB_PORT"
# where the NodeManager aggregates finished applications' container logs (on HDFS)
YARN_REMOTE_LOG_DIR=/tmp/logs
# Spark's jars, zipped once onto HDFS: every YARN application then localizes one cached
# archive instead of uploading 300 MB of jars (spark.yarn.archive)
SPARK_YARN_ARCHIVE=/spark/spark-libs-3.5.6.zip
# the capacity scheduler's queues, sharing the cluster equally (each may grow to all of it)
YARN_QUEUES=(default prod)

yarn_marker() { echo resourcemanager.ResourceManager; }
yarn_about() {
  case $1 in
    install) echo "yarn: Hadoop $HADOOP_VERSION YARN jars from Maven Central (cached in ~/.m2), config files" ;;
    start) echo "yarn ResourceManager on 127.0.0.1:$YARN_RM_PORT, REST on :$YARN_RM_WEB_PORT" ;;
  esac
}
yarn_install() {
  classpath yarn "$HERE/poms/yarn/pom.xml" "-Dhadoop.version=$HADOOP_VERSION"
  local h=127.0.0.1
  mkdir -p "$STATE/conf/yarn" "$STATE/data/yarn"
  put "$STATE/conf/hadoop/yarn-site.xml" <<XML
<?xml version="1.0"?>
<configuration>
  <property><name>yarn.resourcemanager.hostname</name><value>$h</value></property>
  <property><name>yarn.resourcemanager.address</name><value>$h:$YARN_RM_PORT</value></property>
  <property><name>yarn.resourcemanager.scheduler.address</name><value>$h:$YARN_RM_SCHEDULER_PORT</value></property>
  <property><name>yarn.resourcemanager.resource-tracker.address</name><value>$h:$YARN_RM_TRACKER_PORT</value></property>
  <property><name>yarn.resourcemanager.admin.address</name><value>$h:$YARN_RM_ADMIN_PORT</value></property>
  <property><name>yarn.resourcemanager.webapp.address</name><value>$h:$YARN_RM_WEB_PORT</value></property>
  <property><name>yarn.resourcemanager.scheduler.class</name><value>org.apache.hadoop.yarn.server.resourcemanager.scheduler.capacity.CapacityScheduler</value></property>
  <property><name>yarn.nodemanager.hostname</name><value>$h</value></property>
  <property><name>yarn.nodemanager.address</name><value>$h:$YARN_NM_PORT</value></property>
  <property><name>yarn.nodemanager.localizer.address</name><value>$h:$YARN_NM_LOCALIZER_PORT</value></property>
  <property><name>yarn.nodemanager.webapp.address</name><value>$h:$YARN_NM_WEB_PORT</value></property>
  <property><name>yarn.nodemanager.local-dirs</name><value>$STATE/data/yarn/nm-local</value></property>
  <property><name>yarn.nodemanager.log-dirs</name><value>$STATE/data/yarn/nm-logs</value></property>
  <!-- one box: offer more than it has (the test apps are small and mostly idle), never
       kill a container for virtual memory, and keep working on a nearly full disk -->
  <property><name>yarn.nodemanager.resource.memory-mb</name><value>16384</value></property>
  <property><name>yarn.nodemanager.resource.cpu-vcores</name><value>16</value></property>
  <property><name>yarn.scheduler.minimum-allocation-mb</name><value>256</value></property>
  <property><name>yarn.scheduler.maximum-allocation-mb</name><value>8192</value></property>
  <property><name>yarn.nodemanager.vmem-check-enabled</name><value>false</value></property>
  <property><name>yarn.nodemanager.pmem-check-enabled</name><value>false</value></property>
  <property><name>yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage</name><value>99.5</value></property>
  <property><name>yarn.nodemanager.aux-services</name><value></value></property>
  <!-- finished applications' container logs: aggregated to HDFS (yarn logs, the gateway) -->
  <property><name>yarn.log-aggregation-enable</name><value>true</value></property>
  <property><name>yarn.nodemanager.remote-app-log-dir</name><value>$YARN_REMOTE_LOG_DIR</value></property>
  <property><name>yarn.log-aggregation.retain-seconds</name><value>604800</value></property>
  <property><name>yarn.nodemanager.delete.debug-delay-sec</name><value>0</value></property>
  <property><name>yarn.resourcemanager.max-completed-applications</name><value>2000</value></property>
  <!-- the log server (services/timeline.sh): a NodeManager asked for a finished container's
       logs redirects there, where the aggregated logs are read from HDFS -->
  <property><name>yarn.log.server.url</name><value>http://$h:$YARN_TIMELINE_WEB_PORT/applicationhistory/logs</value></property>
  <property><name>yarn.log.server.web-service.url</name><value>http://$h:$YARN_TIMELINE_WEB_PORT/ws/v1/applicationhistory</value></property>
  <property><name>yarn.timeline-service.hostname</name><value>$h</value></property>
  <property><name>yarn.timeline-service.address</name><value>$h:$YARN_TIMELINE_PORT</value></property>
  <property><name>yarn.timeline-service.webapp.address</name><value>$h:$YARN_TIMELINE_WEB_PORT</value></property>
  <property><name>yarn.timeline-service.store-class</name><value>org.apache.hadoop.yarn.server.timeline.MemoryTimelineStore</value></property>
  <property><name>yarn.timeline-service.generic-application-history.enabled</name><value>false</value></property>
$(yarn_secure_properties)
</configuration>
XML
  put "$STATE/conf/yarn/capacity-scheduler.xml" <<XML
<?xml version="1.0"?>
<configuration>
  <property><name>yarn.scheduler.capacity.root.queues</name><value>$(IFS=,; echo "${YARN_QUEUES[*]}")</value></property>
$(yarn_queue_properties)
  <!-- ApplicationMasters (a cluster-mode driver is one) may take most of a queue: many
       small apps at once, each an AM and one executor -->
  <property><name>yarn.scheduler.capacity.maximum-am-resource-percent</name><value>0.8</value></property>
  <property><name>yarn.scheduler.capacity.root.acl_submit_applications</name><value>*</value></property>
  <property><name>yarn.scheduler.capacity.root.acl_administer_queue</name><value>*</value></property>
</configuration>
XML
  put "$STATE/conf/yarn/log4j.properties" <"$HERE/log4j.properties"
}
# The secure profile: each daemon logs in with yarn's keytab (services/kdc.sh); containers
# still run as the NodeManager's OS user (the default container executor: no root), while
# YARN records and authorizes each application's user (the submitter, or Livy's proxy
# user). The web UIs and REST APIs stay on simple auth, anonymous allowed (core-default's
# hadoop.http.authentication.type): the gateway reads driver logs from them. Only Livy and
# WebHDFS demand Kerberos.
yarn_secure_properties() {
  secure_profile || return 0
  local p="yarn/localhost@$KRB5_REALM" k
  k=$(keytab yarn)
  printf '  <property><name>%s</name><value>%s</value></property>\n' \
    yarn.resourcemanager.principal "$p" yarn.resourcemanager.keytab "$k" \
    yarn.nodemanager.principal "$p" yarn.nodemanager.keytab "$k" \
    yarn.timeline-service.principal "$p" yarn.timeline-service.keytab "$k" \
    yarn.nodemanager.container-executor.class org.apache.hadoop.yarn.server.nodemanager.DefaultContainerExecutor \
    yarn.timeline-service.http-authentication.type simple \
    yarn.timeline-service.http-authentication.simple.anonymous.allowed true
}
# each queue's share: equal capacity, up to the whole cluster, a user may take twice its share
yarn_queue_properties() {
  local q share=$((100 / ${#YARN_QUEUES[@]}))
  for q in "${YARN_QUEUES[@]}"; do
    printf '  <property><name>yarn.scheduler.capacity.root.%s.%s</name><value>%s</value></property>\n' \
      "$q" capacity "$share" "$q" maximum-capacity 100 "$q" user-limit-factor 2
  done
}
# yarn_rest PATH: the RM's REST answer
yarn_rest() { curl -sf -m 3 "$YARN_URL/ws/v1/cluster/$1"; }
yarn_check() {
  local out
  out=$(yarn_rest info) && [[ $out == *'"state":"STARTED"'* ]]
}
# The daemons' environment and classpath: their own config first (capacity-scheduler.xml,
# log4j), then the cluster's client config (core-, hdfs-, yarn-site.xml).
# In the secure profile, the NodeManager's classpath starts with the stack's own
# SecureIOUtils (java/org/apache/hadoop/io/SecureIOUtils.java says why), compiled once.
yarn_java() {
  local cls=$1 log=$2 heap=$3 krb=() cp
  cp="$STATE/conf/yarn:$STATE/conf/hadoop:$(cat "$STATE/run/yarn.classpath")"
  if secure_profile; then
    krb=("${KRB5_JAVA_OPTS[@]}")
    if [[ $cls == *.NodeManager ]]; then
      yarn_compile_secure_io "$cp"
      cp="$STATE/run/java:$cp"
    fi
  fi
  HADOOP_CONF_DIR="$STATE/conf/hadoop" HADOOP_HOME="$STATE/data/yarn" \
    setsid nohup "$JAVA_HOME/bin/java" "-Xmx$heap" "${JDK17_OPENS[@]}" "${krb[@]}" -Djava.net.preferIPv4Stack=true \
    -Dhadoop.log.dir="$STATE/logs" -Dyarn.log.dir="$STATE/logs" \
    -Dlog4j.configuration="file:$STATE/conf/yarn/log4j.properties" \
    -cp "$cp" "$cls" >"$STATE/logs/$log.log" 2>&1 </dev/null &
}
yarn_compile_secure_io() {
  local src="$HERE/java/org/apache/hadoop/io/SecureIOUtils.java" out="$STATE/run/java"
  [ "$out/org/apache/hadoop/io/SecureIOUtils.class" -nt "$src" ] && return 0
  mkdir -p "$out"
  "$JAVA_HOME/bin/javac" -nowarn -cp "$1" -d "$out" "$src" >"$STATE/logs/javac.log" 2>&1 ||
    die "could not compile $src (javac: a JDK 17, not a JRE, is needed); see $STATE/logs/javac.log"
}
yarn_start() {
  already_running yarn 120 yarn_check && return 0
  local p
  for p in "$YARN_RM_PORT" "$YARN_RM_SCHEDULER_PORT" "$YARN_RM_TRACKER_PORT" "$YARN_RM_ADMIN_PORT" "$YARN_RM_WEB_PORT"; do
    claim_port "$p" "the YARN ResourceManager"
  done
  yarn_java org.apache.hadoop.yarn.server.resourcemanager.ResourceManager yarn 512m
  launched yarn $!
  wait_for "the YARN ResourceManager" 120 up_or_dead yarn yarn_check
  yarn_spark_archive
}
# Spark's jars as one zip on HDFS, once (the pyspark wheel's jars; a new Spark, a new name)
# (as HDFS's superuser: hdfs_curl; readable by all, 0644 under a 0755 folder)
yarn_spark_archive() {
  hdfs_curl "$SPARK_YARN_ARCHIVE?op=GETFILESTATUS" -f -m 5 >/dev/null && return 0
  local zip="$STATE/data/yarn/spark-libs.zip" loc tls=()
  secure_profile && tls=(--cacert "$TLS_DIR/ca.pem")
  spark_load
  rm -f "$zip"
  (cd "$SPARK_HOME/jars" && zip -q -0 -r "$zip" .) || die "could not zip Spark's jars for YARN"
  hdfs_curl "$(dirname "$SPARK_YARN_ARCHIVE")?op=MKDIRS" -f -m 10 -X PUT >/dev/null
  # WebHDFS: the NameNode names a DataNode, the DataNode takes the bytes (the redirect
  # carries a delegation token when HDFS is secured); then one rename, so a cut upload
  # never leaves a half archive under the name applications use
  if ! loc=$(hdfs_curl "$SPARK_YARN_ARCHIVE.tmp?op=CREATE&overwrite=true&permission=644" -f -m 10 -o /dev/null -w '%{redirect_url}' -X PUT) ||
    ! curl -sf -m 300 "${tls[@]}" -X PUT -T "$zip" -H 'Content-Type: application/octet-stream' "$loc" >/dev/null ||
    ! hdfs_curl "$SPARK_YARN_ARCHIVE.tmp?op=RENAME&destination=$SPARK_YARN_ARCHIVE" -f -m 10 -X PUT >/dev/null; then
    die "could not upload Spark's jars to HDFS ($SPARK_YARN_ARCHIVE)"
  fi
  rm -f "$zip"
}
yarn_stop() { stop_pid yarn; }
# yarn_status UP [--json]
yarn_status() {
  if [ "${2:-}" = --json ]; then
    printf '"yarn":{"url":"%s","rm":"127.0.0.1:%s","queues":[%s],"up":%s}' "$YARN_URL" "$YARN_RM_PORT" \
      "$(printf '"%s",' "${YARN_QUEUES[@]}" | sed 's/,$//')" "$1"
  else
    printf '%-7s %-5s %s  (ResourceManager 127.0.0.1:%s, queues %s)\n' yarn "$1" "$YARN_URL" "$YARN_RM_PORT" "${YARN_QUEUES[*]}"
  fi
}
