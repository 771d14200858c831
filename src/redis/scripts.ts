/**
 * The one loader of the gateway's Lua scripts (src/redis/lua/). Like BullMQ's
 * `src/commands/`, each file is named `<name>-<number of keys>.lua` (`<name>-n.lua`: a
 * fixed part and then as many keys as the call has, documented in its header) and opens
 * with a header documenting KEYS, ARGV and the result; every key a script touches comes
 * in KEYS (so the scripts run on Redis Cluster when the keys share a hash tag).
 *
 * Shared pieces live in lua/includes/ (bullmq's habit), pulled in by a line
 * `--@include <name>`.
 *
 * Scripts are sent once per connection and then run by SHA (ioredis `defineCommand`).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Redis } from 'ioredis'

const LUA_DIR = fileURLToPath(new URL('./lua/', import.meta.url))

/** What each script answers (see its header). */
export interface ScriptResults {
  'create-job': [created: number, record: string]
  transition: [ok: number, state: string]
  'reserve-slot': number
  'release-slot': number
  'create-dataset': [created: number, record: string]
  'delete-dataset': number
  'register-model': number
  'record-mlflow-run': number
  'renew-lease': number
  'release-lease': number
  'livy-batch-id': number
  'engine-start': number
  'engine-state': number
  'engine-claim': string
  'engine-done': number
  'engine-drop': number
}
export type ScriptName = keyof ScriptResults

interface Script {
  /** undefined: variadic (the call says how many) */
  keys: number | undefined
  lua: string
}

/** A script's text with each `--@include <name>` line replaced by lua/includes/<name>.lua. */
function withIncludes(lua: string): string {
  return lua.replace(/^--@include ([a-z-]+)$/gm, (_, name: string) =>
    readFileSync(`${LUA_DIR}includes/${name}.lua`, 'utf8'),
  )
}

function loadAll(): Map<string, Script> {
  const scripts = new Map<string, Script>()
  for (const file of readdirSync(LUA_DIR)) {
    const m = /^([a-z-]+)-(\d+|n)\.lua$/.exec(file)
    if (!m) continue
    scripts.set(m[1]!, {
      keys: m[2] === 'n' ? undefined : Number(m[2]),
      lua: withIncludes(readFileSync(LUA_DIR + file, 'utf8')),
    })
  }
  return scripts
}

const SCRIPTS = loadAll()
const defined = new WeakSet<Redis>()

type Runner = (...args: (string | number)[]) => Promise<unknown>

export class RedisScripts {
  constructor(private readonly redis: Redis) {
    if (defined.has(redis)) return
    for (const [name, script] of SCRIPTS)
      redis.defineCommand(
        commandName(name),
        script.keys === undefined
          ? { lua: script.lua } // the number of keys is the call's first argument
          : { numberOfKeys: script.keys, lua: script.lua },
      )
    defined.add(redis)
  }

  /** Runs one script; `keys` must be exactly the keys its file name counts (any for -n). */
  async run<N extends ScriptName>(
    name: N,
    keys: string[],
    args: (string | number)[],
  ): Promise<ScriptResults[N]> {
    const script = SCRIPTS.get(name)
    if (!script) throw new Error(`no Lua script ${name} in ${LUA_DIR}`)
    if (script.keys !== undefined && keys.length !== script.keys)
      throw new Error(`script ${name} takes ${script.keys} keys, got ${keys.length}`)
    const command = (this.redis as unknown as Record<string, Runner>)[commandName(name)]!
    const head = script.keys === undefined ? [keys.length] : []
    return (await command.call(this.redis, ...head, ...keys, ...args)) as ScriptResults[N]
  }
}

function commandName(name: string) {
  return `sg_${name.replace(/-/g, '_')}`
}
