/**
 * Bad input ends the program with one line on stderr naming what is wrong
 * and where, and exit status 2; never a stack trace.
 */
import { type Io } from "./io.ts";

export class UsageError extends Error {}

/** Several usage problems at once (a policy module's type errors): one line each. */
export class UsageErrors extends UsageError {
  constructor(readonly lines: readonly string[]) {
    super(lines.join("; "));
  }
}

export const EXIT_OK = 0;
export const EXIT_VIOLATION = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 3;

export function fail(message: string): never {
  throw new UsageError(message);
}

/**
 * Resolves once everything written to `stream` so far has been handed to the
 * operating system: a write's callback runs after every earlier write's, so
 * an empty write's callback marks the end of the queue. It resolves on error
 * too (a reader that went away, EPIPE): nothing more can be delivered then.
 */
export function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolveDrained) => {
    if (stream.destroyed || stream.writableEnded) resolveDrained();
    else stream.write("", () => resolveDrained());
  });
}

/** Runs the CLI body; maps every error to a one-line message on `io` and returns the exit status. */
export async function guarded(body: () => Promise<number>, io: Io): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof UsageError) {
      // Usually one line; several problems (a policy module's type errors) are one line each.
      const lines = e instanceof UsageErrors ? e.lines : [e.message];
      for (const line of lines) io.err(`dmacheck: ${oneLine(line)}\n`);
      return EXIT_USAGE;
    }
    const msg = e instanceof Error ? e.message : String(e);
    io.err(`dmacheck: internal error: ${oneLine(msg.split("\n")[0])} (set DMACHECK_DEBUG=1 for details)\n`);
    if (io.debug) io.err(`${e instanceof Error ? e.stack : e}\n`);
    return EXIT_INTERNAL;
  }
}

/** Line breaks inside a message become spaces: an error is always one line. */
function oneLine(s: string): string {
  return s.replace(/\s*[\r\n\u2028\u2029]+\s*/g, " ").trim();
}
