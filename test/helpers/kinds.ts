/** The gateway's job kinds bound to nothing: for unit tests of what needs no service. */
import { JobKinds } from '../../src/domain/job-kinds.js'
import type { KindContext } from '../../src/domain/ports/job-kind.js'
import { JOB_KINDS } from '../../src/kinds/registry.js'

export const unitKinds = new JobKinds(JOB_KINDS, {} as KindContext)
