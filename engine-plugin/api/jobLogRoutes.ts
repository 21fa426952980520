// GET /jobs/{id}/log: a leaf job's log, streamed from its agent as plain text
// (dispatch/AgentJobLog.ts). A failure after the first bytes cannot change the status any
// more: the connection is then cut, so that a client sees an incomplete answer, never a
// complete-looking log with its end missing.
import type { ApiDeps } from './deps';
import type { RouteTable } from './RouteTable';

export function jobLogRoutes(t: RouteTable, d: ApiDeps): void {
  t.add({ method: 'get', path: '/jobs/:id/log', tag: 'jobs', summary: "A VM or template job's log on its host (the virt-sysprep -v -x trace, secrets cut out), streamed as text; 409 NO_LOG for a bulk job or a job that never reached an agent", role: 'viewer', status: 200, text: true }, async ({ params, req, res }) => {
    const job = d.jobs.get(params.id, 0);
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const chunks = await d.jobLog.open(job.id, abort.signal);
    res.status(200).set({ 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    res.flushHeaders();
    try {
      for await (const chunk of chunks) {
        if (!res.write(chunk)) {
          await new Promise((r) => {
            res.once('drain', r);
            abort.signal.addEventListener('abort', r, { once: true });
          });
        }
        if (abort.signal.aborted) return undefined;
      }
      res.end();
    } catch (err) {
      d.log.warn('job log stream broken', { jobId: job.id, error: (err as Error).message, path: req.path });
      res.destroy();
    }
    return undefined;
  });
}
