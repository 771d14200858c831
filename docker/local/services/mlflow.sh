# shellcheck shell=bash
# MLflow: the tracking server and model registry of record, in a venv of its own (its
# dependencies must not move the Spark venv's pins). Runs and the registry in SQLite,
# artifacts under $STATE/mlflow/artifacts, served through the server's own REST API
# (--serve-artifacts: clients never write there themselves).

MLFLOW_URL="http://127.0.0.1:$MLFLOW_PORT"

mlflow_marker() { echo 'mlflow server'; }
mlflow_about() {
  case $1 in
    install) echo "MLflow: $MLFLOW_PACKAGES venv from PyPI (cached in $CACHE)" ;;
    start) echo "mlflow on 127.0.0.1:$MLFLOW_PORT" ;;
  esac
}
mlflow_install() {
  local venv
  venv=$(venv_path mlflow "$MLFLOW_PACKAGES")
  cached_venv "$venv" "$MLFLOW_PACKAGES" pip-mlflow.log
  echo "$venv" | put "$STATE/run/mlflow-venv"
}
# /health answers OK once the app is loaded (the SQLite store migrated)
mlflow_check() {
  local out
  out=$(curl -sf -m 3 "$MLFLOW_URL/health") && [ "$out" = OK ]
}

# Kept small: one uvicorn worker, no access log, and no job execution (its seven huey
# consumers took ~1.2 GB for GenAI jobs the stack never runs); ~0.5 GB in all.
mlflow_start() {
  already_running mlflow 60 mlflow_check && return 0
  claim_port "$MLFLOW_PORT" mlflow
  local venv
  venv=$(cat "$STATE/run/mlflow-venv")
  mkdir -p "$STATE/mlflow/artifacts"
  (
    cd "$STATE/mlflow" || exit
    # no telemetry, no "git not found" warning, no Python warnings (a starlette deprecation)
    export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true GIT_PYTHON_REFRESH=quiet
    export MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false PYTHONWARNINGS=ignore
    # model versions name their source on HDFS or ADLS Gen2 (the Spark model Sparkgate's
    # jobs wrote, on Livy or on a Synapse pool)
    export MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES=hdfs,abfss
    exec setsid nohup "$venv/bin/mlflow" server --host 127.0.0.1 --port "$MLFLOW_PORT" \
      --backend-store-uri "sqlite:///$STATE/mlflow/mlflow.db" \
      --serve-artifacts --artifacts-destination "$STATE/mlflow/artifacts" \
      --workers 1 --uvicorn-opts --no-access-log >"$STATE/logs/mlflow.log" 2>&1 </dev/null
  ) &
  launched mlflow $!
  wait_for "mlflow (GET /health)" 90 up_or_dead mlflow mlflow_check
}
mlflow_stop() { stop_pid mlflow; }
# mlflow_status UP [--json]
mlflow_status() {
  if [ "${2:-}" = --json ]; then
    printf '"mlflow":{"url":"%s","up":%s}' "$MLFLOW_URL" "$1"
  else
    printf '%-7s %-5s %s  (artifacts served, under %s/mlflow)\n' mlflow "$1" "$MLFLOW_URL" "$STATE"
  fi
}
