/**
 * A port for a process the suite or a benchmark starts itself (a gateway replica, a private
 * redis-server, a scenario's Livy), when the port must be known before the process binds it
 * and may be bound again after a kill -9.
 *
 * It is taken below the kernel's ephemeral range (32768–60999 on Linux), where no outgoing
 * connection is given a local port: a port in that range that is free now may be an
 * outgoing socket's a moment later (Spark, Livy and the tests open many), and a gateway
 * started on it dies with EADDRINUSE. Each candidate is bound once on 127.0.0.1 to see
 * that no one listens there. And the local stack's own ports, as stack.env fixes them.
 */
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

const bindable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })

/** A port in [lo, hi) that nothing listens on now (random, so parallel callers spread). */
export async function quietPort(lo = 20_000, hi = 32_000): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = lo + Math.floor(Math.random() * (hi - lo))
    if (await bindable(port)) return port
  }
  throw new Error(`no free port in ${lo}–${hi}`)
}

/** A port of the local stack, from docker/local/stack.env (the one place they are fixed). */
export function stackPort(name: string): number {
  const env = readFileSync(new URL('../docker/local/stack.env', import.meta.url), 'utf8')
  const m = new RegExp(`^${name}=(\\d+)$`, 'm').exec(env)
  if (!m) throw new Error(`${name} is not in docker/local/stack.env`)
  return Number(m[1])
}
