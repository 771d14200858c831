/**
 * Every /v1 route with the access it needs, for the table-driven security tests. A test
 * fails when a route exists that is not listed here (test/security/tenancy.test.ts), so
 * a new route cannot skip them.
 */
export interface RouteCase {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** with :job, :dataset, :tenant placeholders */
  url: string
  access: 'read' | 'write' | 'admin'
  /** names one tenant's record (a job or dataset): another tenant gets a 404 */
  target?: 'job' | 'dataset' | 'webhook'
  /** a body for routes that take one (invalid on purpose: nothing is made) */
  payload?: Record<string, unknown>
}

const job = { method: 'GET' as const, access: 'read' as const, target: 'job' as const }
const webhook = { method: 'GET' as const, access: 'read' as const, target: 'webhook' as const }

export const ROUTES: RouteCase[] = [
  { method: 'POST', url: '/v1/jobs', access: 'write', payload: { nope: 1 } },
  { method: 'GET', url: '/v1/jobs', access: 'read' },
  { ...job, url: '/v1/jobs/:job' },
  { ...job, url: '/v1/jobs/:job/logs' },
  { ...job, url: '/v1/jobs/:job/events' },
  { ...job, url: '/v1/jobs/:job/result' },
  { ...job, url: '/v1/jobs/:job/result/plots' },
  { ...job, url: '/v1/jobs/:job/result/plots/roc' },
  { ...job, url: '/v1/jobs/:job/output' },
  { method: 'DELETE', url: '/v1/jobs/:job', access: 'write', target: 'job' },
  { method: 'POST', url: '/v1/datasets', access: 'write' },
  { method: 'GET', url: '/v1/datasets', access: 'read' },
  { method: 'GET', url: '/v1/datasets/:dataset', access: 'read', target: 'dataset' },
  { method: 'GET', url: '/v1/datasets/:dataset/preview', access: 'read', target: 'dataset' },
  { method: 'DELETE', url: '/v1/datasets/:dataset', access: 'write', target: 'dataset' },
  { method: 'GET', url: '/v1/models', access: 'read' },
  { method: 'GET', url: '/v1/models/nothing-here', access: 'read' },
  {
    method: 'PUT',
    url: '/v1/models/nothing-here/aliases/champion',
    access: 'write',
    payload: { version: 'x' },
  },
  { method: 'DELETE', url: '/v1/models/nothing-here/aliases/champion', access: 'write' },
  { method: 'DELETE', url: '/v1/models/nothing-here/versions/1', access: 'write' },
  { method: 'GET', url: '/v1/backends', access: 'read' },
  { method: 'GET', url: '/v1/engines', access: 'read' },
  { method: 'POST', url: '/v1/engines', access: 'write', payload: { backend: 'nope' } },
  { method: 'GET', url: '/v1/engines/eng-none', access: 'read' },
  { method: 'DELETE', url: '/v1/engines/eng-none', access: 'write' },
  { method: 'GET', url: '/v1/me', access: 'read' },
  { method: 'POST', url: '/v1/tenants', access: 'admin', payload: { name: 'X' } },
  { method: 'GET', url: '/v1/tenants', access: 'admin' },
  { method: 'GET', url: '/v1/tenants/:tenant', access: 'admin' },
  {
    method: 'PATCH',
    url: '/v1/tenants/:tenant',
    access: 'admin',
    payload: { quotas: { maxQueuedJobs: 1000 } },
  },
  {
    method: 'POST',
    url: '/v1/tenants/:tenant/keys',
    access: 'admin',
    payload: { role: 'nobody' },
  },
  { method: 'GET', url: '/v1/tenants/:tenant/keys', access: 'admin' },
  { method: 'DELETE', url: '/v1/tenants/:tenant/keys/key_none', access: 'admin' },
  { method: 'GET', url: '/v1/audit', access: 'admin' },
  { method: 'GET', url: '/v1/events', access: 'read' },
  { method: 'POST', url: '/v1/webhooks', access: 'write', payload: { url: 'ftp://x' } },
  { method: 'GET', url: '/v1/webhooks', access: 'read' },
  { ...webhook, url: '/v1/webhooks/:webhook' },
  {
    method: 'PATCH',
    url: '/v1/webhooks/:webhook',
    access: 'write',
    target: 'webhook',
    payload: { url: 'ftp://x' },
  },
  {
    method: 'POST',
    url: '/v1/webhooks/:webhook/rotate-secret',
    access: 'write',
    target: 'webhook',
  },
  { ...webhook, url: '/v1/webhooks/:webhook/deliveries' },
  {
    method: 'POST',
    url: '/v1/webhooks/:webhook/deliveries/none/replay',
    access: 'write',
  },
  { method: 'POST', url: '/v1/webhooks/:webhook/replay', access: 'write', target: 'webhook' },
  // last: it deletes the seeded webhook
  { method: 'DELETE', url: '/v1/webhooks/:webhook', access: 'write', target: 'webhook' },
]

export function fillRoute(
  url: string,
  ids: { jobId: string; datasetId: string; webhookId?: string; tenant?: string },
): string {
  return url
    .replace(':webhook', ids.webhookId ?? 'wh_none')
    .replace(':job', ids.jobId)
    .replace(':dataset', ids.datasetId)
    .replace(':tenant', ids.tenant ?? 'platform')
}

/** The routes of the OpenAPI document as `METHOD /path/{param}` (to compare with ROUTES). */
export function routeKey(method: string, url: string) {
  return `${method.toUpperCase()} ${url.replace(/:([a-z]+)/g, '{$1}')}`
}
