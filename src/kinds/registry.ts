/**
 * Every job kind the gateway knows, in the order JobSpec lists their fields. A kind is one
 * folder under src/kinds/ whose index.ts exports one defineJobKind(…) definition, plus one
 * line here (docs/architecture.md: "How to add a job kind").
 */
import type { JobKindDefinition } from '../domain/ports/job-kind.js'
import { batchKind } from './batch/index.js'
import { scoringKind } from './scoring/index.js'
import { trainingKind } from './training/index.js'

export const JOB_KINDS: readonly JobKindDefinition[] = [batchKind, trainingKind, scoringKind]
