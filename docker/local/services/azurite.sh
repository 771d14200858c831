# shellcheck shell=bash
# Azurite: Azure Storage's emulator (npm `azurite`), the stand-in for the storage account a
# Synapse workspace reads (abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/…). Azurite has no
# dfs (ADLS Gen2) endpoint; the Blob API reaches the same files. The blob service only
# (azurite-blob), on 127.0.0.1:$AZURITE_BLOB_PORT, over HTTPS with a certificate of the
# stack's CA (lib/tls.sh): https://127.0.0.1:$AZURITE_BLOB_PORT/sparkgate, path-style.
# Production-style URLs are on: a request whose Host is ACCOUNT.dfs|blob.core.windows.net
# (the Synapse double's Spark, through its storage proxy: services/synapse.sh) names the
# account by its host; a Host of 127.0.0.1 or localhost (an IP, or no dot) stays path-style.
#
# One account of its own, `sparkgate`, never the emulator's well-known devstoreaccount1 key
# (which Azurite stops serving once AZURITE_ACCOUNTS names an account): its key is 64
# random bytes, base64, made once per stack in $STATE/secrets/azurite-key (0600, in a 0700
# folder) and handed to Azurite in its environment (AZURITE_ACCOUNTS=name:key), never on a
# command line and never printed.
#
# Installed with npm into a cached prefix of its own, $CACHE/azurite-$AZURITE_VERSION (not
# the project's node_modules), and run with the project's Node (node_modules/.bin/node, the
# `node` devDependency: Azurite 3.36+ wants Node 22 or newer, the system's may be older).
# Blobs and its metadata under $STATE/data/azurite; its access log is
# $STATE/logs/azurite.log; its debug log is off; telemetry off.

AZURITE_ACCOUNT=sparkgate
AZURITE_URL="https://127.0.0.1:$AZURITE_BLOB_PORT/$AZURITE_ACCOUNT"
AZURITE_KEY_FILE="$STATE/secrets/azurite-key"
AZURITE_PREFIX="$CACHE/azurite-$AZURITE_VERSION"
AZURITE_MAIN="$AZURITE_PREFIX/node_modules/azurite/dist/src/blob/main.js"

azurite_marker() { echo azurite/dist/src/blob/main.js; }
azurite_about() {
  case $1 in
    install) echo "azurite: azurite@$AZURITE_VERSION from npm (cached in $CACHE), its certificate and key" ;;
    start) echo "azurite (blob) on 127.0.0.1:$AZURITE_BLOB_PORT (TLS, account $AZURITE_ACCOUNT)" ;;
  esac
}
# The project's Node (npm install puts it in node_modules/.bin)
azurite_node() {
  local node="$ROOT/node_modules/.bin/node"
  [ -x "$node" ] || die "azurite runs on the project's Node ($node): run npm install first"
  echo "$node"
}

# The account's key, made once per stack (kept across restarts)
azurite_secrets() {
  mkdir -p "$STATE/secrets"
  chmod 700 "$STATE/secrets"
  if [ ! -s "$AZURITE_KEY_FILE" ]; then
    (umask 077 && openssl rand 64 | base64 -w0 >"$AZURITE_KEY_FILE.tmp" && mv -f "$AZURITE_KEY_FILE.tmp" "$AZURITE_KEY_FILE")
  fi
}

# npm runs on the project's Node too (first on PATH), so --engine-strict checks Azurite's
# engines against the Node that runs it. No install scripts (none of its dependencies needs
# one: protobufjs's only checks its version). The marker is written last: a cut install
# is redone, never half-used.
azurite_install() {
  need openssl
  tls_server_cert azurite
  azurite_secrets
  [ ! -f "$AZURITE_PREFIX/.complete" ] || return 0
  local node
  node=$(azurite_node)
  command -v npm >/dev/null || die "npm is missing (it installs Azurite)"
  rm -rf "$AZURITE_PREFIX"
  mkdir -p "$AZURITE_PREFIX"
  if ! PATH="$(dirname "$node"):$PATH" npm install --prefix "$AZURITE_PREFIX" --engine-strict \
    --ignore-scripts --omit=dev --no-audit --no-fund --no-save "azurite@$AZURITE_VERSION" \
    >"$STATE/logs/npm-azurite.log" 2>&1 || [ ! -f "$AZURITE_MAIN" ]; then
    rm -rf "$AZURITE_PREFIX"
    die "npm could not install azurite@$AZURITE_VERSION (is the npm registry reachable? does it run on $("$node" --version)?); see $STATE/logs/npm-azurite.log"
  fi
  touch "$AZURITE_PREFIX/.complete"
}

# The blob endpoint answers TLS with the stack's CA: any HTTP status will do (a 403 to an
# unsigned listing of the account's containers).
azurite_check() {
  curl -s -o /dev/null -m 3 --cacert "$TLS_DIR/ca.pem" "$AZURITE_URL?comp=list"
}
azurite_start() {
  already_running azurite 20 azurite_check && return 0
  claim_port "$AZURITE_BLOB_PORT" azurite
  [ -f "$AZURITE_PREFIX/.complete" ] || die "azurite is not installed (stack.sh install installs it)"
  local node
  node=$(azurite_node)
  mkdir -p "$STATE/data/azurite"
  (
    # the key in the environment only (Azurite reads AZURITE_ACCOUNTS; /proc/PID/environ
    # is its user's alone)
    AZURITE_ACCOUNTS="$AZURITE_ACCOUNT:$(cat "$AZURITE_KEY_FILE")"
    export AZURITE_ACCOUNTS
    exec setsid nohup "$node" "$AZURITE_MAIN" --blobHost 127.0.0.1 --blobPort "$AZURITE_BLOB_PORT" \
      --location "$STATE/data/azurite" --cert "$TLS_DIR/azurite.pem" --key "$TLS_DIR/azurite.key" \
      --skipApiVersionCheck --disableTelemetry \
      >"$STATE/logs/azurite.log" 2>&1 </dev/null
  ) &
  launched azurite $!
  wait_for "azurite (TLS on 127.0.0.1:$AZURITE_BLOB_PORT)" 30 up_or_dead azurite azurite_check
}
azurite_stop() { stop_pid azurite; }
# azurite_status UP [--json]: where it is, its account and how to trust it (the key's
# file, never the key)
azurite_status() {
  if [ "${2:-}" = --json ]; then
    printf '"azurite":{"up":%s,"blobUrl":"%s","account":"%s","keyFile":"%s","caFile":"%s"}' \
      "$1" "$AZURITE_URL" "$AZURITE_ACCOUNT" "$AZURITE_KEY_FILE" "$TLS_DIR/ca.pem"
  else
    printf '%-7s %-5s %s  (blob; account %s, key in %s; CA %s)\n' azurite "$1" \
      "$AZURITE_URL" "$AZURITE_ACCOUNT" "$AZURITE_KEY_FILE" "$TLS_DIR/ca.pem"
  fi
}
