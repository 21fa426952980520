// Typed errors shared by the agent and the engine. Each error has a stable machine
// code (UPPER_SNAKE) and a kind; the kind alone decides the gRPC status and the HTTP
// status, in one place per transport (host-agent/grpc/status.ts, engine-plugin/api/errors.ts).

export type ErrorKind =
  | 'invalid' // bad input: 400 / INVALID_ARGUMENT
  | 'unsupported' // a body in a media type, charset or encoding not taken: 415 / INVALID_ARGUMENT
  | 'too-large' // a body over the size limit: 413 / RESOURCE_EXHAUSTED
  | 'unauthenticated' // 401 / UNAUTHENTICATED
  | 'denied' // 403 / PERMISSION_DENIED
  | 'not-found' // 404 / NOT_FOUND
  | 'conflict' // 409 / ALREADY_EXISTS or FAILED_PRECONDITION
  | 'unprocessable' // well-formed but not for this target (a Linux operation on a Windows guest): 422 / FAILED_PRECONDITION
  | 'unavailable' // 503 / UNAVAILABLE
  | 'failed' // the work itself failed (tool error, timeout, lease lost): 500 / ABORTED
  | 'cancelled' // 409 / CANCELLED
  | 'internal'; // 500 / INTERNAL

export type ErrorDetails = Record<string, unknown>;

/** An error as it is stored and answered (job records, API bodies, agent replies). */
export interface ErrorInfo {
  code: string;
  message: string;
  details: ErrorDetails;
}

export class SysprepError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = new.target.name;
  }

  /** The one error-to-JSON: API error bodies, a job's `error`, a reset's `resetError`. */
  toJSON(): ErrorInfo {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** Bad input; `field` is the path of the value at fault, e.g. `params.hostname`. */
export class InputError extends SysprepError {
  constructor(readonly field: string, message: string, code = 'INVALID_ARGUMENT', details: ErrorDetails = {}) {
    super('invalid', code, `${field}: ${message}`, { field, ...details });
  }
}

/** One problem of a room file, where it was written (1-based line and column). */
export interface RoomFileProblem {
  line: number;
  column: number;
  /** Key path, e.g. `rooms.lab1.vms[0].ids` (empty for the file as a whole). */
  key: string;
  message: string;
}

/**
 * A room file refused with every problem found (shared/rooms/roomFile.ts): 400
 * ROOM_FILE_INVALID, `field` the first problem's key, the message one
 * `FILE:LINE:COLUMN: KEY: MESSAGE` line per problem (compiler style, for the CLI).
 */
export class RoomFileError extends InputError {
  constructor(readonly file: string, readonly problems: readonly RoomFileProblem[], more = 0) {
    super(problems[0]?.key || 'file', '', 'ROOM_FILE_INVALID', { file, errors: problems, ...(more ? { more } : {}) });
    const lines = problems.map((p) => `${file}:${p.line}:${p.column}: ${p.key ? `${p.key}: ` : ''}${p.message}`);
    if (more) lines.push(`${file}: and ${more} more problems`);
    this.message = lines.join('\n');
  }
}

/**
 * A request whose fields do not fit the target's guest OS (Linux operations on a
 * Windows guest, Windows customisations on a Linux one): 422 GUEST_OS_MISMATCH with
 * every field at fault (`fields`, and `vms` per VM for a bulk request), nothing run.
 */
export class GuestOsMismatchError extends SysprepError {
  constructor(message: string, readonly fields: readonly string[], details: ErrorDetails = {}) {
    super('unprocessable', 'GUEST_OS_MISMATCH', message, { field: fields[0], fields, ...details });
  }
}

export class NotFoundError extends SysprepError {
  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super('not-found', code, message, details);
  }
}

export class ConflictError extends SysprepError {
  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super('conflict', code, message, details);
  }
}

export class PermissionError extends SysprepError {
  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super('denied', code, message, details);
  }
}

export class AuthError extends SysprepError {
  constructor(message = 'a bearer token is required') {
    super('unauthenticated', 'UNAUTHENTICATED', message, { field: 'Authorization' });
  }
}

export class UnavailableError extends SysprepError {
  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super('unavailable', code, message, details);
  }
}

/** The work ran and failed: tool error, timeout, lease lost, interrupted. */
export class JobFailure extends SysprepError {
  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super('failed', code, message, details);
  }
}

export class CancelledError extends SysprepError {
  constructor(message = 'the job was cancelled') {
    super('cancelled', 'CANCELLED', message);
  }
}

/** Wraps anything thrown into a SysprepError without losing a typed one. */
export function asSysprepError(err: unknown): SysprepError {
  if (err instanceof SysprepError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SysprepError('internal', 'INTERNAL', message);
}
