/**
 * The stack's Azurite (docker/local/services/azurite.sh), the stand-in for a Synapse
 * workspace's storage account, with the real Azure SDK (@azure/storage-blob): its blob
 * endpoint over TLS with the stack's own CA, an account and key of the stack's own (not the
 * emulator's well-known devstoreaccount1 key), found through `stack.sh status --json`.
 * A block blob staged and committed block by block, listed, read back whole; a wrong key is
 * refused; the key is never printed. Its own container, deleted at the end.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { dirname, isAbsolute, join } from 'node:path'
import { get } from 'node:https'
import { getCACertificates, rootCertificates, setDefaultCACertificates } from 'node:tls'
import { BlobServiceClient, RestError, StorageSharedKeyCredential } from '@azure/storage-blob'
import { stackPort } from '../../bench/ports.js'

const STACK = 'docker/local/stack.sh'

interface AzuriteStatus {
  up: boolean
  blobUrl: string
  account: string
  keyFile: string
  caFile: string
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
      resolve({ code, stdout })
    })
  })
}

const status = JSON.parse((await run('bash', [STACK, 'status', '--json'])).stdout) as {
  azurite: AzuriteStatus
  stateDir: string
}
const azurite = status.azurite
const key = (await readFile(azurite.keyFile, 'utf8')).trim()
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** The SDK's error of a call that must fail (its status and storage error code). */
async function refused(call: () => Promise<unknown>): Promise<{ status?: number; code?: string }> {
  try {
    await call()
  } catch (error) {
    if (!(error instanceof RestError)) throw error
    return { status: error.statusCode, code: error.code }
  }
  return {}
}

t.test('status --json names the blob endpoint, the account, its key file and the CA', async (t) => {
  t.same(Object.keys(azurite), ['up', 'blobUrl', 'account', 'keyFile', 'caFile'])
  t.match(azurite, {
    up: true,
    blobUrl: `https://127.0.0.1:${stackPort('AZURITE_BLOB_PORT')}/sparkgate`,
    account: 'sparkgate',
  })
  t.ok(isAbsolute(azurite.caFile) && azurite.caFile.endsWith('/tls/ca.pem'), azurite.caFile)
  t.ok(isAbsolute(azurite.keyFile), azurite.keyFile)
  t.equal((await stat(azurite.keyFile)).mode & 0o777, 0o600, 'the key file is 0600')
  t.equal((await stat(dirname(azurite.keyFile))).mode & 0o777, 0o700, 'its folder is 0700')
  t.equal(Buffer.from(key, 'base64').length, 64, 'the key: 64 random bytes, base64')
  const text = await run('bash', [STACK, 'status'])
  const json = await run('bash', [STACK, 'status', '--json'])
  t.match(
    text.stdout,
    /^azurite +true +https:\/\/127\.0\.0\.1:10000\/sparkgate /m,
    'a line of the text status',
  )
  t.notOk(text.stdout.includes(key) || json.stdout.includes(key), 'the key is never printed')
})

// its process, when this state directory's stack started it
const pid = (
  await readFile(join(status.stateDir, 'run', 'azurite.pid'), 'utf8').catch(() => '')
).trim()
const cmdline = pid ? await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '') : ''

t.test(
  "the key is in neither Azurite's command line nor its log",
  {
    skip: cmdline ? false : 'Azurite was not started from this state directory',
  },
  async (t) => {
    t.match(cmdline, /azurite\/dist\/src\/blob\/main\.js/, 'the pid is Azurite blob service')
    t.notOk(cmdline.includes(key), 'not on its command line')
    const log = await readFile(join(status.stateDir, 'logs', 'azurite.log'), 'utf8')
    t.notOk(log.includes(key), 'not in its log')
  },
)

/** The HTTP status of an unsigned GET, trusting `ca` only; rejects on a TLS failure. */
function unsignedGet(url: string, ca: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get(url, { ca }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${url}: timed out`)))
    req.on('error', reject)
  })
}

t.test('its certificate is signed by the stack’s CA, untrusted without it', async (t) => {
  const url = `${azurite.blobUrl}?comp=list`
  await t.rejects(unsignedGet(url, [...rootCertificates]), 'the public CAs alone refuse it')
  const ca = await readFile(azurite.caFile, 'utf8')
  t.equal(await unsignedGet(url, [ca]), 403, 'with its CA: TLS, then a 403 to an unsigned call')
})

// From here on, Node trusts the stack's CA beside the public ones (as NODE_EXTRA_CA_CERTS
// would): the SDK's own https agent then verifies Azurite's certificate.
setDefaultCACertificates([...getCACertificates('default'), await readFile(azurite.caFile, 'utf8')])

const service = new BlobServiceClient(
  azurite.blobUrl,
  new StorageSharedKeyCredential(azurite.account, key),
)

t.test('a block blob: staged block by block, committed, listed, read back whole', async (t) => {
  const container = service.getContainerClient(`sparkgate-test-${randomUUID()}`)
  await container.create()
  t.teardown(() => container.deleteIfExists())
  const names: string[] = []
  for await (const c of service.listContainers({ prefix: 'sparkgate-test-' })) names.push(c.name)
  t.ok(names.includes(container.containerName), 'the account lists the container')

  // three blocks of uneven sizes; block ids: base64 of strings of one length
  const blocks = [4 << 20, 4 << 20, (1 << 20) + 123].map((n) => randomBytes(n))
  const ids = blocks.map((_, i) =>
    Buffer.from(`block-${String(i).padStart(6, '0')}`).toString('base64'),
  )
  const blob = container.getBlockBlobClient('training/run-1/part-00000.bin')
  for (const [i, block] of blocks.entries()) await blob.stageBlock(ids[i]!, block, block.length)
  const staged = await blob.getBlockList('uncommitted')
  t.same(
    staged.uncommittedBlocks?.map((b) => b.size),
    blocks.map((b) => b.length),
    'three blocks staged, none committed yet',
  )
  await blob.commitBlockList(ids)
  const committed = await blob.getBlockList('committed')
  t.same(
    committed.committedBlocks?.map((b) => [b.name, b.size]),
    ids.map((id, i) => [id, blocks[i]!.length]),
    'committed in order',
  )

  const whole = Buffer.concat(blocks)
  const listed: { name: string; size?: number }[] = []
  for await (const b of container.listBlobsFlat({ prefix: 'training/' }))
    listed.push({ name: b.name, size: b.properties.contentLength })
  t.same(listed, [{ name: 'training/run-1/part-00000.bin', size: whole.length }], 'listed')

  const read = await blob.downloadToBuffer()
  t.equal(read.length, whole.length, `${whole.length} bytes read back`)
  t.equal(sha256(read), sha256(whole), 'the same bytes')
})

t.test('a wrong key is refused: 403', async (t) => {
  const wrong = new BlobServiceClient(
    azurite.blobUrl,
    new StorageSharedKeyCredential(azurite.account, randomBytes(64).toString('base64')),
  )
  // Azure answers a bad Shared Key signature with AuthenticationFailed; Azurite with
  // AuthorizationFailure (the same 403 and message)
  const listing = await refused(() => wrong.listContainers().next())
  t.match(
    listing,
    { status: 403, code: /^(AuthenticationFailed|AuthorizationFailure)$/ },
    `listing the containers: 403 ${listing.code}`,
  )
  const container = wrong.getContainerClient(`sparkgate-test-${randomUUID()}`)
  t.match(await refused(() => container.create()), { status: 403 }, 'nothing is created')

  // the emulator's well-known account and key: no such account here (Azurite serves
  // devstoreaccount1 only when AZURITE_ACCOUNTS names none)
  const wellKnown = new BlobServiceClient(
    `https://127.0.0.1:${stackPort('AZURITE_BLOB_PORT')}/devstoreaccount1`,
    new StorageSharedKeyCredential(
      'devstoreaccount1',
      'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
    ),
  )
  const devstore = await refused(() => wellKnown.listContainers().next())
  t.match(devstore, { status: 404 }, `devstoreaccount1 is not served (${devstore.code})`)
})
