// The OpenAPI 3.1 document of the API, generated from the route table and the zod
// schemas of the request bodies (served at /api/v1/openapi.json).
import { z } from 'zod';
import type { RouteTable } from './RouteTable';

const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'details'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object' } },
    },
  },
};

export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

export function buildOpenApi(table: RouteTable, version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of table.routes) {
    const p = `/api/v1${openApiPath(r.path)}`;
    const params = [...r.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const query = (r.query ?? []).map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } }));
    const ok = r.sse
      ? { description: 'Server-Sent Events: `snapshot` (the job), then `state` and `operation` events; ends after the final state', content: { 'text/event-stream': { schema: { type: 'string' } } } }
      : r.status === 204
        ? { description: 'Done; no body' }
        : { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } };
    paths[p] ??= {};
    paths[p][r.method] = {
      tags: [r.tag],
      summary: r.summary,
      operationId: `${r.method}${r.path.replace(/[/:{}-]+(\w)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      parameters: [...params, ...query],
      ...(r.body ? { requestBody: { required: !r.emptyBody, content: { 'application/json': { schema: z.toJSONSchema(r.body, { unrepresentable: 'any', io: 'input' }) } } } } : {}),
      security: r.role ? [{ bearer: [] }] : [],
      'x-minimum-role': r.role ?? 'none',
      responses: {
        [String(r.status)]: ok,
        default: { description: 'Error', content: { 'application/json': { schema: errorSchema } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'ovirt-sysprep engine API', version, description: 'virt-sysprep as a first-class action on VMs, pools and templates. See docs/api.md.' },
    servers: [{ url: '/' }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
