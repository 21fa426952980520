// API request durations by route PATTERN (`/api/v1/jobs/:id`), never the raw URL: ids,
// names and query strings (which may hold an access_token) stay out of the labels, and
// the number of series stays bounded by the route table. A request no route answered
// (a static file of the web page, a 404, one refused before routing) is `route="other"`.
import type { Request, RequestHandler } from 'express';
import type { Histogram } from 'prom-client';

export const OTHER_ROUTE = 'other';

/**
 * The matched route's full pattern. Express gives the pattern relative to its router
 * (req.route.path) and the router's mount in req.baseUrl, but resets req.baseUrl when a
 * handler fails (next(err)); the mount is then the leading segments of the path, as many
 * as the path has beyond the pattern's (mounts hold no parameters).
 */
export function routePattern(req: Pick<Request, 'route' | 'baseUrl' | 'originalUrl'>): string {
  const pattern: unknown = req.route?.path;
  if (typeof pattern !== 'string') return OTHER_ROUTE;
  if (req.baseUrl) return req.baseUrl + pattern;
  const segments = (s: string) => s.split('/').filter(Boolean);
  const actual = segments(req.originalUrl.split('?')[0]);
  const extra = actual.length - segments(pattern).length;
  return extra > 0 ? `/${actual.slice(0, extra).join('/')}${pattern}` : pattern;
}

/** Observes each request's duration when its response is done (or its connection closed: an SSE stream left by its client). */
export function requestMetrics(histogram: Histogram<'method' | 'route' | 'status'>): RequestHandler {
  return (req, res, next) => {
    const end = histogram.startTimer();
    res.once('close', () => end({ method: req.method, route: routePattern(req), status: String(res.statusCode) }));
    next();
  };
}
