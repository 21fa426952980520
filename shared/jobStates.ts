// How a job ends, defined once for both sides. The agent's wire states are these names
// upper-cased (proto/agent.proto JobState); the engine's bulk job can also end `partial`
// (some children succeeded), which no single run on an agent can.
//
// `incomplete`: the tool succeeded and the overlays were committed, but a warning of the
// run says a requested customisation or operation was not applied (the job's warnings
// with a field name it). Neither a success nor a failure: the disk did change.
export const LEAF_FINAL_STATES = ['succeeded', 'incomplete', 'failed', 'cancelled'] as const;
export const FINAL_JOB_STATES = [...LEAF_FINAL_STATES, 'partial'] as const;

/** Every state of an engine job, in the order a job goes through them. */
export const JOB_STATES = ['pending', 'running', 'cancelling', ...FINAL_JOB_STATES] as const;

export type LeafFinalState = (typeof LEAF_FINAL_STATES)[number];
export type FinalJobState = (typeof FINAL_JOB_STATES)[number];
export type JobState = (typeof JOB_STATES)[number];
export type WireFinalState = Uppercase<LeafFinalState>;

/** The agent's final states, as they cross the wire. */
export const FINAL_WIRE_STATES: ReadonlySet<WireFinalState> = new Set(LEAF_FINAL_STATES.map((s) => s.toUpperCase() as WireFinalState));

/** The final states whose run was committed to the disks (the VM's disk did change). */
export const COMMITTED_STATES: ReadonlySet<string> = new Set<LeafFinalState>(['succeeded', 'incomplete']);
export const isCommitted = (state: string): boolean => COMMITTED_STATES.has(state);
