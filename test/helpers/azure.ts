/**
 * The local Azure of the stack, as a test reaches it: the Synapse double and its storage
 * account (Azurite), from `<stack>/run/synapse.json` (written while the double runs), and a
 * container client of the real Blob SDK with the account's key (the stack's CA trusted).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { getCACertificates, setDefaultCACertificates } from 'node:tls'
import { fileURLToPath } from 'node:url'
import { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob'

const REPO = fileURLToPath(new URL('../../', import.meta.url))

export interface StackDouble {
  endpoint: string
  pool: string
  caFile: string
  tokenFile: string
  storage: { account: string; container: string; blobEndpoint: string; keyFile: string }
}

/** The stack's Synapse double, or undefined when it does not run. */
export function stackDouble(): StackDouble | undefined {
  const dir = process.env['STACK_DIR'] || join(REPO, '.stack')
  try {
    return JSON.parse(readFileSync(join(dir, 'run', 'synapse.json'), 'utf8')) as StackDouble
  } catch {
    return undefined
  }
}

/** The double's workspace container, with the account's key. */
export function containerOf(double: StackDouble): ContainerClient {
  const ca = readFileSync(double.caFile, 'utf8')
  const trusted = getCACertificates('default')
  if (!trusted.includes(ca)) setDefaultCACertificates([...trusted, ca])
  const { account, container, blobEndpoint, keyFile } = double.storage
  const key = readFileSync(keyFile, 'utf8').trim()
  return new ContainerClient(
    `${blobEndpoint}/${container}`,
    new StorageSharedKeyCredential(account, key),
  )
}
