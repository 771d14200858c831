# shellcheck shell=bash
# Prerequisites of the whole stack (an install, nothing to start): Java 17 for the JVM
# services, Python 3.9 to 3.11 for Spark, the tools from apt that the stack, its health
# checks and the tests use, and the gateway's Kerberos binding. prereqs_install exports
# JAVA_HOME.

# Spark 3.5, Hadoop 3.3 and Livy need these on Java 17 (Spark's launcher adds its own).
# shellcheck disable=SC2034 # used by the JVM services
JDK17_OPENS=(-XX:+IgnoreUnrecognizedVMOptions
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED
  --add-opens=java.base/sun.util.calendar=ALL-UNNAMED
  --add-exports=java.base/sun.net.dns=ALL-UNNAMED --add-exports=java.base/sun.net.util=ALL-UNNAMED
  --add-exports=java.base/sun.security.x509=ALL-UNNAMED --add-exports=java.base/sun.security.util=ALL-UNNAMED)

find_java17() {
  local c v
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-arm64 /usr/lib/jvm/java-17-openjdk /usr/lib/jvm/temurin-17-jdk-amd64; do
    if [ -n "$c" ] && [ -x "$c/bin/java" ] && v=$("$c/bin/java" -version 2>&1) && [[ $v == *'version "17'* ]]; then
      echo "$c"
      return 0
    fi
  done
  return 1
}

prereqs_about() { echo "prerequisites (Java 17, Python, apt packages)"; }
prereqs_install() {
  JAVA_HOME=$(find_java17) ||
    die "Java 17 is required (Spark 3.5, Hadoop 3.3 and Livy do not run on newer JDKs here). Install it: apt-get install openjdk-17-jdk-headless"
  export JAVA_HOME
  command -v python3 >/dev/null || die "Python 3 (3.9 to 3.11) is required for Spark. Install it: apt-get install python3 python3-venv"
  python3 -c 'import sys; sys.exit(not ((3, 9) <= sys.version_info[:2] <= (3, 11)))' ||
    die "Python 3.9 to 3.11 is required for pyspark 3.5; python3 is $(python3 -V 2>&1)"
  python3 -c 'import venv, ensurepip' 2>/dev/null || die "python3 has no venv/ensurepip module. Install it: apt-get install python3-venv"
  need curl
  # Maven resolves the JVM services' classpaths (classpath in lib/install.sh)
  need mvn maven
  # the curl notebook's cells (notebooks/) pipe through jq; the Swagger UI test drives
  # Debian's Chromium (no browser download)
  need jq
  # Spark's jars go to YARN as one zip (services/yarn.sh)
  need zip
  need chromium
  gateway_kerberos_install
}

# The gateway's SPNEGO (Kerberos to Livy and WebHDFS) goes through the optional npm package
# `kerberos`, a native binding built against MIT Kerberos's headers. `npm ci` on a machine
# without them skips it (an optional dependency whose build failed); with the headers from
# apt, it is built here, at the version package.json pins, without touching the lockfile.
gateway_kerberos_install() {
  need krb5-config libkrb5-dev
  [ -f "$ROOT/package.json" ] && [ -d "$ROOT/node_modules" ] || return 0
  (cd "$ROOT" && node -e "require('kerberos')" 2>/dev/null) && return 0
  local version
  version=$(cd "$ROOT" && node -p "require('./package.json').optionalDependencies.kerberos")
  say "stack: building the gateway's Kerberos binding (npm kerberos@$version)"
  (cd "$ROOT" && npm install --no-save --no-audit --no-fund "kerberos@$version" >"$STATE/logs/npm-kerberos.log" 2>&1 &&
    node -e "require('kerberos')") ||
    die "the npm package kerberos@$version did not build (see $STATE/logs/npm-kerberos.log)"
}
