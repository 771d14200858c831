# shellcheck shell=bash
# The secure profile's Kerberos KDC (stack.sh up --secure): MIT Kerberos from apt, realm
# SPARKGATE.LOCAL on 127.0.0.1:KDC_PORT (UDP and TCP), everything under $STATE: its
# kdc.conf ($STATE/conf/kdc, KRB5_KDC_PROFILE), its database ($STATE/data/kdc, made once
# with kdb5_util), the clients' krb5.conf ($STATE/conf/krb5.conf: KRB5_CONFIG for the C
# library, -Djava.security.krb5.conf for the JVMs) and the keytabs ($STATE/secrets, 0700;
# each 0600). Principals (kadmin.local, made once, keys random, never printed):
#   hdfs/localhost, yarn/localhost, livy/localhost   the services (keytabs NAME.keytab)
#   HTTP/localhost, HTTP/127.0.0.1                    SPNEGO (WebHDFS, Livy): http.keytab.
#                                  Clients here ask for HTTP@127.0.0.1 (rdns is off), so
#                                  servers accept either (Hadoop's principal `*`)
#   sparkgate                      the gateway (sparkgate.keytab; a Hadoop/Livy superuser)
#   analyst                        a user an operator can `kinit -kt analyst.keytab analyst`
# Not started in the default profile.

KRB5_REALM=SPARKGATE.LOCAL
KRB5_CONF="$STATE/conf/krb5.conf"
KDC_CONF_DIR="$STATE/conf/kdc"
KDC_DATA="$STATE/data/kdc"
SECRETS="$STATE/secrets"
# principal -> keytab (several principals may share one)
KDC_PRINCIPALS=(
  "hdfs/localhost hdfs"
  "yarn/localhost yarn"
  "livy/localhost livy"
  "HTTP/localhost http"
  "HTTP/127.0.0.1 http"
  "sparkgate sparkgate"
  "analyst analyst"
)
# the gateway's and the ready user's
# shellcheck disable=SC2034 # secure.json (stack.sh)
SPARKGATE_PRINCIPAL="sparkgate@$KRB5_REALM"
ANALYST_PRINCIPAL="analyst@$KRB5_REALM"
# keytab NAME: its path
keytab() { echo "$SECRETS/$1.keytab"; }
# What every JVM of the secure profile needs: the stack's krb5.conf (Java reads no
# KRB5_CONFIG), and Hadoop's KerberosUtil reads the JDK's internals (the default realm;
# Livy's hadoop-auth 2.7 also GSSUtil's OIDs)
# shellcheck disable=SC2034 # used by the JVM services
KRB5_JAVA_OPTS=("-Djava.security.krb5.conf=$KRB5_CONF"
  --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED
  --add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED
  --add-exports=java.security.jgss/sun.security.jgss=ALL-UNNAMED
  --add-opens=java.security.jgss/sun.security.jgss=ALL-UNNAMED)
# Each service principal maps to its short name (hdfs, yarn, livy, HTTP), users to theirs
# shellcheck disable=SC2034 # core-site.xml (services/hdfs.sh)
KRB5_AUTH_TO_LOCAL="RULE:[2:\$1@\$0](hdfs@$KRB5_REALM)s/.*/hdfs/
RULE:[2:\$1@\$0](yarn@$KRB5_REALM)s/.*/yarn/
RULE:[2:\$1@\$0](livy@$KRB5_REALM)s/.*/livy/
RULE:[2:\$1@\$0](HTTP@$KRB5_REALM)s/.*/HTTP/
RULE:[1:\$1@\$0](.*@$KRB5_REALM)s/@.*//
DEFAULT"
# kdc_ticket NAME PRINCIPAL: a ticket of PRINCIPAL (keytab NAME) in its own credentials
# cache, $STATE/secrets/NAME.ccache, got again when missing or expiring; prints the cache
kdc_ticket() {
  local cc="$SECRETS/$1.ccache"
  if ! KRB5_CONFIG="$KRB5_CONF" KRB5CCNAME="FILE:$cc" klist -s 2>/dev/null; then
    (umask 077 && KRB5_CONFIG="$KRB5_CONF" KRB5CCNAME="FILE:$cc" timeout 10 kinit -kt "$(keytab "$1")" "$2" >/dev/null 2>&1) || return 1
  fi
  echo "FILE:$cc"
}

kdc_marker() { echo krb5kdc; }
kdc_about() {
  case $1 in
    install) echo "kdc: MIT Kerberos from apt, realm $KRB5_REALM, principals and keytabs" ;;
    start) echo "kdc (Kerberos, realm $KRB5_REALM) on 127.0.0.1:$KDC_PORT" ;;
  esac
}
# the KDC's and kadmin.local's environment: only this stack's files
kdc_env() { env KRB5_CONFIG="$KRB5_CONF" KRB5_KDC_PROFILE="$KDC_CONF_DIR/kdc.conf" "$@"; }

kdc_install() {
  need krb5kdc krb5-kdc
  need kadmin.local krb5-admin-server
  need kinit krb5-user
  need openssl
  mkdir -p "$KDC_CONF_DIR" "$KDC_DATA" "$STATE/conf"
  mkdir -p "$SECRETS"
  chmod 700 "$SECRETS" "$KDC_DATA"
  put "$KRB5_CONF" <<CONF
[libdefaults]
  default_realm = $KRB5_REALM
  dns_lookup_kdc = false
  dns_lookup_realm = false
  rdns = false
  dns_canonicalize_hostname = false
  udp_preference_limit = 1
  ticket_lifetime = 24h
  renew_lifetime = 7d
  forwardable = true

[realms]
  $KRB5_REALM = {
    kdc = 127.0.0.1:$KDC_PORT
  }

[domain_realm]
  localhost = $KRB5_REALM
  127.0.0.1 = $KRB5_REALM
CONF
  put "$KDC_CONF_DIR/kdc.conf" <<CONF
[kdcdefaults]
  kdc_listen = 127.0.0.1:$KDC_PORT
  kdc_tcp_listen = 127.0.0.1:$KDC_PORT

[realms]
  $KRB5_REALM = {
    database_name = $KDC_DATA/principal
    key_stash_file = $KDC_DATA/stash
    acl_file = $KDC_CONF_DIR/kadm5.acl
    kdc_listen = 127.0.0.1:$KDC_PORT
    kdc_tcp_listen = 127.0.0.1:$KDC_PORT
    max_life = 24h
    max_renewable_life = 7d
    master_key_type = aes256-cts-hmac-sha1-96
    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
  }

[logging]
  kdc = FILE:$STATE/logs/kdc-events.log
CONF
  : | put "$KDC_CONF_DIR/kadm5.acl"
  kdc_database
}
# The database (once), each principal (once, random keys) and each keytab (once; the keys
# are exported as they are, so existing tickets and keytabs stay valid).
kdc_database() {
  if [ ! -f "$KDC_DATA/.complete" ]; then
    rm -rf "${KDC_DATA:?}"/* "$KDC_DATA"/.k5* "$SECRETS"/*.keytab* "$SECRETS"/*.ccache
    local master
    master=$(openssl rand -hex 24)
    # the master password on stdin, never on a command line (kdb5_util keeps it in the stash)
    printf '%s\n%s\n' "$master" "$master" |
      kdc_env kdb5_util create -s -r "$KRB5_REALM" >"$STATE/logs/kdc-install.log" 2>&1 ||
      die "kdb5_util could not create the KDC database; see $STATE/logs/kdc-install.log"
    touch "$KDC_DATA/.complete"
  fi
  local entry principal tab existing
  existing=$(kdc_env kadmin.local -r "$KRB5_REALM" -q listprincs 2>>"$STATE/logs/kdc-install.log") ||
    die "kadmin.local could not read the KDC database; see $STATE/logs/kdc-install.log"
  for entry in "${KDC_PRINCIPALS[@]}"; do
    read -r principal tab <<<"$entry"
    if ! grep -qxF "$principal@$KRB5_REALM" <<<"$existing"; then
      kdc_admin addprinc -randkey "$principal@$KRB5_REALM"
      # a new key: its keytab is written again
      rm -f "$(keytab "$tab")" "$KDC_DATA/keytab-$tab.done"
    fi
  done
  # a keytab is written whole (NAME.keytab.new, then renamed) and marked done in the KDC's
  # folder, so that a cut install writes it again
  for entry in "${KDC_PRINCIPALS[@]}"; do
    read -r principal tab <<<"$entry"
    [ -f "$KDC_DATA/keytab-$tab.done" ] && [ -f "$(keytab "$tab")" ] && continue
    (umask 077 && kdc_admin ktadd -norandkey -k "$(keytab "$tab").new" "$principal@$KRB5_REALM")
  done
  for entry in "${KDC_PRINCIPALS[@]}"; do
    read -r _ tab <<<"$entry"
    if [ -f "$(keytab "$tab").new" ]; then
      chmod 600 "$(keytab "$tab").new"
      mv -f "$(keytab "$tab").new" "$(keytab "$tab")"
      touch "$KDC_DATA/keytab-$tab.done"
    fi
  done
}
kdc_admin() {
  kdc_env kadmin.local -r "$KRB5_REALM" -q "$*" >>"$STATE/logs/kdc-install.log" 2>&1 ||
    die "kadmin.local $1 failed; see $STATE/logs/kdc-install.log"
}

# It answers when a ticket can be had (a TGT for analyst, into a throwaway cache).
kdc_check() {
  [ -f "$(keytab analyst)" ] || return 1
  local cc rc=0
  cc=$(mktemp "${TMPDIR:-/tmp}/sparkgate-kdc-check.XXXXXX")
  timeout 5 env KRB5_CONFIG="$KRB5_CONF" KRB5CCNAME="FILE:$cc" kinit -kt "$(keytab analyst)" "$ANALYST_PRINCIPAL" >/dev/null 2>&1 || rc=1
  rm -f "$cc"
  return "$rc"
}
kdc_start() {
  already_running kdc 20 kdc_check && return 0
  claim_port "$KDC_PORT" "the Kerberos KDC"
  # -n: in the foreground of its own session, like the other services
  KRB5_CONFIG="$KRB5_CONF" KRB5_KDC_PROFILE="$KDC_CONF_DIR/kdc.conf" \
    setsid nohup krb5kdc -n -r "$KRB5_REALM" >"$STATE/logs/kdc.log" 2>&1 </dev/null &
  launched kdc $!
  wait_for "the Kerberos KDC" 20 up_or_dead kdc kdc_check
}
kdc_stop() { stop_pid kdc; }
# kdc_status UP [--json]
kdc_status() {
  if [ "${2:-}" = --json ]; then
    printf '"kdc":{"url":"127.0.0.1:%s","realm":"%s","krb5Conf":"%s","principal":"%s","keytab":"%s","up":%s}' \
      "$KDC_PORT" "$KRB5_REALM" "$KRB5_CONF" "$ANALYST_PRINCIPAL" "$(keytab analyst)" "$1"
  else
    printf '%-7s %-5s %s  (realm %s; kinit -kt %s %s, KRB5_CONFIG=%s)\n' kdc "$1" "127.0.0.1:$KDC_PORT" \
      "$KRB5_REALM" "$(keytab analyst)" analyst "$KRB5_CONF"
  fi
}
