// The two parts of batch mode that executeBatch drives, as ports (interface + token):
// the per-VM script generator (batchScript.ts, issue 16 contract A) and the shared
// guestfish session (BatchSession.ts, contract B). The types below are those contracts'
// signatures with the composition root's bindings taken out (the guestfish executable,
// the password hasher): executeBatch only decides, the real parts are wired in
// host-agent/agent.ts.
//
// MERGE NOTE (lead): once batchScript.ts and BatchSession.ts are in, these local copies
// of their types become `export type { ... } from './batchScript'` / `'./BatchSession'`
// / `'./mountPlan'` (same shapes; structural typing already makes the real ones fit).
import type { PlannedFile } from '../sysprep/argv';

/** Contract A's input: the VM's argv as buildArgv builds it (trace off, no dry run) and its planned files. */
export interface BatchScriptInput {
  argv: readonly string[];
  files: readonly PlannedFile[];
  /** `virt-sysprep --version` of the host. */
  toolVersion: string;
}

export type BatchScript =
  | { batchable: true; script: string; secrets: string[]; steps: string[] }
  | { batchable: false; reason: string };

/** Contract A: batchScript(input, { hashPassword }) with hashPassword bound by the composition root. */
export interface BatchScripter {
  script(input: BatchScriptInput): Promise<BatchScript>;
}
export const BatchScripter = Symbol('BatchScripter');

/** Contract B (mountPlan.ts): one root's mounts, "/" first. */
export interface RootMounts {
  root: string;
  mounts: { device: string; mountpoint: string }[];
}
export interface BatchMemberDisks {
  key: string;
  disks: { path: string; format: string }[];
}
export interface MemberPlan {
  key: string;
  roots: RootMounts[];
}

/** Contract B: an open BatchSession. */
export interface BatchSessionHandle {
  plan(): Promise<Array<{ key: string; plan?: MemberPlan; alone?: string }>>;
  runScript(root: RootMounts, scriptPath: string, onLine: (line: string) => void): Promise<{ ok: true } | { ok: false; error: string }>;
  close(): Promise<void>;
  /** The guestfish process (journaled on each member, so a restarted agent stops an orphan); optional in contract B. */
  readonly pid?: number;
}

/** Contract B: BatchSession.open with `bin` (the guestfish executable) bound by the composition root. */
export interface BatchSessions {
  open(opts: { members: BatchMemberDisks[]; env: NodeJS.ProcessEnv; timeoutMs: number; logPath: string; signal: AbortSignal }): Promise<BatchSessionHandle>;
}
export const BatchSessions = Symbol('BatchSessions');
