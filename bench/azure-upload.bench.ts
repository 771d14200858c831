/**
 * `npm run bench:azure` — a dataset upload to ADLS Gen2 (the stack's Azurite) through the
 * gateway's storage adapter, against the Azure SDK's own `BlockBlobClient.uploadStream` in
 * the same run; never run as a test. Needs the local stack (`npm run stack:up`: Azurite and
 * the Synapse double, whose storage this is).
 *
 * One file of BENCH_AZURE_MIB MiB (default 1024) of random bytes on local disk, uploaded in
 * a fresh Node process per method (so each one's peak RSS, VmHWM, is its own), twice each,
 * alternating:
 *   - sdk:   BlockBlobClient.uploadStream (8 MiB buffers, 4 in flight: the SDK's way);
 *   - store: AdlsStore.upload (8 MiB blocks, 4 in flight, SHA-256 and head on the way, a
 *            temp blob committed at the end) then placeAt (Copy Blob to its content address,
 *            the temp blob deleted): what POST /v1/datasets?backend=synapse does.
 * MB/s of each, the ratio, and each one's peak RSS.
 */
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream, readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { getCACertificates, setDefaultCACertificates } from 'node:tls'
import { fileURLToPath } from 'node:url'
import { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob'
import { Secret } from '../src/cluster-auth/credentials.js'
import { AdlsStore } from '../src/storage/adls-store.js'

const MiB = 1024 * 1024
const SIZE_MIB = Number(process.env['BENCH_AZURE_MIB'] ?? 1024)
const root = fileURLToPath(new URL('../', import.meta.url))

interface Double {
  caFile: string
  storage: { account: string; container: string; blobEndpoint: string; keyFile: string }
}
const double = JSON.parse(
  readFileSync(
    join(process.env['STACK_DIR'] || join(root, '.stack'), 'run', 'synapse.json'),
    'utf8',
  ),
) as Double
const { account, container, blobEndpoint, keyFile } = double.storage
const key = readFileSync(keyFile, 'utf8').trim()
setDefaultCACertificates([...getCACertificates('default'), readFileSync(double.caFile, 'utf8')])
const blobs = new ContainerClient(
  `${blobEndpoint}/${container}`,
  new StorageSharedKeyCredential(account, key),
)

/** Peak resident set of this process (VmHWM), in MiB. */
function peakRssMib(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
  return m ? Number(m[1]) / 1024 : NaN
}

/** One upload in this process: `node bench/azure-upload.bench.ts <method> <file> <folder>`. */
async function child(method: string, file: string, folder: string) {
  // what the process holds before a byte is read (its modules, its clients)
  const baseMib = peakRssMib()
  const t0 = performance.now()
  if (method === 'sdk') {
    await blobs
      .getBlockBlobClient(`${folder}/sdk-${randomUUID()}`)
      .uploadStream(createReadStream(file, { highWaterMark: MiB }), 8 * MiB, 4)
  } else {
    const store = new AdlsStore({
      account,
      container,
      folder,
      blobEndpoint,
      auth: { type: 'key', key: new Secret(key) },
      caFile: double.caFile,
    })
    const owner = { tenant: 'bench', user: 'bench' }
    const staged = await store.upload(
      createReadStream(file, { highWaterMark: MiB }),
      Number.MAX_SAFE_INTEGER,
      owner,
    )
    await store.placeAt(staged, `${store.datasetDir('bench', staged.sha256)}/data.bin`, owner)
  }
  const seconds = (performance.now() - t0) / 1000
  console.log(JSON.stringify({ seconds, peakRssMib: peakRssMib(), baseMib }))
}

async function main() {
  const work = join(tmpdir(), `sparkgate-bench-azure-${randomUUID().slice(0, 8)}`)
  const folder = `bench/${randomUUID().slice(0, 8)}`
  execFileSync('mkdir', ['-p', work])
  const file = join(work, 'data.bin')
  try {
    await pipeline(
      createReadStream('/dev/urandom', { start: 0, end: SIZE_MIB * MiB - 1 }),
      createWriteStream(file),
    )
    type Run = { seconds: number; peakRssMib: number; baseMib: number }
    const runs: Record<string, Run[]> = { sdk: [], store: [] }
    for (const method of ['sdk', 'store', 'sdk', 'store']) {
      const out = execFileSync(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(import.meta.url), method, file, folder],
        { encoding: 'utf8', cwd: root },
      )
      const run = JSON.parse(out.trim().split('\n').at(-1)!) as Run
      runs[method]!.push(run)
      console.log(
        `${method.padEnd(6)} ${SIZE_MIB} MiB in ${run.seconds.toFixed(1)} s: ${(SIZE_MIB / run.seconds).toFixed(1)} MiB/s, peak RSS ${run.peakRssMib.toFixed(0)} MiB (${run.baseMib.toFixed(0)} before the upload)`,
      )
    }
    const best = (m: string) => Math.min(...runs[m]!.map((r) => r.seconds))
    const rss = (m: string) => Math.max(...runs[m]!.map((r) => r.peakRssMib))
    const grew = (m: string) => Math.max(...runs[m]!.map((r) => r.peakRssMib - r.baseMib))
    console.log(
      `\nbest of two: sdk ${(SIZE_MIB / best('sdk')).toFixed(1)} MiB/s, store ${(SIZE_MIB / best('store')).toFixed(1)} MiB/s; store/sdk time ${(best('store') / best('sdk')).toFixed(2)}×`,
    )
    console.log(
      `peak RSS: sdk ${rss('sdk').toFixed(0)} MiB (+${grew('sdk').toFixed(0)} over its start), store ${rss('store').toFixed(0)} MiB (+${grew('store').toFixed(0)}), for a ${SIZE_MIB} MiB file`,
    )
  } finally {
    await rm(work, { recursive: true, force: true })
    for await (const b of blobs.listBlobsFlat({
      prefix: `${folder}/`,
      includeUncommitedBlobs: true,
    }))
      await blobs.deleteBlob(b.name).catch(() => undefined)
  }
}

const [method, file, folder] = process.argv.slice(2)
if (method && file && folder) await child(method, file, folder)
else await main()
