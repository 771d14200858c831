/**
 * Sparkgate's own PySpark jobs (jobs/ at the repository root), staged on the cluster's
 * store once per content: the training and scoring entry points, and the warm engine's.
 */
import { fileURLToPath } from 'node:url'

export const TRAIN_SCRIPT = fileURLToPath(new URL('../../jobs/train.py', import.meta.url))
export const SCORE_SCRIPT = fileURLToPath(new URL('../../jobs/score.py', import.meta.url))
export const ENGINE_SCRIPT = fileURLToPath(new URL('../../jobs/engine.py', import.meta.url))
