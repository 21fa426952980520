// The sysprep request body (design.md section 6), validated at the edge.
import { z } from 'zod';

const opList = z.array(z.string()).max(128);

export const sysprepBodySchema = z
  .object({
    profile: z.string().min(1).optional(),
    operations: z.object({ enable: opList.optional(), disable: opList.optional(), only: opList.optional() }).strict().optional(),
    params: z.record(z.string(), z.unknown()).optional(),
    /** Param keys whose profile value the request's replaces instead of adding to (shared/catalog/mergeParams.ts). */
    replace: z.array(z.string()).max(64).optional().describe("Param keys whose profile value this request's replaces (default: lists add to the profile's)"),
    dryRun: z.boolean().default(false),
    mode: z.enum(['safe', 'in_place']).optional(),
  })
  .strict();
export type SysprepBody = z.infer<typeof sysprepBodySchema>;
/** A request with nothing in it: the profile's (or the verb's default profile's) settings as they are. */
export const EMPTY_SYSPREP_BODY: SysprepBody = sysprepBodySchema.parse({});

export const bulkBodySchema = sysprepBodySchema.extend({
  vms: z.array(z.string().min(1)).min(1, 'must list at least one VM').max(10_000),
});
export type BulkBody = z.infer<typeof bulkBodySchema>;
