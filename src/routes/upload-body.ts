/**
 * Reading an upload body as a stream, never buffered: multipart/form-data with one file
 * part (@fastify/multipart), or the raw body of any content type. A route that takes
 * uploads registers the parsers in its own encapsulated plugin (so the JSON routes
 * elsewhere keep theirs) and reads each request's body with readUploadBody().
 */
import multipart from '@fastify/multipart'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Readable } from 'node:stream'
import { errors, SparkgateError } from '../errors.js'

/** An upload's bytes as they arrive, and what came with them. */
export interface UploadBody {
  source: Readable
  /** the file part's name (multipart); undefined for a raw body */
  filename: string | undefined
  /** whether the bytes were cut at the limit (multipart only: a raw body is counted by its reader) */
  truncated: () => boolean
}

/**
 * Hands the request stream to the handler untouched, for any content type, and parses
 * multipart/form-data lazily with one file part of at most `limit` bytes.
 */
export async function registerUploadParsers(app: FastifyInstance, limit: number) {
  app.removeAllContentTypeParsers()
  // any content type: the handler reads request.raw as a stream
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined))
  await app.register(multipart, {
    // one file part; one byte over the limit so that the size check after the upload sees it
    limits: { files: 1, fileSize: limit + 1, fields: 5, parts: 6, fieldSize: 1024 },
  })
}

/**
 * The body of an upload. What can be refused before a byte is read is (a raw body
 * declared over `limit` or empty; one `precheck` refuses, e.g. a quota), with
 * `connection: close` where the client would otherwise keep sending; a broken multipart
 * body is a 400.
 */
export async function readUploadBody(
  request: FastifyRequest,
  reply: FastifyReply,
  options: { limit: number; precheck?: (declaredBytes: number) => Promise<void> },
): Promise<UploadBody> {
  if (request.isMultipart()) {
    let part
    try {
      part = await request.file()
    } catch (error) {
      if (error instanceof SparkgateError) throw error
      // no boundary, a cut body, a part too many: the client's multipart is broken
      reply.header('connection', 'close')
      throw errors.validation(
        'body',
        'multipart',
        `is not valid multipart/form-data: ${(error as Error).message}`,
      )
    }
    if (!part) throw errors.validation('body.file', 'required', 'must be a file part')
    return { source: part.file, filename: part.filename, truncated: () => part.file.truncated }
  }
  const declared = Number(request.headers['content-length'] ?? NaN)
  if (declared > options.limit) {
    reply.header('connection', 'close')
    throw errors.uploadTooLarge(options.limit)
  }
  if (declared === 0) throw errors.emptyUpload()
  if (declared > 0 && options.precheck) {
    try {
      await options.precheck(declared)
    } catch (error) {
      reply.header('connection', 'close')
      throw error
    }
  }
  return { source: request.raw, filename: undefined, truncated: () => false }
}
