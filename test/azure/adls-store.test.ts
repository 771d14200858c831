/**
 * The ADLS Gen2 adapter of the storage port (src/storage/adls-store.ts) against the stack's
 * Azurite with the real Blob SDK: an upload staged block by block and placed at its
 * content address, read back whole, by range and as a listing; a cut upload, an upload
 * past its limit and a client that stops sending leave no blob, committed or not; a job
 * file staged once per content; a wrong key is refused with a clear reason and never shown.
 * Each test works in a folder of its own, removed at the end.
 */
import { createHash, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { inspect } from 'node:util'
import t from 'tap'
import { Secret } from '../../src/cluster-auth/credentials.js'
import { AdlsStore } from '../../src/storage/adls-store.js'
import {
  UploadAbortedError,
  UploadIdleError,
  UploadTooLargeError,
} from '../../src/storage/upload-stream.js'
import { uniqueId } from '../helpers/stack.js'
import { containerOf, stackDouble, type StackDouble } from '../helpers/azure.js'

const double = stackDouble()
if (!double) {
  t.comment('the stack runs no Synapse double and its storage (secure profile): skipped')
  t.plan(0)
} else {
  const container = containerOf(double)
  const key = (await readFile(double.storage.keyFile, 'utf8')).trim()

  /** A store in a folder of its own, with small blocks so that a few MiB make many. */
  const storeIn = (t: Tap, d: StackDouble, auth = new Secret(key)) => {
    const folder = `store-test/${uniqueId(t.name)}`
    const store = new AdlsStore({
      account: d.storage.account,
      container: d.storage.container,
      folder,
      blobEndpoint: d.storage.blobEndpoint,
      auth: { type: 'key', key: auth },
      caFile: d.caFile,
      blockBytes: 1024 * 1024,
      concurrency: 2,
    })
    t.teardown(() => store.discard(store.root))
    return store
  }
  type Tap = { name: string; teardown: (fn: () => unknown) => void }

  /** Every blob under a folder, uncommitted ones too. */
  const blobsUnder = async (folder: string) => {
    const names: string[] = []
    for await (const b of container.listBlobsFlat({
      prefix: `${folder.slice(1)}/`,
      includeUncommitedBlobs: true,
    }))
      names.push(b.name)
    return names
  }
  const owner = { tenant: 'acme', user: 'acme' }

  t.test('an upload is placed at its content address, read back and listed', async (t) => {
    const store = storeIn(t, double)
    const bytes = randomBytes(5 * 1024 * 1024 + 17)
    const sha256 = createHash('sha256').update(bytes).digest('hex')
    const staged = await store.upload(Readable.from([bytes]), bytes.length, owner)
    t.equal(staged.sha256, sha256)
    t.equal(staged.size, bytes.length)
    t.equal(staged.head.length, 64 * 1024, 'the head kept for sniffing')
    const path = `${store.datasetDir('acme', sha256)}/data.bin`
    t.equal(await store.placeAt(staged, path, owner), path)
    t.same(await blobsUnder(store.root), [path.slice(1)], 'one blob: the temp blob is gone')
    t.ok((await store.readFile(path))!.equals(bytes), 'read back whole')
    t.equal(store.uri(path), `abfss://sparkgate@sparkgate.dfs.core.windows.net${path}`)
    t.equal(store.pathOf(store.uri(path)), path)
    t.equal(store.pathOf('abfss://other@sparkgate.dfs.core.windows.net/x'), undefined)
    t.same(await store.list(store.datasetDir('acme', sha256)), [
      { name: 'data.bin', type: 'FILE', length: bytes.length },
    ])
    t.same(await store.list(`${store.root}/tenants`), [
      { name: 'acme', type: 'DIRECTORY', length: 0 },
    ])
    t.same(await store.list(`${store.root}/nothing`), [], 'no folder: no entries')
    t.same(await store.digest(path), { sha256, size: bytes.length, head: staged.head })
    const head = await store.open(path, { length: 1000 })
    const chunks: Buffer[] = []
    for await (const c of head) chunks.push(c as Buffer)
    t.ok(Buffer.concat(chunks).equals(bytes.subarray(0, 1000)), 'a range')
    t.equal(await store.readFile(`${path}.missing`), undefined, 'missing: undefined')

    // the same bytes placed again (a concurrent upload): kept, the new temp blob dropped
    const again = await store.upload(Readable.from([bytes]), bytes.length, owner)
    await store.placeAt(again, path, owner)
    t.same(await blobsUnder(store.root), [path.slice(1)])
    await store.remove(store.datasetDir('acme', sha256))
    t.same(await blobsUnder(store.root), [], 'removed with its folder')
  })

  t.test('a cut, an oversized or an idle upload leaves no blob', async (t) => {
    const store = storeIn(t, double)
    const cut = new Readable({ read() {} })
    const upload = store.upload(cut, Number.MAX_SAFE_INTEGER, owner)
    for (let i = 0; i < 6; i++) cut.push(randomBytes(1024 * 1024))
    await new Promise((resolve) => setTimeout(resolve, 300))
    cut.destroy(new Error('the client went away'))
    await t.rejects(upload, UploadAbortedError)
    t.same(await blobsUnder(store.root), [], 'cut: nothing, not even uncommitted blocks')

    const big = randomBytes(3 * 1024 * 1024)
    await t.rejects(store.upload(Readable.from([big]), 2 * 1024 * 1024, owner), UploadTooLargeError)
    t.same(await blobsUnder(store.root), [], 'past the limit: nothing')

    const idle = new Readable({ read() {} })
    idle.push(randomBytes(1024 * 1024 + 5))
    await t.rejects(store.upload(idle, Number.MAX_SAFE_INTEGER, owner, 300), UploadIdleError)
    idle.destroy()
    t.same(await blobsUnder(store.root), [], 'idle: nothing')
  })

  t.test('job files are staged once per content, and small files written whole', async (t) => {
    const store = storeIn(t, double)
    const uri = await store.artifactBytes(Buffer.from('print("v1")\n'), 'train.py')
    t.match(uri, /\/artifacts\/[0-9a-f]{64}\/train\.py$/)
    const path = store.pathOf(uri)!
    const first = await container.getBlockBlobClient(path.slice(1)).getProperties()
    t.equal(await store.artifactBytes(Buffer.from('print("v1")\n'), 'train.py'), uri)
    const second = await container.getBlockBlobClient(path.slice(1)).getProperties()
    t.equal(second.etag, first.etag, 'not written again')
    await store.writeFile(`${store.root}/x/spec.json`, '{"a":1}')
    await store.writeFile(`${store.root}/x/spec.json`, '{"a":2}')
    t.equal((await store.readFile(`${store.root}/x/spec.json`))!.toString(), '{"a":2}')
    t.ok(await store.exists(`${store.root}/x/spec.json`))
    await store.discard(`${store.root}/x/spec.json`)
    t.notOk(await store.exists(`${store.root}/x/spec.json`))
  })

  t.test('a wrong key is refused, with a reason that shows no key', async (t) => {
    const wrong = Buffer.alloc(64, 9).toString('base64')
    const store = storeIn(t, double, new Secret(wrong))
    const error = await store.health().then(
      () => undefined,
      (e: unknown) => e as Error & { kind: string },
    )
    t.equal(error?.kind, 'access_denied')
    t.match(error?.message, /refused the gateway's credential \(AuthorizationFailure\)/)
    t.notMatch(error?.message, wrong)
    const shown = inspect(store, { depth: 10 })
    t.notMatch(shown, wrong, 'its key never shows, in base64')
    t.notMatch(shown, Buffer.from(wrong, 'base64').toString('hex').slice(0, 32), 'or in hex')
    await storeIn(t, double).health() // the right one answers
  })
}
