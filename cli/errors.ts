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

/** Runs the CLI body; maps every error to a one-line message and an exit status. */
export async function guarded(body: () => Promise<number>): Promise<never> {
  let code: number;
  try {
    code = await body();
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`dmacheck: ${e.message}\n`);
      code = EXIT_USAGE;
    } else {
      const msg = e instanceof Error ? e.message : String(e);
      process.stderr.write(`dmacheck: internal error: ${msg.split("\n")[0]} (set DMACHECK_DEBUG=1 for details)\n`);
      if (process.env.DMACHECK_DEBUG) process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
      code = 3;
    }
  }
  process.exit(code);
}
