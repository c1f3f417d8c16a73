// Runs the dmacheck command line in-process through `main(argv, io)` with
// captured output: no tsx start-up per run, so tests (and the fuzz test) can
// afford hundreds of runs.
import { withTestRaceBound } from "./helpers.ts";
import { main } from "../../cli/main.ts";
import { captureIo } from "../../cli/io.ts";

export interface MainResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export async function runMain(args: readonly string[]): Promise<MainResult> {
  const io = captureIo();
  const t = performance.now();
  const status = await main(withTestRaceBound(args), io);
  return { status, stdout: io.stdout(), stderr: io.stderr(), ms: performance.now() - t };
}
