/**
 * The backend registry: every kind of Spark backend the gateway knows. Config (the
 * SPARKGATE_* variables and SPARKGATE_BACKENDS entries), creation and the submit checks
 * all iterate this list, so adding a kind is one folder plus one line here.
 */
import { livyKind } from './livy/index.js'
import { localKind } from './local/index.js'
import { synapseKind } from './synapse/index.js'

export const BACKEND_KINDS = [livyKind, localKind, synapseKind] as const
