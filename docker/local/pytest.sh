#!/usr/bin/env bash
# pytest for jobs/ on local Spark, with the stack's Python venv (pyspark, numpy, sklearn).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
eval "$(bash "$HERE/stack.sh" env)"
cd "$ROOT/jobs"
exec "$(dirname "$PYSPARK_PYTHON")/pytest" "$@"
