// Exit codes of the CLI and the errors that carry them. The rule: 2 means "fix the
// command" (usage, unreadable input file, and the API refusing the request as invalid,
// unauthenticated, forbidden or naming something unknown: 400, 401, 403, 404); 1 means
// "the command was right but the work failed or cannot be done now" (job failed or
// cancelled, 409 conflicts, 5xx, engine unreachable); 3 is a bulk job that ended partial;
// 4 a job that ended incomplete (committed, but a requested customisation or operation
// was not applied: its warnings say which);
// 141 (128 + SIGPIPE): the reader of stdout closed it early (shared/brokenPipe.ts).

export const EXIT = { ok: 0, failed: 1, usage: 2, partial: 3, incomplete: 4, interrupted: 130 } as const;

/** Final job state -> exit code. */
export function exitCodeForState(state: string): number {
  if (state === 'succeeded') return EXIT.ok;
  if (state === 'partial') return EXIT.partial;
  if (state === 'incomplete') return EXIT.incomplete;
  return EXIT.failed;
}

/** Bad invocation found by the CLI itself (nothing was sent). */
export class UsageError extends Error {
  readonly exitCode = EXIT.usage;
}

/** An answer {"error": {code, message, details}} of the engine. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  get exitCode(): number {
    return [400, 401, 403, 404].includes(this.status) ? EXIT.usage : EXIT.failed;
  }

  /** The field the engine named (`params.hostname`, `operations.enable[1]`), if any. */
  get field(): string | undefined {
    return typeof this.details.field === 'string' ? this.details.field : undefined;
  }
}

/** The engine could not be reached or answered something that is not the API. */
export class ConnectionError extends Error {
  readonly exitCode = EXIT.failed;
}
