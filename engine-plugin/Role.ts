// The engine's roles, least to most: a viewer reads, an operator starts and cancels
// jobs, an admin also sends scripts and passwords and changes the inventory. Its own
// module: the engine's config and the oVirt config both name roles, and neither may
// import the other for it (config.ts reads the [ovirt] section through OvirtConfig.ts).
export type Role = 'admin' | 'operator' | 'viewer';
export const ROLES: readonly Role[] = ['admin', 'operator', 'viewer'];
