// Every REST route is declared here with its method, path, minimum role, body schema
// and summary: express gets the handler, openapi.ts gets the description, so the
// OpenAPI document cannot list a route that does not exist or miss one that does.
//
// The typed edge: for each request, in this order, authentication (app.ts), the role,
// the query (checkQuery), the path parameters (resolveParam: short job ids), then the body (body.ts: media type, size, depth, reserved keys) and its schema. A
// handler gets `body` already typed by its route's schema and never sees raw input.
import express, { Request, Response, Router } from 'express';
import type { z } from 'zod';
import { parseOrThrow } from '../../shared/spec';
import type { Caller } from '../jobs/Caller';
import type { Role } from '../Role';
import { requireRole } from './auth';
import { readJsonBody } from './body';

export type Method = 'get' | 'post' | 'put' | 'delete';

export interface RouteSpec<S extends z.ZodType = z.ZodType> {
  method: Method;
  /** Express path under /api/v1, e.g. /vms/:id */
  path: string;
  tag: string;
  summary: string;
  /** Minimum role; null: no authentication. */
  role: Role | null;
  body?: S;
  /** A request without any body counts as {} (the schema's defaults). Else a body is required. */
  emptyBody?: boolean;
  /** Status of a successful answer. */
  status: number;
  /** Server-Sent Events instead of JSON. */
  sse?: boolean;
  /** Plain text (streamed) instead of JSON. */
  text?: boolean;
  /** Query parameters understood. */
  query?: string[];
  /**
   * Checks the query (throws an InputError naming the parameter) before the path's
   * parameters are resolved: a bad query is a 400 even for a job that does not exist.
   */
  checkQuery?(query: Record<string, unknown>): void;
}

export interface Call<B = undefined> {
  req: Request;
  res: Response;
  caller: Caller;
  params: Record<string, string>;
  /** The body as the route's schema parsed it (undefined for routes without a body). */
  body: B;
}

/** Returns the JSON body; undefined when the handler answered itself (SSE). */
export type Handler<B = undefined> = (call: Call<B>) => Promise<unknown> | unknown;

export class RouteTable {
  readonly routes: RouteSpec[] = [];
  readonly router: Router = express.Router();
  private readonly resolvers: { prefix: string; name: string; resolve(value: string): string }[] = [];

  /**
   * Rewrites a path parameter of every route under `prefix` before its handler runs,
   * after the role check: a job's short id becomes its id for all of /jobs/:id...,
   * the routes added later included.
   */
  resolveParam(prefix: string, name: string, resolve: (value: string) => string): void {
    this.resolvers.push({ prefix, name, resolve });
  }

  add<S extends z.ZodType = z.ZodType<undefined>>(spec: RouteSpec<S>, handler: Handler<z.output<S>>): void {
    this.routes.push(spec);
    this.router[spec.method](spec.path, async (req, res) => {
      const caller = res.locals.caller as Caller;
      if (spec.role) requireRole(caller, spec.role, `${spec.method.toUpperCase()} ${spec.path}`);
      spec.checkQuery?.(req.query as Record<string, unknown>);
      const params = { ...req.params } as Record<string, string>;
      for (const r of this.resolvers) if (spec.path.startsWith(r.prefix) && params[r.name] !== undefined) params[r.name] = r.resolve(params[r.name]);
      let body: z.output<S> = undefined as z.output<S>;
      if (spec.body) {
        const raw = await readJsonBody(req, { optional: !!spec.emptyBody });
        body = parseOrThrow(spec.body, raw ?? {}, '') as z.output<S>;
      }
      const out = await handler({ req, res, caller, params, body });
      if (res.headersSent) return;
      if (out !== undefined) res.status(res.locals.status ?? spec.status).json(out);
      else if (spec.status === 204) res.status(204).end(); // a delete: no body
    });
  }
}
