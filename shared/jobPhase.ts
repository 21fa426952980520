// Where a running job is, beyond its state (agent.proto Progress.phase): the agent sets
// it, the engine carries it into Job.progress, the CLI and the web page show it. Under
// TCG most of a job is the libguestfs appliance booting, with 0 operations done: the
// phase (and how long it lasts) is what tells a waiting user that the job is alive.
export const JOB_PHASES = ['queued', 'preparing', 'starting-appliance', 'operations', 'committing'] as const;
export type JobPhase = (typeof JOB_PHASES)[number];

export const isJobPhase = (s: unknown): s is JobPhase => (JOB_PHASES as readonly unknown[]).includes(s);
