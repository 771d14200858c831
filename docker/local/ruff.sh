#!/usr/bin/env bash
# ruff (format check + lint) for every Python file of the repository.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
env_lines=$(bash "$HERE/stack.sh" env) || {
  echo "ruff comes from the stack's Python venv: run npm run stack:up once" >&2
  exit 1
}
eval "$env_lines"
RUFF="$(dirname "$PYSPARK_PYTHON")/ruff"
cd "$ROOT"
dirs=()
for d in jobs test bench; do [ -d "$d" ] && dirs+=("$d"); done
"$RUFF" format --check --config jobs/pyproject.toml "${dirs[@]}"
"$RUFF" check --config jobs/pyproject.toml "${dirs[@]}"
