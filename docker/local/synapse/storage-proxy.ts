/**
 * How the double's Spark reaches the workspace storage: a forward proxy on 127.0.0.1 that
 * sends a storage account's requests to Azurite. The double's Spark reads abfss:// with
 * Hadoop's WASB driver (registered for that scheme, main.ts), which asks for
 * http://ACCOUNT.dfs.core.windows.net/CONTAINER/PATH; the JVM's http.proxyHost sends that
 * here, and this proxy sends it on to Azurite over TLS (the stack's CA), keeping the Host
 * header: Azurite's production-style URLs then read the account from it. Requests for any
 * other host are refused (403): the double's Spark reaches nothing else through it.
 */
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { Agent, request } from 'node:https'

const STORAGE_HOST = /^[a-z0-9]{3,24}\.(dfs|blob)\.core\.windows\.net$/

export interface StorageProxyOptions {
  /** Azurite's blob port on 127.0.0.1 */
  azuritePort: number
  /** the CA that signed Azurite's certificate */
  caFile: string
  /** where the proxy listens on 127.0.0.1 */
  port: number
}

export async function startStorageProxy(o: StorageProxyOptions): Promise<Server> {
  const agent = new Agent({ keepAlive: true, ca: readFileSync(o.caFile), maxSockets: 64 })
  const forward = (req: IncomingMessage, res: ServerResponse) => {
    let url: URL
    try {
      url = new URL(req.url ?? '')
    } catch {
      return res.writeHead(400).end('a forward proxy takes absolute URLs\n')
    }
    if (url.protocol !== 'http:' || !STORAGE_HOST.test(url.hostname))
      return res.writeHead(403).end(`refused: ${url.hostname} is not a storage account\n`)
    const headers: Record<string, string | string[] | undefined> = {
      ...req.headers,
      host: url.host,
    }
    delete headers['proxy-connection']
    const upstream = request(
      {
        host: '127.0.0.1',
        port: o.azuritePort,
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers,
        agent,
        // Azurite's certificate names localhost and 127.0.0.1, not the account's host
        servername: 'localhost',
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders)
        answer.pipe(res)
      },
    )
    upstream.on('error', (error) => res.destroy(error))
    req.pipe(upstream)
  }
  const server = createServer(forward)
  // no tunnels: only the plain requests above
  server.on('connect', (_req, socket) => socket.end('HTTP/1.1 403 Forbidden\r\n\r\n'))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(o.port, '127.0.0.1', resolve)
  })
  return server
}
