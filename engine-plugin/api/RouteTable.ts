// Every REST route is declared here with its method, path, minimum role, body schema
// and summary: express gets the handler, openapi.ts gets the description, so the
// OpenAPI document cannot list a route that does not exist or miss one that does.
import express, { Request, Response, Router } from 'express';
import type { z } from 'zod';
import type { Role } from '../config';
import type { Caller } from '../jobs/JobService';
import { requireRole } from './auth';

export type Method = 'get' | 'post' | 'put' | 'delete';

export interface RouteSpec {
  method: Method;
  /** Express path under /api/v1, e.g. /vms/:id */
  path: string;
  tag: string;
  summary: string;
  /** Minimum role; null: no authentication. */
  role: Role | null;
  body?: z.ZodType;
  /** Status of a successful answer. */
  status: number;
  /** Server-Sent Events instead of JSON. */
  sse?: boolean;
  /** Query parameters understood. */
  query?: string[];
}

export interface Call {
  req: Request;
  res: Response;
  caller: Caller;
  params: Record<string, string>;
}

/** Returns the JSON body; undefined when the handler answered itself (SSE). */
export type Handler = (call: Call) => Promise<unknown> | unknown;

export class RouteTable {
  readonly routes: RouteSpec[] = [];
  readonly router: Router = express.Router();

  add(spec: RouteSpec, handler: Handler): void {
    this.routes.push(spec);
    this.router[spec.method](spec.path, async (req, res) => {
      const caller = res.locals.caller as Caller;
      if (spec.role) requireRole(caller, spec.role, `${spec.method.toUpperCase()} ${spec.path}`);
      const body = await handler({ req, res, caller, params: req.params as Record<string, string> });
      if (body !== undefined && !res.headersSent) res.status(res.locals.status ?? spec.status).json(body);
    });
  }
}
