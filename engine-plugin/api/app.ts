// The express application: authentication, the route table under /api/v1 (which reads
// bodies after the role check: RouteTable, body.ts), the OpenAPI document, and the one
// error middleware.
import express, { Express } from 'express';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { browserBundleDir } from '../../shared/browser/bundleDir';
import { authMiddleware } from './auth';
import { catalogRoutes, ENGINE_VERSION } from './catalogRoutes';
import type { ApiDeps } from './deps';
import { errorMiddleware, routeNotFound } from './errors';
import { inventoryRoutes } from './inventoryRoutes';
import { jobLogRoutes } from './jobLogRoutes';
import { jobRoutes } from './jobRoutes';
import { leaderProxy } from '../standby/leaderProxy';
import { metricsRouter } from '../metrics/metricsRouter';
import { buildOpenApi } from './openapi';
import { roomRoutes } from './roomRoutes';
import { RouteTable } from './RouteTable';
import { snapshotRoutes } from './snapshotRoutes';

export const API_BASE = '/api/v1';
const PUBLIC = new Set(['/health', '/openapi.json']);

/** engine-plugin/NAME (not compiled): beside this file in the sources, three levels up from dist/. */
const staticDir = (name: string) =>
  [path.resolve(__dirname, '..', name), path.resolve(__dirname, '..', '..', '..', 'engine-plugin', name)].find((d) => existsSync(d));

export function createRouteTable(d: ApiDeps): RouteTable {
  const table = new RouteTable();
  catalogRoutes(table, d);
  inventoryRoutes(table, d);
  snapshotRoutes(table, d);
  roomRoutes(table, d);
  jobRoutes(table, d);
  jobLogRoutes(table, d);
  return table;
}

export function createApp(d: ApiDeps): { app: Express; table: RouteTable } {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // every answer is live state: no client revalidates, so no body hashing
  app.set('query parser', 'simple');
  const table = createRouteTable(d);
  const openapi = buildOpenApi(table, ENGINE_VERSION);
  const auth = authMiddleware(d.config.tokens, d.externalAuth);

  if (d.metrics) app.use(metricsRouter(d.metrics, d.config.metricsPublic ? null : auth)); // first: it times every request after it
  if (d.accessLog) app.use(d.accessLog.middleware(table.routes.flatMap((r) => r.query ?? []))); // every request, answered or refused
  app.get(`${API_BASE}/openapi.json`, (_req, res) => void res.json(openapi));
  app.use(API_BASE, (req, res, next) => (PUBLIC.has(req.path) ? next() : auth(req, res, next)));
  // A standby engine forwards what changes state to the leader (standby/leaderProxy.ts).
  if (d.leadership) app.use(API_BASE, leaderProxy(d.leadership));
  app.use(API_BASE, table.router);
  // The admin web page and the oVirt UI plugin files: static, public (the page signs in with a token).
  // /ui/lib: the shared checks built for the browser (npm run build), see shared/browser/.
  const statics: [string, string | undefined][] = [['/ui/lib', browserBundleDir().dir], ['/ui', staticDir('web')], ['/ui-plugin', staticDir('ui-plugin')]];
  for (const [url, dir] of statics) if (dir) app.use(url, express.static(dir));
  app.use(routeNotFound);
  app.use(errorMiddleware(d.log));
  return { app, table };
}
