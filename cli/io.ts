/**
 * Where the CLI writes: the process's stdout and stderr for a user, captured
 * strings for tests that run `main(argv, io)` in-process (test/cli/fuzz.test.ts).
 */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** The stream for the progress bar (a terminal's stderr), or null for none. */
  readonly progress: NodeJS.WriteStream | null;
  /** Whether stdout is a terminal (the exhaustive search's progress is shown only then). */
  readonly outIsTTY: boolean;
  /** DMACHECK_DEBUG: an internal error's stack trace goes to stderr. */
  readonly debug: boolean;
}

export function processIo(): Io {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    progress: process.stderr.isTTY ? process.stderr : null,
    outIsTTY: process.stdout.isTTY === true,
    debug: process.env.DMACHECK_DEBUG !== undefined && process.env.DMACHECK_DEBUG !== "",
  };
}

/** An Io that records everything written, for tests. */
export function captureIo(): Io & { readonly stdout: () => string; readonly stderr: () => string } {
  let out = "";
  let err = "";
  return {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    progress: null,
    outIsTTY: false,
    debug: false,
    stdout: () => out,
    stderr: () => err,
  };
}
