# shellcheck shell=bash
# The cluster's front door, as production lays it out: HDInsight serves
# https://CLUSTER.azurehdinsight.net/livy/… and /webhdfs/v1/… behind one TLS gateway with
# Basic auth, Cloudera's Knox the same shape. Here: nginx on 127.0.0.1:$PROXY_PORT, TLS
# 1.2+ with a certificate of the stack's own CA (lib/tls.sh), Basic auth (user sparkgate, a
# random password made once per stack), and
#   /livy/…                  → Livy, http://127.0.0.1:$LIVY_PORT/… (/livy stripped)
#   /webhdfs/v1/…            → the NameNode, http://127.0.0.1:$HDFS_NAMENODE_HTTP_PORT/webhdfs/v1/…
#   /datanode/PORT/webhdfs/v1/…  → a DataNode, http://127.0.0.1:PORT/webhdfs/v1/…
# The NameNode answers CREATE, APPEND, OPEN and GETFILECHECKSUM with a 307 to a DataNode
# (http://127.0.0.1:PORT/webhdfs/v1/…?…, PORT ephemeral); proxy_redirect rewrites that
# Location to https://HOST:$PROXY_PORT/datanode/PORT/webhdfs/v1/…?…, so the second hop goes
# through the proxy too, with the same credentials, as Knox does. Only 127.0.0.1, only the
# WebHDFS path. Bodies are streamed both ways (uploads of any size, no temp files).
# nginx hands that second hop to lib/datanode-relay.py (on a Unix socket, in nginx's
# process group): the DataNode answers every CREATE and APPEND with a "100 Continue" that
# nginx would take for the response, and stop sending the body (the relay's header says
# more).
#
# nginx runs in the foreground as the current user, its prefix $STATE/proxy (pid file and
# temp folders there), its config $STATE/conf/proxy/nginx.conf, its logs
# $STATE/logs/proxy.log (errors) and proxy-access.log: nothing under /etc/nginx or
# /var/log/nginx. The password is in $STATE/secrets/proxy-password (0600), its hash in
# proxy-htpasswd beside it; neither is ever printed.

PROXY_URL="https://127.0.0.1:$PROXY_PORT"
PROXY_USER=sparkgate
PROXY_PASSWORD_FILE="$STATE/secrets/proxy-password"
PROXY_HTPASSWD="$STATE/secrets/proxy-htpasswd"
PROXY_CONF="$STATE/conf/proxy/nginx.conf"
PROXY_RELAY_SOCKET="$STATE/proxy/datanode-relay.sock"

proxy_marker() { echo conf/proxy/nginx.conf; }
proxy_about() {
  case $1 in
    install) echo "proxy: nginx from apt, its certificate (the stack's CA), password and config" ;;
    start) echo "proxy on 127.0.0.1:$PROXY_PORT (TLS, Basic auth: /livy, /webhdfs/v1)" ;;
  esac
}
# nginx is in /usr/sbin, which a user's PATH may lack. Debian 12's `nginx` package has the
# ssl, proxy and auth_basic modules built in (nginx-light is only `nginx` plus the echo
# module there). A policy-rc.d that denies starting services keeps apt's postinst from
# starting the system's nginx on port 80 (containers have one; a full system may start it,
# which the stack never uses).
proxy_nginx() {
  command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; }
}

# The password, made once per stack (kept across restarts), and its hash for nginx (made
# again only when the password is newer). SHA-512 crypt: nginx checks other than its own
# formats with the system's crypt(3).
proxy_secrets() {
  mkdir -p "$STATE/secrets"
  chmod 700 "$STATE/secrets"
  if [ ! -s "$PROXY_PASSWORD_FILE" ]; then
    (umask 077 && openssl rand -hex 24 >"$PROXY_PASSWORD_FILE")
  fi
  if [ ! -s "$PROXY_HTPASSWD" ] || [ "$PROXY_PASSWORD_FILE" -nt "$PROXY_HTPASSWD" ]; then
    local hash
    hash=$(openssl passwd -6 -stdin <"$PROXY_PASSWORD_FILE")
    (umask 077 && printf '%s:%s\n' "$PROXY_USER" "$hash" >"$PROXY_HTPASSWD.tmp")
    mv -f "$PROXY_HTPASSWD.tmp" "$PROXY_HTPASSWD"
  fi
}

proxy_install() {
  proxy_nginx >/dev/null || need nginx
  need openssl
  tls_server_cert proxy
  proxy_secrets
  mkdir -p "$STATE/conf/proxy" "$STATE/proxy/temp"
  # Workers of a root master switch to `nobody` unless told otherwise: the current user's,
  # so they read what the master does and write its temp folders. (Not as another user:
  # nginx ignores `user` then, with a warning.)
  local user=""
  [ "$(id -u)" != 0 ] || user="user $(id -un) $(id -gn);"
  # The DataNode route passes the request URI as sent (percent-encoded, with its query
  # string) to the relay, which checks it again; the location's regex matches the
  # normalized path, so no `..` climbs out of /webhdfs/v1. (nginx wants a regex with braces
  # quoted.)
  put "$PROXY_CONF" <<NGINX
# written by docker/local/services/proxy.sh; edits are overwritten
$user
worker_processes 1;
pid $STATE/proxy/nginx.pid;
error_log stderr warn;
events { worker_connections 512; }

http {
  default_type application/octet-stream;
  access_log $STATE/logs/proxy-access.log;
  server_tokens off;
  client_body_temp_path $STATE/proxy/temp/client_body;
  proxy_temp_path $STATE/proxy/temp/proxy;
  fastcgi_temp_path $STATE/proxy/temp/fastcgi;
  uwsgi_temp_path $STATE/proxy/temp/uwsgi;
  scgi_temp_path $STATE/proxy/temp/scgi;

  server {
    listen 127.0.0.1:$PROXY_PORT ssl;
    server_name 127.0.0.1 localhost;
    ssl_certificate $TLS_DIR/proxy.pem;
    ssl_certificate_key $TLS_DIR/proxy.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:proxy_tls:1m;

    auth_basic "Sparkgate local stack";
    auth_basic_user_file $PROXY_HTPASSWD;

    # uploads of any size, streamed; long transfers and long Livy/HDFS calls
    client_max_body_size 0;
    client_body_timeout 1h;
    send_timeout 1h;
    proxy_http_version 1.1;
    proxy_request_buffering off;
    proxy_buffering off;
    proxy_connect_timeout 10s;
    proxy_send_timeout 1h;
    proxy_read_timeout 1h;
    # the proxy's credentials stay here (a Kerberized upstream would take them for its own)
    proxy_set_header Authorization "";
    proxy_set_header Connection "";
    # nginx answers a client's Expect: 100-continue itself; passed on, the DataNode would
    # answer a 100 of its own, which nginx would take for the response
    proxy_set_header Expect "";
    proxy_set_header X-Requested-By \$http_x_requested_by;
    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto https;
    proxy_set_header X-Forwarded-Host \$host:\$server_port;

    location / { return 404; }

    location = /livy { return 301 /livy/; }
    location /livy/ {
      proxy_pass http://127.0.0.1:$LIVY_PORT/;
    }

    location /webhdfs/v1 {
      proxy_pass http://127.0.0.1:$HDFS_NAMENODE_HTTP_PORT;
      proxy_redirect ~^http://127\.0\.0\.1:([0-9]+)/webhdfs/v1(.*)\$ https://\$host:\$server_port/datanode/\$1/webhdfs/v1\$2;
    }

    # to the DataNode relay (lib/datanode-relay.py), the request URI as sent
    location ~ "^/datanode/[0-9]{1,5}/webhdfs/v1/" {
      proxy_pass http://unix:$PROXY_RELAY_SOCKET;
      proxy_redirect off;
    }
  }
}
NGINX
}

# It answers TLS on its port with the stack's CA (any HTTP status, 401 here, will do), and
# its DataNode relay answers (a 404 for a path not its own).
proxy_check() {
  local code
  curl -s -o /dev/null -m 3 --cacert "$TLS_DIR/ca.pem" "$PROXY_URL/" &&
    code=$(curl -s -o /dev/null -m 3 -w '%{http_code}' --unix-socket "$PROXY_RELAY_SOCKET" http://relay/) &&
    [ "$code" = 404 ]
}
proxy_start() {
  already_running proxy 20 proxy_check && return 0
  claim_port "$PROXY_PORT" proxy
  local nginx
  nginx=$(proxy_nginx) || die "nginx is not installed (stack.sh install installs it)"
  "$nginx" -t -q -p "$STATE/proxy" -c "$PROXY_CONF" >"$STATE/logs/proxy.log" 2>&1 ||
    die "nginx rejects $PROXY_CONF:$(printf '\n')$(cat "$STATE/logs/proxy.log")"
  # the relay in the background of nginx's process group (stop_pid ends both); nginx
  # takes over the shell's pid
  # shellcheck disable=SC2016 # the positional parameters of bash -c
  setsid nohup bash -c 'python3 "$0" "$1" & exec "$2" -p "$3" -c "$4" -g "daemon off;"' \
    "$HERE/lib/datanode-relay.py" "$PROXY_RELAY_SOCKET" "$nginx" "$STATE/proxy" "$PROXY_CONF" \
    >"$STATE/logs/proxy.log" 2>&1 </dev/null &
  launched proxy $!
  wait_for "proxy (TLS on 127.0.0.1:$PROXY_PORT)" 20 up_or_dead proxy proxy_check
}
proxy_stop() { stop_pid proxy; }
# proxy_status UP [--json]: where it is and how to trust and log in to it (the password's
# file, never the password)
proxy_status() {
  if [ "${2:-}" = --json ]; then
    printf '"proxy":{"url":"%s","caFile":"%s","user":"%s","passwordFile":"%s","up":%s}' \
      "$PROXY_URL" "$TLS_DIR/ca.pem" "$PROXY_USER" "$PROXY_PASSWORD_FILE" "$1"
  else
    printf '%-7s %-5s %s  (/livy, /webhdfs/v1; user %s, password in %s; CA %s)\n' proxy "$1" \
      "$PROXY_URL" "$PROXY_USER" "$PROXY_PASSWORD_FILE" "$TLS_DIR/ca.pem"
  fi
}
