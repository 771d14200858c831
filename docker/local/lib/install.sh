# shellcheck shell=bash
# How the stack installs what it needs, each kind once and cached: Debian packages (apt),
# Python venvs from PyPI (under $CACHE, keyed by their pins and the Python version) and
# runtime classpaths from Maven Central (in ~/.m2, resolved once per POM and version).
# Sourced by stack.sh after common.sh; needs STATE, CACHE and HERE.

# apt_install PACKAGE: root only; one `apt-get update` per state directory.
apt_install() {
  [ "$(id -u)" = 0 ] || die "$1 is missing and only root can install it: sudo apt-get install -y $1"
  say "stack: installing $1 from apt"
  if [ ! -f "$STATE/run/.apt-updated" ]; then
    apt-get update -qq >"$STATE/logs/apt.log" 2>&1 || die "apt-get update failed (is the Debian package mirror reachable?); see $STATE/logs/apt.log"
    touch "$STATE/run/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >>"$STATE/logs/apt.log" 2>&1 ||
    die "apt-get install $1 failed (is the Debian package mirror reachable?); see $STATE/logs/apt.log"
}
# need COMMAND [PACKAGE]: the command, from apt (PACKAGE, default COMMAND) when missing.
need() { command -v "$1" >/dev/null || apt_install "${2:-$1}"; }

# venv_path PREFIX PACKAGES: where the venv for these pins (and this python3) lives.
venv_path() {
  local key
  key=$(printf '%s|%s' "$2" "$(python3 -V 2>&1)" | sha256sum | cut -c1-12)
  echo "$CACHE/$1-$key"
}
# cached_venv DIR PACKAGES LOG [HOOK WHAT]: a venv at DIR with PACKAGES (a space-separated
# list of pins), then, if given, HOOK DIR LOGFILE (WHAT names it when it fails). The marker
# is written last: a cut install is redone, never half-used.
cached_venv() {
  local venv=$1 packages=$2 log=$3 hook=${4:-} what=${5:-}
  [ ! -f "$venv/.complete" ] || return 0
  rm -rf "$venv"
  python3 -m venv "$venv"
  # shellcheck disable=SC2086 # packages is a list
  if ! env -u PYSPARK_HADOOP_VERSION -u PYSPARK_HIVE_VERSION "$venv/bin/pip" install --disable-pip-version-check -q $packages >"$STATE/logs/$log" 2>&1; then
    rm -rf "$venv"
    die "pip could not install $packages (is the Python package index reachable?); see $STATE/logs/$log"
  fi
  if [ -n "$hook" ] && ! "$hook" "$venv" "$STATE/logs/$log"; then
    rm -rf "$venv"
    die "could not $what; see $STATE/logs/$log"
  fi
  touch "$venv/.complete"
}

# classpath NAME POM PROPS...: Maven resolves the runtime classpath once per POM/version,
# into $STATE/run/NAME.classpath.
classpath() {
  local name=$1 pom=$2
  shift 2
  local out="$STATE/run/$name.classpath" key
  key=$(cat "$pom" <(printf '%s\n' "$@") | sha256sum | cut -c1-16)
  if [ -f "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ] && all_exist "$(cat "$out")"; then return 0; fi
  if ! mvn -B -q -f "$pom" "$@" dependency:build-classpath -Dmdep.includeScope=runtime -Dmdep.outputFile="$out" >"$STATE/logs/maven-$name.log" 2>&1; then
    die "Maven could not resolve the $name jars (is Maven Central reachable?); see $STATE/logs/maven-$name.log"
  fi
  echo "$key" >"$out.key"
}
all_exist() {
  local IFS=: f
  for f in $1; do [ -f "$f" ] || return 1; done
}
