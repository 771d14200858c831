/**
 * What every store's upload shares: the bytes pass through one stream that counts them,
 * hashes them (SHA-256) and keeps their head for sniffing, fails past a size limit, and
 * is cut when the client stops sending or goes away. Memory stays flat: bytes are never
 * gathered here.
 */
import { createHash } from 'node:crypto'
import { Transform, type Readable, type TransformCallback } from 'node:stream'
import { StoreError, type StagedUpload } from './file-store.js'

/** How many leading bytes of an upload are kept for sniffing its columns. */
export const SNIFF_BYTES = 64 * 1024

export class UploadTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the upload is larger than the limit of ${limit} bytes`)
    this.name = 'UploadTooLargeError'
  }
}

export class UploadIdleError extends Error {
  constructor(readonly idleMs: number) {
    super(`the upload sent no byte for ${idleMs} ms`)
    this.name = 'UploadIdleError'
  }
}

export class UploadAbortedError extends Error {
  constructor(cause?: unknown) {
    super('the client closed the connection before the upload was complete', { cause })
    this.name = 'UploadAbortedError'
  }
}

/** Counts, hashes and keeps the head of the bytes that pass; fails past `limit`. */
export class Meter extends Transform {
  readonly hash = createHash('sha256')
  size = 0
  private readonly headChunks: Buffer[] = []
  private headSize = 0

  constructor(private readonly limit: number) {
    super()
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
    this.size += chunk.length
    if (this.size > this.limit) return done(new UploadTooLargeError(this.limit))
    this.hash.update(chunk)
    if (this.headSize < SNIFF_BYTES) {
      const part = chunk.subarray(0, SNIFF_BYTES - this.headSize)
      this.headChunks.push(Buffer.from(part))
      this.headSize += part.length
    }
    done(null, chunk)
  }

  head() {
    return Buffer.concat(this.headChunks)
  }

  digest(): Omit<StagedUpload, 'tmpPath'> {
    return { sha256: this.hash.digest('hex'), size: this.size, head: this.head() }
  }
}

/**
 * Streams `source` through a Meter into `write` (a store's writer of the temp file). On any
 * failure `discard` removes what was written and the cause is rethrown: UploadTooLargeError,
 * UploadAbortedError, UploadIdleError (no byte for `idleMs`), a StoreError, or an
 * UploadAbortedError wrapping anything else.
 */
export async function meteredUpload(
  source: Readable,
  limit: number,
  idleMs: number,
  write: (body: Readable, signal: AbortSignal) => Promise<void>,
  discard: () => Promise<void>,
): Promise<Omit<StagedUpload, 'tmpPath'>> {
  const meter = new Meter(limit)
  const controller = new AbortController()
  // The source is never destroyed here: on a failure it is only unpiped, so that the
  // caller can still answer (a 413 on the same connection) before closing it.
  let failure: unknown
  const fail = (error: unknown) => {
    if (failure !== undefined) return
    failure = error
    source.unpipe(meter)
    controller.abort()
    meter.destroy()
  }
  const onSourceError = (error: unknown) => fail(new UploadAbortedError(error))
  const onSourceClose = () => {
    if (!source.readableEnded) fail(new UploadAbortedError())
  }
  source.on('error', onSourceError)
  source.on('close', onSourceClose)
  meter.on('error', fail)
  // a client that stops sending is cut after idleMs without a byte
  let idle: NodeJS.Timeout | undefined
  const arm = () => {
    if (idleMs <= 0) return
    clearTimeout(idle)
    idle = setTimeout(() => fail(new UploadIdleError(idleMs)), idleMs)
  }
  const onData = () => arm()
  source.on('data', onData)
  arm()
  source.pipe(meter)
  try {
    await write(meter, controller.signal)
    if (failure !== undefined)
      throw failure instanceof Error ? failure : new UploadAbortedError(failure)
  } catch (error) {
    fail(error)
    await discard()
    const cause = failure ?? error
    if (
      cause instanceof UploadTooLargeError ||
      cause instanceof UploadAbortedError ||
      cause instanceof UploadIdleError
    )
      throw cause
    if (cause instanceof StoreError && cause.kind !== 'aborted') throw cause
    throw new UploadAbortedError(cause)
  } finally {
    clearTimeout(idle)
    source.off('data', onData)
    source.off('error', onSourceError)
    source.off('close', onSourceClose)
  }
  return meter.digest()
}
