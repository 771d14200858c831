# shellcheck shell=bash
# The stack's own certificate authority and the certificates it signs (openssl, keytool),
# made once per stack under $STATE/tls and kept: a client trusts the stack's services by
# its CA file ($STATE/tls/ca.pem), as it would trust a cluster's private CA.
#
#   tls_ca                   $STATE/tls/ca.pem (+ ca.key, mode 0600), made once
#   tls_server_cert NAME     $STATE/tls/NAME.pem + NAME.key for 127.0.0.1 and localhost
#   tls_keystore NAME        $STATE/tls/NAME.p12, a PKCS12 keystore of NAME's key and cert
#                            (for Java: Hadoop's ssl-server.xml), its password in
#                            $STATE/secrets/tls-store-password
#   tls_truststore           $STATE/tls/truststore.p12: the CA, for Java clients
# Secrets (keys, store password) are mode 0600 under a 0700 folder.

TLS_DIR="$STATE/tls"
TLS_DAYS=825

tls_store_password() {
  local f="$STATE/secrets/tls-store-password"
  mkdir -p "$STATE/secrets"
  chmod 700 "$STATE/secrets"
  if [ ! -s "$f" ]; then
    (umask 077 && openssl rand -hex 16 >"$f")
  fi
  cat "$f"
}

tls_ca() {
  mkdir -p "$TLS_DIR"
  [ -s "$TLS_DIR/ca.pem" ] && [ -s "$TLS_DIR/ca.key" ] && return 0
  need openssl
  (umask 077 && openssl genrsa -out "$TLS_DIR/ca.key" 2048 2>/dev/null)
  openssl req -x509 -new -key "$TLS_DIR/ca.key" -sha256 -days "$TLS_DAYS" \
    -subj "/CN=Sparkgate local stack CA $(hostname)-$(date +%s)" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$TLS_DIR/ca.pem" 2>/dev/null
  # a new CA: the truststore is made again (server certificates are checked against it)
  rm -f "$TLS_DIR/truststore.p12"
}

# tls_server_cert NAME: a certificate for 127.0.0.1 and localhost, signed by the stack's CA
tls_server_cert() {
  local name=$1 ext
  tls_ca
  if [ -s "$TLS_DIR/$name.pem" ] && [ -s "$TLS_DIR/$name.key" ] &&
    openssl verify -CAfile "$TLS_DIR/ca.pem" "$TLS_DIR/$name.pem" >/dev/null 2>&1; then
    return 0
  fi
  ext=$(mktemp)
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" >"$ext"
  (umask 077 && openssl genrsa -out "$TLS_DIR/$name.key" 2048 2>/dev/null)
  openssl req -new -key "$TLS_DIR/$name.key" -subj "/CN=localhost" -out "$TLS_DIR/$name.csr" 2>/dev/null
  openssl x509 -req -in "$TLS_DIR/$name.csr" -CA "$TLS_DIR/ca.pem" -CAkey "$TLS_DIR/ca.key" \
    -CAcreateserial -days "$TLS_DAYS" -sha256 -extfile "$ext" -out "$TLS_DIR/$name.pem" 2>/dev/null
  rm -f "$ext" "$TLS_DIR/$name.csr" "$TLS_DIR/$name.p12"
}

# tls_keystore NAME: NAME's key and certificate (with the CA) as a PKCS12 keystore
tls_keystore() {
  local name=$1 pass
  tls_server_cert "$name"
  [ -s "$TLS_DIR/$name.p12" ] && return 0
  pass=$(tls_store_password)
  (umask 077 && openssl pkcs12 -export -in "$TLS_DIR/$name.pem" -inkey "$TLS_DIR/$name.key" \
    -certfile "$TLS_DIR/ca.pem" -name "$name" -passout "pass:$pass" -out "$TLS_DIR/$name.p12")
}

# tls_truststore: the CA alone, as a PKCS12 truststore (Java clients of the stack's TLS)
tls_truststore() {
  local pass
  tls_ca
  [ -s "$TLS_DIR/truststore.p12" ] && return 0
  pass=$(tls_store_password)
  "$JAVA_HOME/bin/keytool" -importcert -noprompt -alias sparkgate-stack-ca -file "$TLS_DIR/ca.pem" \
    -storetype PKCS12 -keystore "$TLS_DIR/truststore.p12" -storepass "$pass" >/dev/null 2>&1
}
