/**
 * /v1/datasets: streamed upload (raw body or multipart), list, get, preview, delete.
 *
 * This plugin is encapsulated: its own content-type parsers hand the request stream to
 * the handler untouched (any content type; multipart through @fastify/multipart), so no
 * upload is ever buffered by a body parser and the JSON routes elsewhere keep theirs.
 */
import multipart from '@fastify/multipart'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Readable } from 'node:stream'
import { DatasetRef, nameProblem } from '../../datasets/dataset-schema.js'
import { errors, SparkgateError } from '../../errors.js'
import type { DatasetOwner } from '../../datasets/dataset-service.js'
import { principalOf, recordAudit, tenantOf } from '../caller.js'
import {
  DatasetIdParams,
  DatasetList,
  ListQuery,
  PreviewQuery,
  PreviewSchema,
  Problem,
  UploadBodyDoc,
  UploadQuery,
} from './schemas.js'

export const datasetRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = app.datasets
  const limit = service.maxBytes

  app.removeAllContentTypeParsers()
  // any content type: the handler reads request.raw as a stream
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined))
  await app.register(multipart, {
    // one file part; one byte over the limit so that the size check below sees it
    limits: { files: 1, fileSize: limit + 1, fields: 5, parts: 6, fieldSize: 1024 },
  })

  const owner = async (request: Parameters<typeof tenantOf>[0]): Promise<DatasetOwner> => {
    const tenant = await tenantOf(request)
    return { tenant: tenant.id, user: tenant.clusterUser, quotaBytes: tenant.quotas.datasetBytes }
  }
  const mine = (request: Parameters<typeof tenantOf>[0]) => principalOf(request).tenant

  app.post(
    '',
    {
      config: { access: 'write' },
      schema: {
        tags: ['datasets'],
        operationId: 'uploadDataset',
        summary: 'Upload a dataset (streamed to HDFS)',
        description:
          'The body is the file: raw (any content type, `?name=` required) or multipart/form-data with one file part. The bytes stream to a temp file in the tenant’s HDFS area while their SHA-256 is computed, then move to `<root>/tenants/<tenant>/datasets/<sha256>/<name>`. 201 with the dataset; the same bytes again (from the same tenant) → 200 with the existing one. A cut upload leaves nothing; an upload over the tenant’s storage quota is a 413 naming it.',
        querystring: UploadQuery,
        'x-request-body': UploadBodyDoc,
        response: {
          200: DatasetRef,
          201: DatasetRef,
          400: Problem,
          408: Problem,
          413: Problem,
          503: Problem,
        },
      },
    },
    async (request, reply) => {
      const who = await owner(request)
      let source: Readable
      let name = request.query.name
      let truncated: () => boolean = () => false
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
        name ??= part.filename
        source = part.file
        truncated = () => part.file.truncated
      } else {
        const declared = Number(request.headers['content-length'] ?? NaN)
        if (declared > limit) {
          reply.header('connection', 'close')
          throw errors.uploadTooLarge(limit)
        }
        if (declared === 0) throw errors.emptyUpload()
        if (declared > 0) {
          try {
            await service.checkQuota(who, declared)
          } catch (error) {
            reply.header('connection', 'close')
            throw error
          }
        }
        if (name === undefined)
          throw errors.validation('querystring.name', 'required', 'is required')
        source = request.raw
      }
      const problem = name === undefined ? 'is required' : nameProblem(name)
      const field = request.query.name === undefined ? 'body.file.filename' : 'querystring.name'
      if (problem !== undefined || name === undefined) {
        source.resume()
        throw errors.validation(field, 'name', problem ?? 'is required')
      }
      try {
        const { dataset, created } = await service.upload(who, source, name)
        if (truncated()) throw errors.uploadTooLarge(limit)
        reply.header('location', `/v1/datasets/${dataset.id}`)
        return await reply.code(created ? 201 : 200).send(dataset)
      } catch (error) {
        if (error instanceof SparkgateError && error.status === 413)
          reply.header('connection', 'close')
        throw error
      }
    },
  )

  app.get(
    '',
    {
      config: { access: 'read' },
      schema: {
        tags: ['datasets'],
        operationId: 'listDatasets',
        summary: 'List datasets, newest first',
        querystring: ListQuery,
        response: { 200: DatasetList, 400: Problem },
      },
    },
    async (request) => service.list(mine(request), request.query.limit, request.query.cursor),
  )

  app.get(
    '/:id',
    {
      config: { access: 'read' },
      schema: {
        tags: ['datasets'],
        operationId: 'getDataset',
        summary: 'One dataset',
        params: DatasetIdParams,
        response: { 200: DatasetRef, 400: Problem, 404: Problem },
      },
    },
    async (request) => service.mustGet(mine(request), request.params.id),
  )

  app.get(
    '/:id/preview',
    {
      config: { access: 'read' },
      schema: {
        tags: ['datasets'],
        operationId: 'previewDataset',
        summary: 'The first rows (streamed from HDFS, never the whole file)',
        params: DatasetIdParams,
        querystring: PreviewQuery,
        response: { 200: PreviewSchema, 404: Problem, 415: Problem, 503: Problem },
      },
    },
    async (request) => service.preview(mine(request), request.params.id, request.query.rows),
  )

  app.delete(
    '/:id',
    {
      config: { access: 'write' },
      schema: {
        tags: ['datasets'],
        operationId: 'deleteDataset',
        summary: 'Delete a dataset',
        description:
          'Removes the record and the bytes. 409 while a job that has not ended uses it.',
        params: DatasetIdParams,
        response: { 204: { type: 'null' }, 404: Problem, 409: Problem, 503: Problem },
      },
    },
    async (request, reply) => {
      await service.delete(mine(request), request.params.id)
      await recordAudit(request, 'dataset.delete', `dataset/${request.params.id}`)
      return reply.code(204).send(null)
    },
  )
}
