# shellcheck shell=bash
# Clients (an install, nothing to start): the Livy clients the tests drive Sparkgate's
# Livy-compatible API with (/livy: test/livy/), in a venv of their own — pylivy (PyPI
# `livy`), the Python client of Livy's REST API. Its path: $STATE/run/clients-venv.

clients_about() { echo "Livy clients: $CLIENT_PACKAGES venv from PyPI (cached in $CACHE)"; }
clients_install() {
  local venv
  venv=$(venv_path clients "$CLIENT_PACKAGES")
  cached_venv "$venv" "$CLIENT_PACKAGES" pip-clients.log
  echo "$venv" | put "$STATE/run/clients-venv"
}
