# shellcheck shell=bash
# Spark (an install, nothing to start): the pyspark wheel in a venv of its own, used as
# SPARK_HOME by Livy's spark-submit children, by `stack.sh env` (pytest, ruff, the demo)
# and, through $STATE/run/local-spark.json, by the gateway's local backend.

spark_about() { echo "Spark: pyspark venv from PyPI (cached in $CACHE), spark-defaults.conf, local-spark.json"; }
spark_install() {
  # the secure profile: Spark's JVMs (drivers and executors in YARN containers, too) read
  # the stack's krb5.conf
  local krb=""
  secure_profile && krb=" -Djava.security.krb5.conf=$KRB5_CONF"
  VENV=$(venv_path venv "$PYTHON_PACKAGES")
  cached_venv "$VENV" "$PYTHON_PACKAGES" pip.log spark_bash_kernel "register the bash kernel for the notebook"
  SPARK_HOME=$("$VENV/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
  # setuptools can drop the executable bit of pyspark/bin (SPARK-31231); Livy runs them directly.
  chmod +x "$SPARK_HOME"/bin/* "$SPARK_HOME"/sbin/* 2>/dev/null || true
  echo "$SPARK_HOME" | put "$STATE/run/spark-home"
  echo "$VENV" | put "$STATE/run/venv"
  mkdir -p "$STATE/conf/spark"
  put "$STATE/conf/spark/spark-defaults.conf" <<CONF
spark.master                   $SPARK_MASTER
spark.driver.host              127.0.0.1
spark.driver.bindAddress       127.0.0.1
spark.ui.enabled               false
spark.sql.shuffle.partitions   2
spark.pyspark.python           $VENV/bin/python
# on YARN (Livy's batches): Spark's jars from one cached archive on HDFS, the driver's
# Python in cluster mode, and one attempt per application (Sparkgate retries, not YARN:
# a failed job never runs twice behind its back)
spark.yarn.archive             $DEFAULT_FS$SPARK_YARN_ARCHIVE
spark.yarn.appMasterEnv.PYSPARK_PYTHON $VENV/bin/python
spark.yarn.maxAppAttempts      1
# one small executor per application unless a job asks for more (YARN's default is two of
# 1g: a few apps would hold the whole box while others wait for executors)
spark.executor.instances       1
spark.executor.memory          512m
# short-lived JVMs on a small box: the C1 compiler only (no C2 compile threads competing
# for two cores) and the serial collector
spark.driver.extraJavaOptions  -XX:TieredStopAtLevel=1 -XX:+UseSerialGC$krb
spark.executor.extraJavaOptions -XX:TieredStopAtLevel=1 -XX:+UseSerialGC$krb
# a driver in a YARN container advertises the address its host resolves to, unless told
# (the stack binds everything to 127.0.0.1)
spark.yarn.appMasterEnv.SPARK_LOCAL_IP 127.0.0.1
spark.executorEnv.SPARK_LOCAL_IP 127.0.0.1
CONF
  spark_write_local_json
}
# the notebook's bash kernel, registered inside the venv (jupyter lab / nbclient find it)
spark_bash_kernel() { "$1/bin/python" -m bash_kernel.install --sys-prefix >>"$2" 2>&1; }

# The stack's Spark for a spark-submit run outside Livy: `env` prints it as exports, and
# local-spark.json holds it for the gateway's local backend (no SPARKGATE_* or SPARK_HOME
# needed). Sets LS_* from the installed state.
spark_local_vars() {
  [ -f "$STATE/run/spark-home" ] || die "the stack is not installed; run: npm run stack:up"
  LS_JAVA_HOME=$(find_java17) || die "Java 17 not found"
  LS_SPARK_HOME=$(cat "$STATE/run/spark-home")
  LS_HADOOP_CONF_DIR="$STATE/conf/hadoop"
  LS_SPARK_CONF_DIR="$STATE/conf/spark"
  LS_PYSPARK_PYTHON="$(cat "$STATE/run/venv")/bin/python"
}
spark_write_local_json() {
  spark_local_vars
  # json.dumps escapes what a path may hold; put makes it atomic for a reading gateway.
  python3 -c 'import json, sys
home, java, hadoop, conf, python = sys.argv[1:]
print(json.dumps({"sparkHome": home, "env": {"JAVA_HOME": java, "HADOOP_CONF_DIR": hadoop,
    "SPARK_CONF_DIR": conf, "PYSPARK_PYTHON": python, "SPARK_LOCAL_IP": "127.0.0.1"}}))' \
    "$LS_SPARK_HOME" "$LS_JAVA_HOME" "$LS_HADOOP_CONF_DIR" "$LS_SPARK_CONF_DIR" "$LS_PYSPARK_PYTHON" |
    put "$STATE/run/local-spark.json"
}
# `stack.sh env`: the same, as exports
spark_print_env() {
  spark_local_vars
  printf 'export JAVA_HOME=%q SPARK_HOME=%q HADOOP_CONF_DIR=%q SPARK_CONF_DIR=%q PYSPARK_PYTHON=%q SPARK_LOCAL_IP=127.0.0.1\n' \
    "$LS_JAVA_HOME" "$LS_SPARK_HOME" "$LS_HADOOP_CONF_DIR" "$LS_SPARK_CONF_DIR" "$LS_PYSPARK_PYTHON"
}

# Environment of everything that runs Spark (Livy and its spark-submit children); needs
# SPARK_HOME and VENV (spark_load), and JAVA_HOME.
spark_load() {
  SPARK_HOME=$(cat "$STATE/run/spark-home")
  VENV=$(cat "$STATE/run/venv")
}
spark_env() {
  export SPARK_HOME HADOOP_CONF_DIR="$STATE/conf/hadoop" SPARK_CONF_DIR="$STATE/conf/spark"
  export PYSPARK_PYTHON="$VENV/bin/python" SPARK_LOCAL_IP=127.0.0.1 SPARK_LOCAL_HOSTNAME=localhost
  # Livy's spark-submit children (in cluster mode they only submit): as the drivers above
  export SPARK_SUBMIT_OPTS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
  export PATH="$VENV/bin:$JAVA_HOME/bin:$PATH"
}
