/**
 * A split search: the levels of one breadth-first search (checker/exhaustive.ts)
 * expanded by several worker threads (`dmacheck check --workers N` on one
 * policy). Results are byte-identical to a single-threaded search.
 *
 * How. A level (a range of the search tree) is cut into chunks of consecutive
 * nodes. The workers and the search's thread claim chunks from a shared
 * counter (Atomics.add), so none idles while a chunk is left and a worker
 * that has not started yet simply claims none. For a chunk it claims, a
 * thread re-creates the states from the shared search tree (checker/tree.ts),
 * applies every event, checks every property still open, counts coverage,
 * and lists the fingerprints of the successors in (node, event) order, with
 * the properties some transition violated (checker/chunk-expander.ts). The
 * search's thread takes the chunks back in level order and adds their
 * fingerprints to the visited set and the tree in that order, which is the
 * order a single thread would have added them in, so the tree, the state
 * numbers and every count are the same. A chunk where something happens that
 * depends on the exact transition (a first violation of an open property; the
 * state or memory bound reached within it) is not merged: the search's thread
 * expands it itself, as a single-threaded search would, and so finds the same
 * shortest counterexample and stops at the same transition with the same
 * figures.
 *
 * The search's thread never waits: it takes the workers' results with
 * receiveMessageOnPort between chunks of its own, so the engine stays a
 * plain function. Each worker
 * rebuilds the system from a SearchSpec: built-in policies by name, a user's
 * policy module by its path, the properties by name.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { type Event } from "../model/events.ts";
import { type ModelConfig } from "../model/config.ts";
import { type CoverageDelta } from "./coverage.ts";
import { type SharedTreeArrays } from "./tree.ts";
import { checkDeadline } from "./deadline.ts";
import { PolicyModuleError } from "./policy-module.ts";

/** What a worker needs to rebuild a search's system, alphabet, properties and fingerprints. */
export interface SearchSpec {
  /** A built-in policy's name (model/policies/index.ts findAnyPolicy). */
  readonly policy: string;
  /** A user's policy module (its path), in place of a built-in policy. */
  readonly module: string | null;
  readonly config: ModelConfig;
  readonly alphabet: readonly Event[];
  /** The properties, by name, in the search's order. */
  readonly properties: readonly string[];
  /** The symmetry reduction (checker/cpu-symmetry.ts symmetryReduction) as the search uses it: the worker rebuilds the same one. */
  readonly symmetry: boolean;
  /** Whether the search records coverage (checker/coverage.ts). */
  readonly observe: boolean;
  /** The deepest level a node can be on (the search's depth bound). */
  readonly maxLevel: number;
  /** Whether successors generated before are skipped early (checker/recent-successors.ts); absent: they are. */
  readonly recentSuccessors?: boolean;
}

/** Main thread to worker. */
export type SplitRequest =
  | { readonly t: "search"; readonly id: number; readonly spec: SearchSpec }
  | {
    readonly t: "level"; readonly id: number; readonly level: number; readonly lo: number; readonly hi: number; readonly depth: number; readonly chunk: number;
    readonly tree: SharedTreeArrays; readonly active: readonly number[];
    /** Word 0: the next chunk to claim (chunks past the level's last: nothing left). */
    readonly claim: Int32Array;
  };

/** One chunk expanded (by a worker, or by the search's thread). */
export interface ChunkResult {
  /** The level (numbered across the pool's searches) and the chunk's index in it. */
  readonly level: number;
  readonly chunk: number;
  /** Successors as (node, event, fingerprint low, fingerprint high), in (node, event) order; `n` of them. */
  readonly cand: Uint32Array;
  readonly n: number;
  /** Properties (search indices) some transition of the chunk violated. */
  readonly violated: readonly number[];
  readonly coverage: CoverageDelta | null;
  /** The worker failed (a policy threw, the module did not load): its message. */
  readonly error: string | null;
  /** The failure was the policy module's (checker/policy-module.ts PolicyModuleError). */
  readonly moduleError: boolean;
  /** Expanded by the search's own thread (not a worker). */
  readonly local: boolean;
}

/** The chunk's node range: chunk k of the level [lo, hi) cut every `chunk` nodes. */
export function chunkRange(lo: number, hi: number, chunk: number, k: number): readonly [number, number] {
  const a = lo + k * chunk;
  return [a, Math.min(hi, a + chunk)];
}

/**
 * The worker's entry: compiled (dist/checker/split-worker.js, beside this
 * file) it runs as it is; from the TypeScript sources it goes through
 * bin/split-worker.js, which registers the TypeScript loader first.
 */
const WORKER_ENTRY = import.meta.url.endsWith(".ts") ? new URL("../bin/split-worker.js", import.meta.url) : new URL("./split-worker.js", import.meta.url);

/** The worker threads of split searches; one pool serves the searches of a run, one after the other. */
export class SearchPool {
  private readonly workers: { readonly worker: Worker; readonly port: MessagePort }[] = [];
  private nextSearch = 0;
  private nextLevel = 0;
  private closed = false;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(WORKER_ENTRY, { workerData: { port: port2 }, transferList: [port2] });
      worker.unref();
      this.workers.push({ worker, port: port1 });
    }
  }

  /** Starts a search: every worker builds its system from `spec`; returns the search's id. */
  begin(spec: SearchSpec): number {
    const id = ++this.nextSearch;
    this.post({ t: "search", id, spec });
    return id;
  }

  /**
   * Cuts the level tree[lo, hi) at `depth` into chunks of `chunk` nodes and
   * offers them to the workers; the LevelRun returns their results in order.
   */
  level(id: number, lo: number, hi: number, depth: number, tree: SharedTreeArrays, active: readonly number[], chunk: number, local: LocalExpand): LevelRun {
    const level = ++this.nextLevel;
    const claim = new Int32Array(new SharedArrayBuffer(4));
    this.post({ t: "level", id, level, lo, hi, depth, chunk, tree, active, claim });
    return new LevelRun(this, level, claim, lo, hi, chunk, local);
  }

  private post(m: SplitRequest): void {
    for (const w of this.workers) w.port.postMessage(m);
  }

  /** Takes every result the workers have posted. */
  receive(take: (r: ChunkResult) => void): void {
    for (const w of this.workers) {
      for (let m = receiveMessageOnPort(w.port); m !== undefined; m = receiveMessageOnPort(w.port)) take(m.message as ChunkResult);
    }
  }

  /** Ends the workers. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.workers) {
      w.port.close();
      void w.worker.terminate();
    }
  }
}

/** Expands chunk k (node range [lo, hi)) on the search's own thread, as a worker would (checker/chunk-expander.ts). */
export type LocalExpand = (k: number, lo: number, hi: number) => ChunkResult;

/** One level of a split search: its chunks' results, in order. */
export class LevelRun {
  readonly chunks: number;
  private readonly results = new Map<number, ChunkResult>();
  /** Chunks [0, taken) have been returned by next. */
  private taken = 0;

  constructor(
    private readonly pool: SearchPool, readonly level: number, private readonly claim: Int32Array,
    private readonly lo: number, private readonly hi: number, private readonly chunk: number, private readonly local: LocalExpand,
  ) {
    this.chunks = Math.ceil((hi - lo) / chunk);
  }

  /** The node range of chunk c. */
  range(c: number): readonly [number, number] {
    return chunkRange(this.lo, this.hi, this.chunk, c);
  }

  /**
   * Chunk c's result (chunks are taken in order). While it is not there, this
   * thread claims and expands chunks itself; when none is left to claim, it
   * expands chunk c too rather than wait for the worker that has it (a worker
   * still compiling its code can take ten times as long), and whichever copy
   * comes second is dropped: both are the same. Past `deadline` a
   * DeadlineError naming `where`.
   */
  next(c: number, deadline: number | undefined, where: string): ChunkResult {
    for (;;) {
      const r = this.results.get(c);
      if (r !== undefined) {
        this.results.delete(c);
        this.taken = c + 1;
        if (r.error !== null) {
          this.abandon();
          throw r.moduleError ? new PolicyModuleError(r.error) : new Error(r.error);
        }
        return r;
      }
      checkDeadline(deadline, where);
      this.pool.receive((m) => {
        // Dropped: a chunk of an abandoned level, or one this thread already took.
        if (m.level === this.level && m.chunk >= this.taken && !this.results.has(m.chunk)) this.results.set(m.chunk, m);
      });
      if (this.results.has(c)) continue;
      const k = Atomics.add(this.claim, 0, 1);
      const mine = k < this.chunks ? k : c;
      const [lo, hi] = this.range(mine);
      this.results.set(mine, this.local(mine, lo, hi));
    }
  }

  /** Leaves the chunks nobody has claimed yet unclaimed for good (the search stopped within the level). */
  abandon(): void {
    Atomics.store(this.claim, 0, this.chunks);
  }
}
