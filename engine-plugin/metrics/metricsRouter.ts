// GET /metrics (Prometheus text format) and the request timing of every request after it
// in the app: one router, registered with one line where the app is built (api/app.ts).
// Authentication (decision 60): the API's bearer tokens, any role (Prometheus sends one
// with `authorization: { credentials_file: ... }`), unless [engine] metrics_public.
import express, { RequestHandler, Router } from 'express';
import { exposition } from '../../shared/metrics';
import type { EngineMetrics } from './EngineMetrics';
import { requestMetrics } from './requestMetrics';

export const METRICS_PATH = '/metrics';

/** `auth`: the API's authentication middleware, or null when the metrics are public. */
export function metricsRouter(metrics: EngineMetrics, auth: RequestHandler | null): Router {
  const router = express.Router();
  router.use(requestMetrics(metrics.requests));
  router.get(METRICS_PATH, ...(auth ? [auth] : []), async (_req, res, next) => {
    try {
      const { contentType, body } = await exposition(metrics.registry);
      res.set('content-type', contentType).send(body);
    } catch (err) {
      next(err);
    }
  });
  return router;
}
