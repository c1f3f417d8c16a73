/**
 * A wall-clock bound on the engines (`dmacheck check --time-limit SECONDS`):
 * a run that would take longer ends with a clear message instead of looking
 * like a hang. A deadline is an absolute Date.now() time, so it means the
 * same on every worker thread.
 */
export class DeadlineError extends Error {
  constructor(readonly where: string) {
    super(`stopped: time limit reached during ${where} (raise --time-limit, or make the search smaller)`);
  }
}

/** The deadline `seconds` from now, or undefined for none. */
export function deadlineAfter(seconds: number | undefined, now: number = Date.now()): number | undefined {
  return seconds === undefined ? undefined : now + seconds * 1000;
}

/** Throws a DeadlineError naming `where` once `deadline` has passed. */
export function checkDeadline(deadline: number | undefined, where: string): void {
  if (deadline !== undefined && Date.now() > deadline) throw new DeadlineError(where);
}

/** Milliseconds left before `deadline` (at least 1), or undefined for none. */
export function msLeft(deadline: number | undefined): number | undefined {
  return deadline === undefined ? undefined : Math.max(1, deadline - Date.now());
}
