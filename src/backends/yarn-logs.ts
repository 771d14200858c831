/**
 * A YARN application's driver output, read where YARN keeps it. In cluster mode the driver
 * runs in the ApplicationMaster's container: what a PySpark file prints (its stdout and its
 * stderr, merged by Spark's Python runner) is that container's `stdout`; Spark's own log
 * and the JVM's stack traces are its `stderr`.
 *
 * The NodeManager's REST API serves a container's files
 * (`/ws/v1/node/containerlogs/{containerId}/{file}`): live while the container runs; once
 * the application has ended and its logs were aggregated to HDFS, it redirects to the
 * cluster's log server (`yarn.log.server.web-service.url`: a timeline or JobHistory
 * server), which serves the same files from HDFS. Both answer in one text format, a header
 * per source (`LogAggregationType: LOCAL|AGGREGATED`) and a `LogContents:` section per file.
 *
 * The driver's container and NodeManager come from the app's `driverLogUrl`
 * (`http://nm:8042/node/containerlogs/{containerId}/{user}`) while it runs, and from the
 * ResourceManager's record of the app (`amContainerLogs`, the same URL) at any time.
 */
import axios, { type AxiosInstance } from 'axios'

/** The driver's container and where its NodeManager answers, from a driverLogUrl. */
export interface DriverContainer {
  /** http://host:port of the NodeManager's web server */
  nodeManager: string
  containerId: string
}

const CONTAINER_LOG_URL = /^(https?:\/\/[^/]+)\/node\/containerlogs\/(container_[0-9e_]+)\//

export function driverContainerOf(driverLogUrl: string | undefined): DriverContainer | undefined {
  const m = driverLogUrl ? CONTAINER_LOG_URL.exec(driverLogUrl) : null
  return m ? { nodeManager: m[1]!, containerId: m[2]! } : undefined
}

/** One file of a container, as a NodeManager or a log server answered for it. */
export interface ContainerFile {
  lines: string[]
  /** aggregated to HDFS: the application has ended and the file is whole */
  aggregated: boolean
}

/**
 * The contents of `file` in a NodeManager / log server answer. A container's file may be
 * in two sources at once (local and aggregated, during aggregation): the aggregated copy
 * is whole, so it wins.
 */
export function parseContainerLog(body: string, file: string): ContainerFile | undefined {
  const sections: { aggregated: boolean; text: string }[] = []
  let aggregated = false
  const lines = body.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line.startsWith('LogAggregationType:')) aggregated = line.includes('AGGREGATED')
    if (line !== `LogType:${file}`) continue
    // headers until LogContents:, then the contents until `End of LogType:<file>`
    let j = i + 1
    while (j < lines.length && lines[j] !== 'LogContents:') j++
    const start = j + 1
    let end = start
    while (end < lines.length && !lines[end]!.startsWith(`End of LogType:${file}`)) end++
    sections.push({ aggregated, text: lines.slice(start, end).join('\n') })
    i = end
  }
  const chosen = sections.find((s) => s.aggregated) ?? sections[0]
  if (!chosen) return undefined
  const text = chosen.text.endsWith('\n') ? chosen.text.slice(0, -1) : chosen.text
  return { lines: text === '' ? [] : text.split('\n'), aggregated: chosen.aggregated }
}

/** Why the driver's logs could not be read (unreachable NodeManager, no log server, …). */
export class YarnLogsError extends Error {
  override name = 'YarnLogsError'
}

export interface YarnLogReaderOptions {
  /** the ResourceManager's web address (http://rm:8088): where an app's driver container is found */
  rmUrl: string
  timeoutMs?: number
  /** the most bytes read of one file: its last ones (a driver may print gigabytes) */
  maxBytes?: number
}

/** At most this many apps' driver containers are remembered (they never change). */
const KNOWN_CONTAINERS = 1000

export class YarnLogReader {
  private readonly http: AxiosInstance
  private readonly maxBytes: number
  private readonly rmUrl: string
  private readonly containers = new Map<string, DriverContainer>()

  constructor(options: YarnLogReaderOptions) {
    this.rmUrl = options.rmUrl.replace(/\/+$/, '')
    this.maxBytes = options.maxBytes ?? 8 * 1024 * 1024
    this.http = axios.create({
      timeout: options.timeoutMs ?? 15_000,
      responseType: 'text',
      transformResponse: (d: unknown) => d,
      // the NodeManager redirects a finished container to the log server
      maxRedirects: 3,
      validateStatus: () => true,
    })
  }

  /** Where the RM says an app's driver logs are (its AM container's); undefined: it does not know the app. */
  private async amContainerLogs(appId: string): Promise<string | undefined> {
    const url = `${this.rmUrl}/ws/v1/cluster/apps/${encodeURIComponent(appId)}`
    const r = await this.get(url, `the ResourceManager (${this.rmUrl})`)
    if (r.status === 404) return undefined
    if (r.status < 200 || r.status >= 300)
      throw new YarnLogsError(`the ResourceManager answered HTTP ${r.status} for ${appId}`)
    try {
      return (JSON.parse(r.body) as { app?: { amContainerLogs?: string } }).app?.amContainerLogs
    } catch {
      throw new YarnLogsError(`the ResourceManager's answer for ${appId} is not JSON`)
    }
  }

  /** The driver's container of an app: from its driverLogUrl, else from the RM. */
  async driverOf(appId: string, driverLogUrl?: string): Promise<DriverContainer | undefined> {
    const known = this.containers.get(appId) ?? driverContainerOf(driverLogUrl)
    if (known) return this.remember(appId, known)
    const found = driverContainerOf(await this.amContainerLogs(appId))
    return found ? this.remember(appId, found) : undefined
  }

  private remember(appId: string, container: DriverContainer) {
    if (!this.containers.has(appId)) {
      if (this.containers.size >= KNOWN_CONTAINERS)
        this.containers.delete(this.containers.keys().next().value!)
      this.containers.set(appId, container)
    }
    return container
  }

  private async get(url: string, what: string, params?: Record<string, number>) {
    try {
      const r = await this.http.get<string>(url, { params })
      return { status: r.status, body: typeof r.data === 'string' ? r.data : '' }
    } catch (error) {
      const code = axios.isAxiosError(error) ? (error.code ?? error.message) : String(error)
      throw new YarnLogsError(`${what} is not reachable: ${code}`)
    }
  }

  /** `file` of the driver's container; undefined when YARN has no such file (yet). */
  async read(
    container: DriverContainer,
    file: 'stdout' | 'stderr',
  ): Promise<ContainerFile | undefined> {
    const url = `${container.nodeManager}/ws/v1/node/containerlogs/${container.containerId}/${file}`
    const { status, body } = await this.get(url, `the driver's ${file} (${url})`, {
      size: -this.maxBytes,
    })
    // not started yet, or neither the NodeManager nor the log server knows it
    if (status === 404) return undefined
    if (status < 200 || status >= 300)
      throw new YarnLogsError(`the driver's ${file} (${url}): HTTP ${status}`)
    return parseContainerLog(body, file)
  }
}
