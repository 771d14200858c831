/**
 * A private redis-server for benchmarks and the fault suite: its own port and folder, the
 * append-only file on (fsync `always` by default, as the shipped configs), no snapshots.
 * `crash` kills it with kill -9 and starts it again on the same files — with `cut`, after
 * tearing the last bytes off the newest AOF file, as a power cut mid-write leaves it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readdir, rm, stat, truncate } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { quietPort } from './ports.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export interface RedisServer {
  url: string
  crash(cut: boolean): Promise<void>
  stop(): Promise<void>
}

export async function startRedisServer(
  o: { appendfsync?: 'always' | 'everysec'; onSpawn?: (child: ChildProcess) => void } = {},
): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'sparkgate-redis-'))
  const port = await quietPort()
  const url = `redis://127.0.0.1:${port}`
  let child: ChildProcess | undefined
  const kill = () => {
    try {
      if (child?.pid) process.kill(-child.pid, 'SIGKILL')
    } catch {
      // gone already
    }
  }
  const ready = async () => {
    for (let i = 0; i < 300; i++) {
      const probe = new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      })
      probe.on('error', () => undefined) // refused until it listens
      try {
        await probe.connect()
        // loading the AOF answers LOADING until done
        await probe.ping()
        probe.disconnect()
        return
      } catch {
        probe.disconnect()
        await sleep(50)
      }
    }
    throw new Error('the private redis-server did not start')
  }
  const start = async () => {
    child = spawn(
      'redis-server',
      [
        ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
        ...['--appendonly', 'yes', '--appendfsync', o.appendfsync ?? 'always', '--save', ''],
        ...['--maxmemory-policy', 'noeviction'],
      ],
      { stdio: 'ignore', detached: true },
    )
    o.onSpawn?.(child)
    await ready()
  }
  try {
    await start()
  } catch (error) {
    kill()
    await rm(dir, { recursive: true, force: true })
    throw error
  }
  return {
    url,
    async crash(cut) {
      kill()
      await sleep(300 + Math.random() * 700)
      if (cut) {
        const aofDir = join(dir, 'appendonlydir')
        const incr = (await readdir(aofDir))
          .filter((f) => f.includes('.incr.aof'))
          .sort()
          .pop()
        if (incr) {
          const file = join(aofDir, incr)
          const size = (await stat(file)).size
          if (size > 40) await truncate(file, size - 17)
        }
      }
      await start()
    },
    async stop() {
      kill()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
