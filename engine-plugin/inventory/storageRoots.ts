// Storage roots as path prefixes: the one containment test of the engine, used to pick the
// agents that see a disk (dispatch/AgentPool.ts) and to keep the files the embedded
// inventory creates inside the roots (cloneDir.ts). On strings: callers give it real
// paths when containment must hold on the file system (the agents' realpath, cloneDir's).

/** Whether `file` lies under `root` (string prefix on a path boundary). */
export function underRoot(file: string, root: string): boolean {
  const r = root.endsWith('/') ? root : `${root}/`;
  return file.startsWith(r);
}
