/**
 * Cells of the policy x property matrix on several worker threads
 * (`dmacheck check --workers N`). A task is one policy's random-engine row
 * (checker/matrix.ts checkPolicyRandom) or one policy's exhaustive search; workers take the next task as they finish one,
 * and results are put back in task order, so the output is the same as a
 * single-threaded run's whatever the scheduling (byte for byte under
 * --no-timing). Each worker loads the model itself: built-in policies by
 * name, a user's policy module by its path.
 */
import { Worker } from "node:worker_threads";
import { type CellResult, type ExhaustiveMatrixOptions, type MatrixOptions, type SearchSummary } from "./matrix.ts";

export type CellTask =
  | { readonly kind: "random"; readonly policy: string; readonly module: string | null; readonly properties: readonly string[]; readonly opts: MatrixOptions }
  | { readonly kind: "exhaustive"; readonly policy: string; readonly module: string | null; readonly properties: readonly string[]; readonly opts: ExhaustiveMatrixOptions };

export type CellTaskResult =
  | { readonly ok: true; readonly cells: CellResult[]; readonly summary: SearchSummary | null }
  | { readonly ok: false; readonly usage: boolean; readonly message: string };

/** Default worker count: the cores, at most 2 (the matrix rarely has enough large cells to use more). */
export function defaultWorkers(cores: number): number {
  return Math.max(1, Math.min(2, cores));
}

/**
 * The worker's entry: compiled (dist/checker/cell-worker.js, beside this
 * file) it runs as it is; from the TypeScript sources it goes through
 * bin/cell-worker.js, which registers the TypeScript loader first.
 */
const WORKER_ENTRY = import.meta.url.endsWith(".ts") ? new URL("../bin/cell-worker.js", import.meta.url) : new URL("./cell-worker.js", import.meta.url);

/**
 * Runs `tasks` on `n` worker threads; resolves with the results in task
 * order. `onDone(i)` is called as task i finishes (in completion order).
 */
export function runCellTasks(tasks: readonly CellTask[], n: number, onDone: (i: number, r: CellTaskResult) => void = () => {}): Promise<CellTaskResult[]> {
  const results: (CellTaskResult | undefined)[] = new Array(tasks.length);
  if (tasks.length === 0) return Promise.resolve([]);
  return new Promise((resolvePromise, reject) => {
    // Dispatch the exhaustive searches first: they are usually the longest
    // cells, and starting them last would leave a worker idle at the end.
    // The order of dispatch does not change the results, which go by index.
    const queue = tasks.map((_, i) => i).sort((a, b) => (tasks[a].kind === tasks[b].kind ? a - b : tasks[a].kind === "exhaustive" ? -1 : 1));
    let next = 0, done = 0, failed = false;
    const workers: Worker[] = [];
    const finish = (err: Error | null) => {
      if (failed) return;
      if (err !== null) failed = true;
      for (const w of workers) void w.terminate();
      if (err !== null) reject(err);
      else resolvePromise(results as CellTaskResult[]);
    };
    const feed = (w: Worker) => {
      if (next >= tasks.length) return;
      const i = queue[next++];
      w.postMessage({ i, task: tasks[i] });
    };
    for (let k = 0; k < Math.min(n, tasks.length); k++) {
      const w = new Worker(WORKER_ENTRY);
      workers.push(w);
      w.on("message", (m: { i: number; result: CellTaskResult }) => {
        results[m.i] = m.result;
        onDone(m.i, m.result);
        if (++done === tasks.length) finish(null);
        else feed(w);
      });
      w.on("error", (e) => finish(e instanceof Error ? e : new Error(String(e))));
      w.on("exit", (code) => {
        if (done < tasks.length && !failed) finish(new Error(`a cell worker exited with status ${code}`));
      });
      feed(w);
    }
  });
}
