// Who asks: the route table authenticates a request into a Caller, the job service and
// the authorizers (JobAuthorizer, OvirtAuthorizer) decide on it.
import type { Role } from '../Role';

export interface Caller {
  name: string;
  role: Role;
  /** A user who came with an oVirt SSO token (the UI plugin): oVirt authorizes each VM. */
  ovirt?: { userId: string; token: string };
}
