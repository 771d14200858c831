--[[
  Records the MLflow ids a training job's run and model version got, once per job, and
  emits the version's `dev.sparkgate.model.version.registered` event in the same step
  (with tracking on the event carries MLflow's version number, the one of record).

  KEYS[1] P:mlflow-job:<jobId>   the ids (JSON)
  KEYS[2] P:t:<t>:events         the tenant's event stream

  ARGV[1] the ids (JSON)
  ARGV[2] the event's envelope (JSON)
  ARGV[3] the event's data: the model version (JSON)
  ARGV[4] the oldest stream id the tenant's stream keeps, or ''

  Returns 1 when recorded now, 0 when the job's ids were recorded before (no event).
]]
--@include emit-event
if redis.call('SET', KEYS[1], ARGV[1], 'NX') == false then return 0 end
emit_event(KEYS[2], ARGV[2], ARGV[3], ARGV[4])
return 1
