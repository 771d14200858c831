# shellcheck shell=bash
# The Synapse double: a stand-in for an Azure Synapse workspace (Azure cannot be reached
# from here), the one stand-in of the stack. It follows the published Synapse Spark batch
# REST API (docker/local/synapse/synapse-double.ts) over HTTPS with a certificate of the
# stack's CA, on https://127.0.0.1:$SYNAPSE_PORT, pool `sparkpool`, and demands a bearer
# token: 32 random bytes, hex, made once per stack in $STATE/secrets/synapse-token (0600).
#
# Its batches really run, on a local spark-submit that reads and writes the workspace
# storage as a pool does: abfss://sparkgate@sparkgate.dfs.core.windows.net/… is Azurite's
# container `sparkgate` (services/azurite.sh), reached by Hadoop's WASB driver (hadoop-azure,
# Maven Central; registered for abfss://) through the double's storage proxy on
# 127.0.0.1:$SYNAPSE_STORAGE_PROXY_PORT (the JVM's http.proxyHost), which forwards a storage
# account's requests to Azurite over TLS and refuses any other. Its Spark has a conf of its
# own ($STATE/conf/synapse: spark-defaults.conf with the account key, 0600 in a 0700
# folder; fs.defaultFS file:///): it knows nothing of the stack's HDFS or YARN.
#
# While it runs, $STATE/run/synapse.json tells the gateway where it is (endpoint, pool, CA,
# token file, storage account, container, Blob endpoint, key file): with nothing set,
# SPARKGATE_BACKENDS=auto adds a `synapse` backend on it. Stopped, it takes the file away.

SYNAPSE_POOL=sparkpool
SYNAPSE_CONTAINER=sparkgate
SYNAPSE_TOKEN_FILE="$STATE/secrets/synapse-token"
SYNAPSE_CONF="$STATE/conf/synapse"
SYNAPSE_JARS="$STATE/run/synapse-jars.classpath"

synapse_marker() { echo docker/local/synapse/main.ts; }
synapse_about() {
  case $1 in
    install) echo "synapse double: hadoop-azure $HADOOP_AZURE_VERSION (Maven Central), its token, certificate and Spark conf" ;;
    start) echo "synapse double on 127.0.0.1:$SYNAPSE_PORT (TLS, pool $SYNAPSE_POOL; its Spark on Azurite)" ;;
  esac
}

# The jars Spark lacks for WASB (the pyspark wheel has the Hadoop client, guava, httpclient
# and jackson already): hadoop-azure, azure-storage, azure-keyvault-core, jetty-util(-ajax)
synapse_jars() {
  classpath hadoop-azure "$HERE/poms/hadoop-azure/pom.xml" "-Dhadoop.version=$HADOOP_AZURE_VERSION"
  tr ':' '\n' <"$STATE/run/hadoop-azure.classpath" |
    grep -E '/(hadoop-azure|azure-storage|azure-keyvault-core|jetty-util|jetty-util-ajax)-[0-9][^/]*\.jar$' |
    paste -sd: - | put "$SYNAPSE_JARS"
}

synapse_install() {
  need openssl
  tls_server_cert synapse
  mkdir -p "$STATE/secrets"
  chmod 700 "$STATE/secrets"
  if [ ! -s "$SYNAPSE_TOKEN_FILE" ]; then
    (umask 077 && openssl rand -hex 32 >"$SYNAPSE_TOKEN_FILE.tmp" && mv -f "$SYNAPSE_TOKEN_FILE.tmp" "$SYNAPSE_TOKEN_FILE")
  fi
  synapse_jars
  synapse_conf
}

# Its Spark's conf: the stack's local settings, the WASB driver for abfss:// (with the jars
# on the driver's classpath, so that spark-submit itself fetches an abfss:// script), the
# proxy, and the account key (a file of mode 0600 in a 0700 folder: never a command line)
synapse_conf() {
  local python jars opts
  python="$(cat "$STATE/run/venv")/bin/python"
  jars=$(cat "$SYNAPSE_JARS")
  opts="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=$SYNAPSE_STORAGE_PROXY_PORT"
  mkdir -p "$SYNAPSE_CONF/spark" "$SYNAPSE_CONF/hadoop"
  chmod 700 "$SYNAPSE_CONF" "$SYNAPSE_CONF/spark"
  cat <<XML | put "$SYNAPSE_CONF/hadoop/core-site.xml"
<?xml version="1.0"?>
<!-- the Synapse double's Spark: no HDFS, only its workspace storage (abfss://) -->
<configuration>
  <property><name>fs.defaultFS</name><value>file:///</value></property>
</configuration>
XML
  (
    umask 077
    cat >"$SYNAPSE_CONF/spark/spark-defaults.conf.tmp" <<CONF
spark.master                   local[2]
spark.driver.host              127.0.0.1
spark.driver.bindAddress       127.0.0.1
spark.ui.enabled               false
spark.sql.shuffle.partitions   2
spark.pyspark.python           $python
spark.driver.extraJavaOptions  $opts
spark.executor.extraJavaOptions $opts
spark.driver.extraClassPath    $jars
spark.hadoop.fs.abfss.impl     org.apache.hadoop.fs.azure.NativeAzureFileSystem\$Secure
spark.hadoop.fs.azure.account.key.$AZURITE_ACCOUNT.dfs.core.windows.net $(cat "$AZURITE_KEY_FILE")
CONF
    mv -f "$SYNAPSE_CONF/spark/spark-defaults.conf.tmp" "$SYNAPSE_CONF/spark/spark-defaults.conf"
  )
}

# The API answers TLS with the stack's CA: a 401 without a token will do
synapse_check() {
  curl -s -o /dev/null -m 3 --cacert "$TLS_DIR/ca.pem" \
    "https://127.0.0.1:$SYNAPSE_PORT/livyApi/versions/2019-11-01-preview/sparkPools/$SYNAPSE_POOL/batches"
}

synapse_json() {
  printf '{"endpoint": "https://127.0.0.1:%s", "pool": "%s", "caFile": "%s", "tokenFile": "%s", "storage": {"account": "%s", "container": "%s", "blobEndpoint": "%s", "keyFile": "%s"}}\n' \
    "$SYNAPSE_PORT" "$SYNAPSE_POOL" "$TLS_DIR/ca.pem" "$SYNAPSE_TOKEN_FILE" "$AZURITE_ACCOUNT" \
    "$SYNAPSE_CONTAINER" "https://127.0.0.1:$AZURITE_BLOB_PORT/$AZURITE_ACCOUNT" "$AZURITE_KEY_FILE"
}

synapse_start() {
  if already_running synapse 20 synapse_check; then
    synapse_json | put "$STATE/run/synapse.json"
    return 0
  fi
  claim_port "$SYNAPSE_PORT" synapse
  claim_port "$SYNAPSE_STORAGE_PROXY_PORT" synapse
  [ -s "$SYNAPSE_CONF/spark/spark-defaults.conf" ] || die "the synapse double is not installed (stack.sh install installs it)"
  local tsx="$ROOT/node_modules/.bin/tsx"
  [ -x "$tsx" ] || die "the synapse double runs with tsx ($tsx): run npm install first"
  spark_local_vars
  mkdir -p "$STATE/data/synapse"
  (
    cd "$ROOT"
    export SYNAPSE_PORT SYNAPSE_POOL SYNAPSE_TOKEN_FILE SYNAPSE_STORAGE_PROXY_PORT
    export SYNAPSE_CERT="$TLS_DIR/synapse.pem" SYNAPSE_KEY="$TLS_DIR/synapse.key" SYNAPSE_CA="$TLS_DIR/ca.pem"
    export SYNAPSE_WORKDIR="$STATE/data/synapse" AZURITE_PORT="$AZURITE_BLOB_PORT"
    export SYNAPSE_ACCOUNT="$AZURITE_ACCOUNT" SYNAPSE_CONTAINER SYNAPSE_KEY_FILE="$AZURITE_KEY_FILE"
    export SPARK_HOME="$LS_SPARK_HOME" SPARK_CONF_DIR="$SYNAPSE_CONF/spark" HADOOP_CONF_DIR="$SYNAPSE_CONF/hadoop"
    export JAVA_HOME="$LS_JAVA_HOME" PYSPARK_PYTHON="$LS_PYSPARK_PYTHON"
    PATH="$(dirname "$tsx"):$PATH" exec setsid nohup "$tsx" docker/local/synapse/main.ts \
      >"$STATE/logs/synapse.log" 2>&1 </dev/null
  ) &
  launched synapse $!
  wait_for "synapse double (TLS on 127.0.0.1:$SYNAPSE_PORT)" 60 up_or_dead synapse synapse_check
  synapse_json | put "$STATE/run/synapse.json"
}
synapse_stop() {
  stop_pid synapse
  rm -f "$STATE/run/synapse.json"
}
# synapse_status UP [--json]: where it is, its pool, and how to trust and call it (the
# token's file, never the token)
synapse_status() {
  if [ "${2:-}" = --json ]; then
    printf '"synapse":{"up":%s,"endpoint":"https://127.0.0.1:%s","pool":"%s","caFile":"%s","tokenFile":"%s"}' \
      "$1" "$SYNAPSE_PORT" "$SYNAPSE_POOL" "$TLS_DIR/ca.pem" "$SYNAPSE_TOKEN_FILE"
  else
    printf '%-7s %-5s %s  (pool %s; token in %s; CA %s; Spark on Azurite as abfss://%s@%s.dfs.core.windows.net/)\n' \
      synapse "$1" "https://127.0.0.1:$SYNAPSE_PORT" "$SYNAPSE_POOL" "$SYNAPSE_TOKEN_FILE" \
      "$TLS_DIR/ca.pem" "$SYNAPSE_CONTAINER" "$AZURITE_ACCOUNT"
  fi
}
