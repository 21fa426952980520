// The two parts of batch mode that executeBatch drives, as ports (interface + token):
// the per-VM script generator (batchScript.ts, issue 16 contract A) and the shared
// guestfish session (BatchSession.ts, contract B). The types below are those contracts'
// signatures with the composition root's bindings taken out (the guestfish executable,
// the password hasher): executeBatch only decides, the real parts are wired in
// host-agent/agent.ts.
//
import type { BatchScript, BatchScriptInput } from './batchScript';
import type { BatchMemberDisks, MemberPlan, ScriptRun } from './BatchSession';
import type { RootMounts } from './mountPlan';

export type { BatchScript, BatchScriptInput, BatchMemberDisks, MemberPlan, RootMounts, ScriptRun };

/** Contract A: batchScript(input, { hashPassword }) with hashPassword bound by the composition root. */
export interface BatchScripter {
  script(input: BatchScriptInput): Promise<BatchScript>;
}
export const BatchScripter = Symbol('BatchScripter');

/** Contract B: an open BatchSession. */
export interface BatchSessionHandle {
  plan(): Promise<Array<{ key: string; plan?: MemberPlan; alone?: string }>>;
  runScript(root: RootMounts, scriptPath: string, onLine: (line: string) => void, run?: ScriptRun): Promise<{ ok: true } | { ok: false; error: string }>;
  close(): Promise<void>;
  /** The guestfish process (journaled on each member, so a restarted agent stops an orphan); optional in contract B. */
  readonly pid?: number;
}

/** Contract B: BatchSession.open with `bin` (the guestfish executable) bound by the composition root. */
export interface BatchSessions {
  open(opts: { members: BatchMemberDisks[]; env: NodeJS.ProcessEnv; timeoutMs: number; logPath: string; signal: AbortSignal }): Promise<BatchSessionHandle>;
}
export const BatchSessions = Symbol('BatchSessions');
