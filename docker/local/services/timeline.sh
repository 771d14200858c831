# shellcheck shell=bash
# YARN's timeline server (the ApplicationHistoryServer), in its own JVM: the stack's log
# server. Once an application ends, the NodeManager has moved its containers' logs to HDFS
# (log aggregation) and answers a request for them with a redirect here
# (yarn.log.server.web-service.url), as a real cluster's NodeManager redirects to its
# JobHistory or timeline server. The gateway reads a finished driver's output this way.

TIMELINE_URL="http://127.0.0.1:$YARN_TIMELINE_WEB_PORT"

timeline_marker() { echo ApplicationHistoryServer; }
timeline_about() {
  case $1 in
    install) echo "timeline: (yarn's jars and config)" ;;
    start) echo "yarn timeline server (log server) on 127.0.0.1:$YARN_TIMELINE_WEB_PORT" ;;
  esac
}
timeline_install() { :; }
timeline_check() { curl -sf -m 3 "$TIMELINE_URL/ws/v1/applicationhistory/about" >/dev/null; }
timeline_start() {
  already_running timeline 120 timeline_check && return 0
  claim_port "$YARN_TIMELINE_WEB_PORT" "the YARN timeline server"
  claim_port "$YARN_TIMELINE_PORT" "the YARN timeline server"
  yarn_java org.apache.hadoop.yarn.server.applicationhistoryservice.ApplicationHistoryServer timeline 256m
  launched timeline $!
  wait_for "the YARN timeline server" 120 up_or_dead timeline timeline_check
}
timeline_stop() { stop_pid timeline; }
timeline_status() {
  if [ "${2:-}" = --json ]; then
    printf '"timeline":{"url":"%s","up":%s}' "$TIMELINE_URL" "$1"
  else
    printf '%-7s %-5s %s  (YARN log server)\n' timeline "$1" "$TIMELINE_URL"
  fi
}
