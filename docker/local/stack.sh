#!/usr/bin/env bash
# The local stack without a container engine: Redis, Apache Kafka (one KRaft node), HDFS
# (NameNode + DataNode, WebHDFS on), YARN (a ResourceManager, a NodeManager and the timeline
# server that serves finished apps' logs), Spark (the pyspark wheel used as SPARK_HOME),
# Apache Livy (batches on YARN in cluster mode), an MLflow tracking server, Azurite (Azure
# Blob Storage's emulator over TLS, with an account and key of the stack's own: a Synapse
# workspace's storage), a Synapse double (the Synapse batch API over TLS; its batches run on
# a local Spark that reads Azurite as abfss://) and a TLS reverse proxy with Basic auth in front of Livy and WebHDFS (a
# cluster's gateway), all on 127.0.0.1.
#
#   stack.sh up [--secure] [--started-file F] [svc...]
#                            install what is missing (apt, PyPI, Maven Central, npm), start
#                            what is not running (the named services only: kdc redis kafka
#                            hdfs yarn nodemanager timeline livy livy-local mlflow azurite
#                            synapse proxy; default: all of the profile's); a second call is a
#                            no-op. With --started-file, append "NAME PID" to F for each
#                            service this call launched (test.sh stops those, and only
#                            those). --secure: the secure profile (below)
#   stack.sh install         only the installs and config files of up; starts nothing
#                            (secrets too: $STACK_DIR/secrets, 0700, the proxy's password and
#                            Azurite's account key, the Synapse double's token; never printed)
#   stack.sh down [svc...]   stop what this script (or the demo) started, by pid, nothing
#                            else; services: gateway and those of up (default: all)
#   stack.sh status [--json] what answers, and where
#   stack.sh check [svc...]  exit 0 when each service (those of up) answers (quiet)
#   stack.sh env             print the SPARK_HOME / HADOOP_CONF_DIR / JAVA_HOME exports
#                            (`up` also writes them to $STACK_DIR/run/local-spark.json,
#                            where the gateway's local backend finds the stack's Spark)
#   stack.sh run-livy P DIR [yarn|local]  one more Livy on port P, in the foreground
#                            (for tests), on YARN (default) or a local master
#
# Two profiles, one stack (the same ports): the default one, and the secure one (`up
# --secure`): a Kerberos KDC (services/kdc.sh) starts first; HDFS demands Kerberos (WebHDFS
# with SPNEGO, over HTTPS only), YARN and Livy run with Kerberos (Livy's REST API demands
# SPNEGO; YARN's web/REST stays open); livy-local is not started. The profile of the last
# `up` is in $STACK_DIR/run/profile (status, check, down and install read it); `up` refuses
# to start one profile's services beside the other's. `up --secure` writes
# $STACK_DIR/run/secure.json, what the gateway needs to talk to the secured stack.
#
# Ports and versions: stack.env beside this file. State and logs: $STACK_DIR (default
# <repo>/.stack, git-ignored). Downloads are cached in the user's home: ~/.m2 (Maven),
# the pip cache, and the Spark and MLflow venvs and Azurite's npm prefix under
# $STACK_CACHE_DIR (~/.cache/sparkgate).
#
# Layout: this file is the commands; lib/common.sh the logging, pid files, ports and
# waiting; lib/install.sh apt, venvs and Maven classpaths; lib/tls.sh the stack's own CA
# and its certificates; services/NAME.sh one file per part of the stack. INSTALLS have
# NAME_about and NAME_install only. Each of SERVICES defines the same functions (see
# services/redis.sh, the smallest):
#   NAME_marker          what its process's command line contains (pid files are checked)
#   NAME_about install|start   the title of its install step, of its start step
#   NAME_install         its cached downloads and config files; starts nothing
#   NAME_start           start it unless ours and answering (then wait for it, if slow)
#   NAME_check           exit 0 when it answers (quiet, a few seconds at most)
#   NAME_stop            stop it if this script started it (by pid), nothing else
#   NAME_status UP [--json]    its line of `status`, or its member of `status --json`
# A new service is one file under services/ and its name in SERVICES.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=stack.env
. "$HERE/stack.env"
STATE=${STACK_DIR:-$ROOT/.stack}
CACHE=${STACK_CACHE_DIR:-$HOME/.cache/sparkgate}
STARTED_FILE=""
# The profile: `up` names it (--secure or not); every other command reads the last one's.
PROFILE=$(cat "$STATE/run/profile" 2>/dev/null) || PROFILE=default
if [ "${1:-up}" = up ]; then
  PROFILE=default
  for arg in "${@:2}"; do [ "$arg" != --secure ] || PROFILE=secure; done
fi
[[ $PROFILE == secure ]] || PROFILE=default
secure_profile() { [ "$PROFILE" = secure ]; }

# What `install` runs, in order, before the services' own installs.
INSTALLS=(prereqs spark clients)
# The services, in start order (YARN needs HDFS, Livy needs YARN, nothing needs MLflow or
# Azurite; the Synapse double needs Azurite; the proxy, the front door of Livy and WebHDFS,
# comes last and goes first);
# `down` stops them in the reverse order.
SERVICES=(kdc redis kafka hdfs yarn nodemanager timeline livy livy-local mlflow azurite synapse
  proxy)
# what `up`, `check` start and check when no service is named: the profile's
DEFAULT_SERVICES=(redis kafka hdfs yarn nodemanager timeline livy livy-local mlflow azurite
  synapse proxy)
# (no proxy in the secure profile: its Livy and WebHDFS demand SPNEGO from their caller, and
# a Basic-auth front would have to hold a keytab and impersonate, as Knox does; nginx cannot)
SECURE_SERVICES=(kdc redis kafka hdfs yarn nodemanager timeline livy mlflow azurite synapse)
# the services whose configuration differs between the profiles
PROFILED=(hdfs yarn nodemanager timeline livy livy-local)
profile_services() {
  if secure_profile; then echo "${SECURE_SERVICES[@]}"; else echo "${DEFAULT_SERVICES[@]}"; fi
}

# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"
# shellcheck source=lib/install.sh
. "$HERE/lib/install.sh"
# shellcheck source=lib/tls.sh
. "$HERE/lib/tls.sh"
for part in "${INSTALLS[@]}" "${SERVICES[@]}"; do
  # shellcheck source=/dev/null
  . "$HERE/services/$part.sh"
done

# The gateway, when the demo started it (its pid file is $STATE/run/gateway.pid): `down`
# stops it first.
gateway_marker() { echo node; }
gateway_stop() { stop_pid gateway; }

is_service() { [[ " ${SERVICES[*]} " == *" $1 "* ]]; }
# What `down` stops, in this order: the gateway, then the services in reverse.
STOP_ORDER=(gateway)
for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do STOP_ORDER+=("${SERVICES[i]}"); done

# ---------------------------------------------------------------- commands
# install: what up installs and writes, without starting anything (a checkout whose tests
# run against services that another checkout of this repository started still needs its
# own Spark venv, jars and config files).
cmd_install() {
  mkdir -p "$STATE/run" "$STATE/logs" "$STATE/data"
  local part
  for part in "${INSTALLS[@]}" "${SERVICES[@]}"; do
    # the KDC is the secure profile's only (a bare machine needs no Kerberos otherwise)
    [ "$part" != kdc ] || secure_profile || continue
    step "$("${part}_about" install)" "${part}_install"
  done
}
cmd_up() {
  local services=()
  while [ $# -gt 0 ]; do
    case $1 in
      --secure) shift ;;
      --started-file)
        STARTED_FILE=${2:?--started-file needs a file}
        shift 2
        ;;
      -*) die "unknown option for up: $1 (--secure, --started-file FILE)" ;;
      *)
        is_service "$1" || die "unknown service $1 ($(list_of "${SERVICES[@]}"))"
        services+=("$1")
        shift
        ;;
    esac
  done
  # shellcheck disable=SC2207 # a list of names
  [ ${#services[@]} -gt 0 ] || services=($(profile_services))
  local t0 s
  t0=$(now)
  profile_guard
  if secure_profile && [[ " ${services[*]} " == *" livy-local "* ]]; then
    die "livy-local is not part of the secure profile (it runs without Kerberos)"
  fi
  if ! secure_profile && [[ " ${services[*]} " == *" kdc "* ]]; then
    die "kdc is part of the secure profile only: bash docker/local/stack.sh up --secure kdc"
  fi
  mkdir -p "$STATE/run"
  echo "$PROFILE" | put "$STATE/run/profile"
  cmd_install
  # in start order whatever order they were named in
  for s in "${SERVICES[@]}"; do
    [[ " ${services[*]} " == *" $s "* ]] || continue
    step "$("${s}_about" start)" "${s}_start"
  done
  if secure_profile; then secure_write_json; fi
  say "stack: up in $(secs "$t0") s ($PROFILE profile)"
  cmd_status
}
# One profile at a time: the other profile's services must be stopped first (their config
# files are rewritten for this one).
profile_guard() {
  local last s running=()
  last=$(cat "$STATE/run/profile" 2>/dev/null) || last=default
  [ "$last" != "$PROFILE" ] || return 0
  for s in "${PROFILED[@]}"; do
    if ours "$s"; then running+=("$s"); fi
  done
  [ ${#running[@]} -eq 0 ] && return 0
  local want="bash docker/local/stack.sh up"
  secure_profile && want+=" --secure"
  die "$(list_of "${running[@]}") run in the $last profile; stop them before starting the $PROFILE one: bash docker/local/stack.sh down ${PROFILED[*]}, then: $want"
}
# secure.json: what the gateway needs to talk to the secured stack (its principal and
# keytab, the krb5.conf, the HTTPS WebHDFS and its CA, Livy)
secure_write_json() {
  python3 -c 'import json, sys
keys = ["realm", "krb5Conf", "principal", "keytab", "webhdfsUrl", "livyUrl", "caFile"]
print(json.dumps(dict(zip(keys, sys.argv[1:]))))' \
    "$KRB5_REALM" "$KRB5_CONF" "$SPARKGATE_PRINCIPAL" "$(keytab sparkgate)" "$WEBHDFS_URL" "$LIVY_URL" \
    "$TLS_DIR/ca.pem" | put "$STATE/run/secure.json"
}
# down [service...]: every service by default; the gateway too if the demo started it.
# By pid file only; configs, data and local-spark.json stay.
cmd_down() {
  local services=("$@") s
  [ ${#services[@]} -gt 0 ] || services=("${STOP_ORDER[@]}")
  for s in "${services[@]}"; do
    [[ " ${STOP_ORDER[*]} " == *" $s "* ]] || die "unknown service $s ($(list_of "${STOP_ORDER[@]}"))"
    "${s}_stop"
  done
}
cmd_status() {
  local spark_home="" s up=() i
  [ -f "$STATE/run/spark-home" ] && spark_home=$(cat "$STATE/run/spark-home")
  for s in "${SERVICES[@]}"; do up+=("$(b "${s}_check")"); done
  if [ "${1:-}" = "--json" ]; then
    printf '{'
    for i in "${!SERVICES[@]}"; do
      "${SERVICES[i]}_status" "${up[i]}" --json
      printf ','
    done
    printf '"spark":{"home":"%s"},"profile":"%s","stateDir":"%s"}\n' "$spark_home" "$PROFILE" "$STATE"
  else
    printf 'profile: %s\n' "$PROFILE"
    printf '%-7s %-5s %s\n' service up where
    for i in "${!SERVICES[@]}"; do "${SERVICES[i]}_status" "${up[i]}"; done
    printf '%-7s %-5s %s\n' spark - "${spark_home:-(not installed)}"
    printf 'state and logs: %s\n' "$STATE"
  fi
}
# check [service...]: exit 0 when each named service (default: all) answers.
cmd_check() {
  local services=("$@") s
  # shellcheck disable=SC2207 # a list of names
  [ ${#services[@]} -gt 0 ] || services=($(profile_services))
  for s in "${services[@]}"; do
    is_service "$s" || die "unknown service $s ($(list_of "${SERVICES[@]}"))"
    "${s}_check" || return 1
  done
}

case "${1:-up}" in
  up) cmd_up "${@:2}" ;;
  install) cmd_install ;;
  down) cmd_down "${@:2}" ;;
  status) cmd_status "${2:-}" ;;
  check) cmd_check "${@:2}" ;;
  env) spark_print_env ;;
  run-livy) livy_run_foreground "${2:?port}" "${3:?dir}" "${4:-yarn}" ;;
  *) die "usage: stack.sh up [--secure] [--started-file F] [svc...]|install|down [svc...]|status [--json]|check [svc...]|env|run-livy PORT DIR [yarn|local]" ;;
esac
