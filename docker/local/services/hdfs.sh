# shellcheck shell=bash
# HDFS: a NameNode and a DataNode in one JVM (Hadoop's MiniDFSClusterManager), WebHDFS on.
# Its client config ($STATE/conf/hadoop) is also Spark's and Livy's HADOOP_CONF_DIR.
#
# The secure profile (stack.sh up --secure): the same JVM with Kerberos (services/kdc.sh),
# permissions and service-level authorization on, block access tokens, and a DataNode
# without root as Hadoop's own secure tests run one (SaslDataTransferTestCase): SASL on the
# data transfer protocol (dfs.data.transfer.protection=authentication) and HTTPS only
# (WebHDFS with SPNEGO on HDFS_NAMENODE_HTTPS_PORT, certificates from lib/tls.sh). Its data
# is kept apart ($STATE/data/hdfs-secure). The superuser is hdfs (the NameNode's principal).

HDFS_USER=${HDFS_USER:-$(id -un)}
DEFAULT_FS="hdfs://127.0.0.1:$HDFS_NAMENODE_RPC_PORT"
if secure_profile; then
  HDFS_AUTH=kerberos
  HDFS_SUPERUSER=hdfs
  HDFS_HTTP="https://127.0.0.1:$HDFS_NAMENODE_HTTPS_PORT"
  HDFS_DATA="$STATE/data/hdfs-secure"
else
  HDFS_AUTH=none
  HDFS_SUPERUSER=$HDFS_USER
  HDFS_HTTP="http://127.0.0.1:$HDFS_NAMENODE_HTTP_PORT"
  HDFS_DATA="$STATE/data/hdfs"
fi
WEBHDFS_URL="$HDFS_HTTP/webhdfs/v1"
# the NameNode's principal (also the DataNode's, as in Hadoop's secure tests)
HDFS_PRINCIPAL="hdfs/localhost@$KRB5_REALM"

# hdfs_curl PATH?QUERY [CURL ARGS...]: a WebHDFS call as the HDFS superuser: user.name in
# the default profile; in the secure one SPNEGO with hdfs's ticket (its own credentials
# cache) over HTTPS, trusting the stack's CA.
hdfs_curl() {
  local url="$WEBHDFS_URL$1"
  shift
  if secure_profile; then
    local cc
    cc=$(kdc_ticket hdfs "$HDFS_PRINCIPAL") || return 1
    KRB5_CONFIG="$KRB5_CONF" KRB5CCNAME="$cc" curl -s --negotiate -u : --cacert "$TLS_DIR/ca.pem" "$@" "$url"
  else
    curl -s "$@" "$url&user.name=$HDFS_USER"
  fi
}

hdfs_marker() { echo MiniDFSClusterManager; }
hdfs_about() {
  case $1 in
    install) echo "hdfs: Hadoop $HADOOP_VERSION jars from Maven Central (cached in ~/.m2), config files" ;;
    start)
      if secure_profile; then
        echo "hdfs on 127.0.0.1:$HDFS_NAMENODE_RPC_PORT (Kerberos), WebHDFS on https://127.0.0.1:$HDFS_NAMENODE_HTTPS_PORT (SPNEGO)"
      else
        echo "hdfs on 127.0.0.1:$HDFS_NAMENODE_RPC_PORT, WebHDFS on :$HDFS_NAMENODE_HTTP_PORT"
      fi
      ;;
  esac
}
hdfs_install() {
  classpath hdfs "$HERE/poms/hdfs/pom.xml" "-Dhadoop.version=$HADOOP_VERSION"
  mkdir -p "$STATE/conf/hadoop"
  if secure_profile; then
    hdfs_secure_install
  else
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
  <!-- a client closing a file retries until the NameNode has the DataNode's block report,
       first after 400 ms by default: a model's dozen small files cost seconds so -->
  <property><name>dfs.client.block.write.locateFollowingBlock.initial.delay.ms</name><value>20</value></property>
</configuration>
XML
  fi
  put "$STATE/conf/hadoop/log4j.properties" <"$HERE/log4j.properties"
}
# The secure profile's client config (every Hadoop client and daemon of the stack reads it),
# and the HDFS JVM's own TLS config ($STATE/conf/hdfs-server, 0700: it holds the keystore
# password): ssl-server.xml (the NameNode's and DataNode's HTTPS) and ssl-client.xml.
hdfs_secure_install() {
  put "$STATE/conf/hadoop/core-site.xml" <<XML
<?xml version="1.0"?>
<configuration>
  <property><name>fs.defaultFS</name><value>$DEFAULT_FS</value></property>
  <property><name>hadoop.security.authentication</name><value>kerberos</value></property>
  <property><name>hadoop.security.authorization</name><value>true</value></property>
  <property><name>hadoop.security.auth_to_local</name><value>$KRB5_AUTH_TO_LOCAL</value></property>
  <!-- the gateway (sparkgate) and Livy's launcher (livy) may act for any tenant's cluster
       user: HDFS and YARN's RM check it on each doAs / proxy-user call -->
  <property><name>hadoop.proxyuser.sparkgate.hosts</name><value>*</value></property>
  <property><name>hadoop.proxyuser.sparkgate.groups</name><value>*</value></property>
  <property><name>hadoop.proxyuser.livy.hosts</name><value>*</value></property>
  <property><name>hadoop.proxyuser.livy.groups</name><value>*</value></property>
  <!-- the service users are no OS users here: yarn is in hadoop, the group of YARN's
       aggregated logs (the timeline server reads each application's 0770 folder) -->
  <property><name>hadoop.user.group.static.mapping.overrides</name><value>dr.who=;yarn=hadoop;hdfs=supergroup,hadoop</value></property>
</configuration>
XML
  put "$STATE/conf/hadoop/hdfs-site.xml" <<XML
<?xml version="1.0"?>
<configuration>
  <!-- one DataNode: clients (Spark, hdfs dfs) must not ask for more replicas -->
  <property><name>dfs.replication</name><value>1</value></property>
  <!-- a client closing a file retries until the NameNode has the DataNode's block report,
       first after 400 ms by default: a model's dozen small files cost seconds so -->
  <property><name>dfs.client.block.write.locateFollowingBlock.initial.delay.ms</name><value>20</value></property>
  <property><name>dfs.namenode.kerberos.principal</name><value>$HDFS_PRINCIPAL</value></property>
  <property><name>dfs.datanode.kerberos.principal</name><value>$HDFS_PRINCIPAL</value></property>
  <property><name>dfs.block.access.token.enable</name><value>true</value></property>
  <!-- a DataNode without root: SASL on data transfer, HTTPS only -->
  <property><name>dfs.data.transfer.protection</name><value>authentication</value></property>
  <property><name>dfs.http.policy</name><value>HTTPS_ONLY</value></property>
  <property><name>dfs.namenode.https-address</name><value>127.0.0.1:$HDFS_NAMENODE_HTTPS_PORT</value></property>
</configuration>
XML
  tls_keystore hdfs
  tls_truststore
  local pass dir="$STATE/conf/hdfs-server"
  pass=$(tls_store_password)
  mkdir -p "$dir"
  chmod 700 "$dir"
  hdfs_ssl_xml server keystore "$TLS_DIR/hdfs.p12" "$pass" | hdfs_put_secret "$dir/ssl-server.xml"
  hdfs_ssl_xml client truststore "$TLS_DIR/truststore.p12" "$pass" | hdfs_put_secret "$dir/ssl-client.xml"
}
# hdfs_ssl_xml server|client keystore|truststore FILE PASSWORD: Hadoop's ssl-*.xml
hdfs_ssl_xml() {
  local p="ssl.$1.$2"
  printf '<?xml version="1.0"?>\n<configuration>\n'
  printf '  <property><name>%s</name><value>%s</value></property>\n' \
    "$p.location" "$3" "$p.type" pkcs12 "$p.password" "$4"
  [ "$2" != keystore ] || printf '  <property><name>%s</name><value>%s</value></property>\n' "$p.keypassword" "$4"
  printf '</configuration>\n'
}
# hdfs_put_secret FILE: stdin to FILE, mode 0600
hdfs_put_secret() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  chmod 600 "$tmp"
  mv -f "$tmp" "$1"
}

hdfs_webhdfs_up() {
  local out
  out=$(hdfs_curl "/?op=GETFILESTATUS" -f -m 3) &&
    [[ $out == *'"type":"DIRECTORY"'* ]]
}
# WebHDFS answering is not enough for writes: a DataNode must have registered.
hdfs_datanode_live() {
  local out re='"NumLiveDataNodes" *: *[1-9]' jmx="$HDFS_HTTP/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState"
  if secure_profile; then
    local cc
    cc=$(kdc_ticket hdfs "$HDFS_PRINCIPAL") &&
      out=$(KRB5_CONFIG="$KRB5_CONF" KRB5CCNAME="$cc" curl -sf -m 3 --negotiate -u : --cacert "$TLS_DIR/ca.pem" "$jmx")
  else
    out=$(curl -sf -m 3 "$jmx")
  fi && [[ $out =~ $re ]]
}
hdfs_check() { hdfs_webhdfs_up && hdfs_datanode_live; }

hdfs_start() {
  # the default profile's HDFS: the gateway must not look for a secured stack
  secure_profile || rm -f "$STATE/run/secure.json"
  already_running hdfs 120 hdfs_check && return 0
  claim_port "$HDFS_NAMENODE_RPC_PORT" "the HDFS NameNode"
  if secure_profile; then
    claim_port "$HDFS_NAMENODE_HTTPS_PORT" "WebHDFS (HTTPS)"
    hdfs_secure_start
    return
  fi
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
# The secure profile's HDFS: the same JVM, its TLS config first on the classpath, then the
# cluster's (core-site.xml and hdfs-site.xml: Kerberos, SASL, HTTPS only); the daemons'
# keytabs and what only they need as -D: every web endpoint of this JVM demands SPNEGO
# (hadoop.http.authentication.*: the NameNode's filter reads them, not the dfs.web ones),
# accepting HTTP/localhost and HTTP/127.0.0.1 (principal *). Then the layout the stack's
# users need.
hdfs_secure_start() {
  local format=()
  [ -d "$HDFS_DATA/data" ] || format=(-format)
  mkdir -p "$HDFS_DATA"
  setsid nohup "$JAVA_HOME/bin/java" -Xmx768m "${JDK17_OPENS[@]}" "${KRB5_JAVA_OPTS[@]}" -Djava.net.preferIPv4Stack=true \
    -cp "$STATE/conf/hdfs-server:$STATE/conf/hadoop:$(cat "$STATE/run/hdfs.classpath")" \
    -Dlog4j.configuration="file:$STATE/conf/hadoop/log4j.properties" \
    org.apache.hadoop.test.MiniDFSClusterManager "${format[@]}" -datanodes 1 \
    -nnport "$HDFS_NAMENODE_RPC_PORT" -httpport "$HDFS_NAMENODE_HTTP_PORT" \
    -Dhdfs.minidfs.basedir="$HDFS_DATA" -Ddfs.permissions.enabled=true -Ddfs.replication=1 \
    -Ddfs.namenode.keytab.file="$(keytab hdfs)" -Ddfs.datanode.keytab.file="$(keytab hdfs)" \
    -Ddfs.web.authentication.kerberos.principal='*' -Ddfs.web.authentication.kerberos.keytab="$(keytab http)" \
    -Dhadoop.http.authentication.type=kerberos -Dhadoop.http.authentication.simple.anonymous.allowed=false \
    -Dhadoop.http.authentication.kerberos.principal='*' -Dhadoop.http.authentication.kerberos.keytab="$(keytab http)" \
    -Ddfs.datanode.https.address=127.0.0.1:0 \
    -Ddfs.datanode.hostname=127.0.0.1 -Ddfs.webhdfs.enabled=true -Ddfs.ls.limit=10 \
    >"$STATE/logs/hdfs.log" 2>&1 </dev/null &
  launched hdfs $!
  wait_for "HDFS (WebHDFS + a live DataNode)" 180 up_or_dead hdfs hdfs_check
  step "hdfs: the layout (/user, /tmp, /tmp/logs, /sparkgate/tenants)" hdfs_secure_layout
}
# hdfs_mkdir PATH MODE [OWNER:GROUP]: a folder, as the superuser (WebHDFS)
hdfs_mkdir() {
  hdfs_curl "$1?op=MKDIRS&permission=$2" -f -m 10 -X PUT >/dev/null &&
    hdfs_curl "$1?op=SETPERMISSION&permission=$2" -f -m 10 -X PUT >/dev/null || return 1
  [ -z "${3:-}" ] || hdfs_curl "$1?op=SETOWNER&owner=${3%:*}&group=${3#*:}" -f -m 10 -X PUT >/dev/null
}
# Everyone's home under /user and /tmp (sticky: each their own), YARN's aggregated logs,
# the gateway's root and its tenants' folders (each tenant's own 0700 folder is made by the
# gateway as that tenant's user), Spark's archive folder (services/yarn.sh) readable by all.
hdfs_secure_layout() {
  local dir
  for dir in "/user 1777" "/tmp 1777" "$YARN_REMOTE_LOG_DIR 1777 yarn:hadoop" "/sparkgate 755 sparkgate:supergroup" \
    "/sparkgate/tenants 1777 sparkgate:supergroup" "$(dirname "$SPARK_YARN_ARCHIVE") 755"; do
    # shellcheck disable=SC2086 # PATH MODE [OWNER]
    hdfs_mkdir $dir || die "could not lay out HDFS as its superuser ($HDFS_SUPERUSER): $dir; see $STATE/logs/hdfs.log"
  done
}
# Stopped, the secured HDFS takes secure.json with it (no gateway looks for it any more).
hdfs_stop() {
  stop_pid hdfs
  secure_profile && rm -f "$STATE/run/secure.json"
  return 0
}
# hdfs_status UP [--json]
hdfs_status() {
  if [ "${2:-}" = --json ]; then
    printf '"hdfs":{"webhdfsUrl":"%s","defaultFS":"%s","auth":"%s","up":%s}' "$WEBHDFS_URL" "$DEFAULT_FS" "$HDFS_AUTH" "$1"
  else
    printf '%-7s %-5s %s  (fs.defaultFS %s%s)\n' hdfs "$1" "$WEBHDFS_URL" "$DEFAULT_FS" \
      "$(secure_profile && echo ", Kerberos")"
  fi
}
