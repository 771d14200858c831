/**
 * Bull Board at /admin/queues: the BullMQ queues of this gateway — one submit queue per
 * backend, the tracker's, one per webhook — for the platform admin (the auth plugin asks a
 * browser for the admin key with HTTP Basic auth there). Read-only unless
 * SPARKGATE_QUEUE_BOARD_READ_ONLY=false: retrying or removing a submission by hand can
 * run a job twice, which the gateway otherwise never does.
 */
import { createBullBoard } from '@bull-board/api'
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter'
import { FastifyAdapter } from '@bull-board/fastify'
import { Queue } from 'bullmq'
import fp from 'fastify-plugin'
import { bullPrefix, connectionFrom, submitQueueName, TRACKER_QUEUE } from '../workers/queues.js'
import { queueName } from '../webhooks/delivery-queue.js'

export const QUEUE_BOARD_PATH = '/admin/queues'

export const queueBoardPlugin = fp(
  async (app) => {
    const config = app.config
    const connection = connectionFrom(config.SPARKGATE_REDIS_URL)
    const prefix = bullPrefix(config.SPARKGATE_REDIS_PREFIX)
    const readOnlyMode = config.SPARKGATE_QUEUE_BOARD_READ_ONLY
    const queues = new Map<string, Queue>()
    const adapterOf = (name: string) => {
      let q = queues.get(name)
      if (!q) {
        q = new Queue(name, { connection, prefix })
        q.on('error', () => {})
        queues.set(name, q)
      }
      return new BullMQAdapter(q, { readOnlyMode })
    }
    const serverAdapter = new FastifyAdapter()
    serverAdapter.setBasePath(QUEUE_BOARD_PATH)
    const fixed = [...[...app.backends.byName.keys()].map(submitQueueName), TRACKER_QUEUE]
    const board = createBullBoard({
      queues: fixed.map(adapterOf),
      serverAdapter,
      options: { uiConfig: { boardTitle: 'Sparkgate queues' } },
    })
    // webhooks come and go: the board's list follows them when it is asked for
    app.addHook('onRequest', async (request) => {
      if (!request.url.startsWith(`${QUEUE_BOARD_PATH}/api/`)) return
      const names = [...fixed, ...(await app.webhooks.allIds()).map(queueName)]
      board.replaceQueues(names.map(adapterOf))
    })
    await app.register(serverAdapter.registerPlugin(), { prefix: QUEUE_BOARD_PATH })
    app.addHook('onClose', async () => {
      await Promise.all([...queues.values()].map((q) => q.close()))
    })
  },
  {
    name: 'sparkgate-queue-board',
    dependencies: ['sparkgate-config', 'sparkgate-backends', 'sparkgate-events', 'sparkgate-auth'],
  },
)
