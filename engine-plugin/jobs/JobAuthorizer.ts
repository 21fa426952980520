// A hook the job service calls before it creates any job: may the caller act on these
// VMs / templates? The oVirt integration asks oVirt (engine-plugin/ovirt/OvirtAuthorizer.ts);
// without it, the caller's engine role (checked by the routes and plan()) is all there is.
import type { Caller } from './Caller';

export interface JobTargetRef {
  type: 'vm' | 'template';
  id: string;
  name: string;
  /** A template only read (cloned from), not written: the seal's checks do not apply. */
  readOnly?: boolean;
}

export interface JobAuthorizer {
  /** Throws a typed error (PermissionError -> 403) when the caller may not; resolves otherwise. */
  authorize(caller: Caller, targets: JobTargetRef[]): Promise<void>;
}

export const JobAuthorizer = Symbol('JobAuthorizer');

/** The embedded inventory's authorizer: engine roles only. */
export const ROLE_ONLY_AUTHORIZER: JobAuthorizer = { authorize: async () => undefined };
