/**
 * Bad input ends the program with one line on stderr naming what is wrong
 * and where, and exit status 2; never a stack trace.
 */
export class UsageError extends Error {}

export const EXIT_OK = 0;
export const EXIT_VIOLATION = 1;
export const EXIT_USAGE = 2;

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

/**
 * Runs the CLI body; maps every error to a one-line message and an exit
 * status, then ends the process once stdout and stderr have drained. A pipe
 * holds 64 KiB; process.exit with more queued would drop the rest
 * (`dmacheck check --json | jq .` was cut at exactly 65,536 bytes).
 */
export async function guarded(body: () => Promise<number>): Promise<never> {
  let code: number;
  try {
    code = await body();
  } catch (e) {
    if (e instanceof UsageError) {
      // Usually one line; several problems (a policy module's type errors) are one line each.
      for (const line of e.message.split("\n")) process.stderr.write(`dmacheck: ${line}\n`);
      code = EXIT_USAGE;
    } else {
      const msg = e instanceof Error ? e.message : String(e);
      process.stderr.write(`dmacheck: internal error: ${msg.split("\n")[0]} (set DMACHECK_DEBUG=1 for details)\n`);
      if (process.env.DMACHECK_DEBUG) process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
      code = 3;
    }
  }
  process.exitCode = code;
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  // Everything is written; exit now rather than wait on handles a policy
  // module or a library may have left open.
  process.exit(code);
}
