# shellcheck shell=bash
# YARN's NodeManager: the one node of the stack's YARN (services/yarn.sh), in its own JVM
# (an RM and an NM in one JVM serve no RM REST API once the NM starts). Its containers run
# as the user who started the stack (the default container executor, as in Hadoop's mini
# clusters); the RM still records each application's user (Livy's proxyUser).

NM_URL="http://127.0.0.1:$YARN_NM_WEB_PORT"

nodemanager_marker() { echo nodemanager.NodeManager; }
nodemanager_about() {
  case $1 in
    install) echo "nodemanager: (yarn's jars and config)" ;;
    start) echo "yarn NodeManager on 127.0.0.1:$YARN_NM_PORT, REST on :$YARN_NM_WEB_PORT" ;;
  esac
}
nodemanager_install() { :; }
# registered with the RM and RUNNING: what a container needs
nodemanager_check() {
  local out
  out=$(yarn_rest nodes) && [[ $out == *":$YARN_NM_WEB_PORT\""* && $out == *'"state":"RUNNING"'* ]]
}
nodemanager_start() {
  already_running nodemanager 120 nodemanager_check && return 0
  local p
  for p in "$YARN_NM_PORT" "$YARN_NM_LOCALIZER_PORT" "$YARN_NM_WEB_PORT"; do
    claim_port "$p" "the YARN NodeManager"
  done
  mkdir -p "$STATE/data/yarn/nm-local" "$STATE/data/yarn/nm-logs"
  yarn_java org.apache.hadoop.yarn.server.nodemanager.NodeManager nodemanager 384m
  launched nodemanager $!
  wait_for "the YARN NodeManager (registered with the ResourceManager)" 120 up_or_dead nodemanager nodemanager_check
}
nodemanager_stop() { stop_pid nodemanager; }
nodemanager_status() {
  if [ "${2:-}" = --json ]; then
    printf '"nodemanager":{"url":"%s","up":%s}' "$NM_URL" "$1"
  else
    printf '%-7s %-5s %s\n' nm "$1" "$NM_URL"
  fi
}
