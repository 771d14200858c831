/**
 * /v1/datasets: streamed upload (raw body or multipart), list, get, preview, delete.
 *
 * This plugin is encapsulated: its own content-type parsers (../upload-body.ts) hand the
 * request stream to the handler untouched, so no upload is ever buffered by a body parser
 * and the JSON routes elsewhere keep theirs.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { DatasetRef, nameProblem } from '../../datasets/dataset-schema.js'
import { errors, SparkgateError } from '../../errors.js'
import type { DatasetOwner } from '../../datasets/dataset-service.js'
import { principalOf, recordAudit, tenantOf } from '../caller.js'
import { readUploadBody, registerUploadParsers } from '../upload-body.js'
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

  await registerUploadParsers(app, limit)

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
        summary: 'Upload a dataset (streamed to HDFS or the backend’s storage account)',
        description:
          'The body is the file: raw (any content type, `?name=` required) or multipart/form-data with one file part. The bytes stream to a temp file in the tenant’s area of the store `?backend=` reads (HDFS; a Synapse backend’s ADLS Gen2 account) while their SHA-256 is computed, then move to `<root>/tenants/<tenant>/datasets/<sha256>/<name>`. 201 with the dataset; the same bytes again (from the same tenant) → 200 with the existing one. A cut upload leaves nothing; an upload over the tenant’s storage quota is a 413 naming it.',
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
      const { source, filename, truncated } = await readUploadBody(request, reply, {
        limit,
        precheck: (bytes) => service.checkQuota(who, bytes),
      })
      const name = request.query.name ?? filename
      const backend = request.query.backend ?? app.backends.defaultName
      if (!app.backends.byName.has(backend)) {
        source.resume() // the client may go on sending: read its bytes to nowhere
        throw errors.validation(
          'querystring.backend',
          'known-backend',
          `no backend named '${backend}' (configured: ${[...app.backends.byName.keys()].join(', ')})`,
        )
      }
      if (name === undefined) throw errors.validation('querystring.name', 'required', 'is required')
      const problem = nameProblem(name)
      if (problem !== undefined) {
        source.resume() // the client may go on sending: read its bytes to nowhere
        const field = request.query.name === undefined ? 'body.file.filename' : 'querystring.name'
        throw errors.validation(field, 'name', problem)
      }
      try {
        const { dataset, created } = await service.upload(who, source, name, app.stores.of(backend))
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
