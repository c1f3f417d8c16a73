/**
 * The documented maximum of every size a user controls (docs/limits.md):
 * flags, scope files, counterexample files and policy modules. Each is
 * checked when the input is decoded, so that no input can make dmacheck run
 * out of memory or appear to hang; what is larger is refused in one line
 * naming the flag or JSON path. The machine's own ranges (frames, CPUs,
 * devices, mappings, ...) are configProblem's (model/config.ts).
 */
import { type Alphabet, mapEvents, type Scope } from "./scope.ts";

/** Flag maxima. Every one is far above any useful run; the point is that none is unbounded. */
export const FLAG_LIMITS = {
  "--runs": 10_000_000,
  "--max-events": 1000,
  "--depth": 1000,
  "--max-states": 100_000_000,
  "--race-states": 100_000_000,
  "--max-memory": 1_048_576,
  "--workers": 64,
  /** Counterexamples kept per cell: each further one is one more file and a longer search. */
  "--counterexamples": 100,
  "--ios": 100_000,
  /** Seconds: a week. */
  "--time-limit": 604_800,
} as const;

/** Entries in each list of a scope's alphabet (kmallocSizes, dmaPages, mapRanges, ...). */
export const MAX_ALPHABET_LIST = 64;
/** Unmap slots: no more than the most live mappings a machine may have (configProblem's maxMappings). */
export const MAX_UNMAP_SLOTS = 64;
/** Events in a scope's alphabet: each is tried from every state, so this multiplies the search. */
export const MAX_ALPHABET_EVENTS = 4096;
/** Bytes of one buffer or kernel allocation: 2^10 pages, the buddy allocator's largest block (Linux include/linux/mmzone.h MAX_PAGE_ORDER). */
export const MAX_BUFFER_BYTES = 4096 << 10;
/** Model time per tick, ms: the longest flush-queue timeout a config may set (model/config.ts fqTimeoutMs). */
export const MAX_TICK_MS = 100_000;
/** Frame and page numbers in an alphabet: the largest machine has 4096 frames and 4096 IOVA pages. */
export const MAX_PAGE_NUMBER = 4095;
/** Events in a counterexample file: as many as the longest sequence --max-events allows. */
export const MAX_FILE_EVENTS = FLAG_LIMITS["--max-events"];
/** Words of policy-private state (Policy.stateWords, a number or what its function returns). */
export const MAX_STATE_WORDS = 4096;
/** Exhaustive search depth and state bound in a scope file: as for --depth and --max-states. */
export const MAX_DEPTH = FLAG_LIMITS["--depth"];
export const MAX_STATES = FLAG_LIMITS["--max-states"];

/** Why `a` is beyond a limit, field first (`unmapSlots: ...`), or null. */
export function alphabetLimitProblem(a: Alphabet): string | null {
  const lists: [string, readonly unknown[] | undefined][] = [
    ["kmallocSizes", a.kmallocSizes], ["pageSizes", a.pageSizes], ["directions", a.directions], ["dmaPages", a.dmaPages],
    ["dmaOffsets", a.dmaOffsets], ["dmaLens", a.dmaLens], ["kernelSizes", a.kernelSizes], ["tickMs", a.tickMs],
    ["forgedFrames", a.forgedFrames], ["mapRanges", a.mapRanges], ["userTouchPages", a.userTouchPages],
    ["guestAccessPages", a.guestAccessPages],
    ["userGetPages", a.userGetPages], ["userPutPages", a.userPutPages],
  ];
  for (const [name, list] of lists) {
    if (list !== undefined && list.length > MAX_ALPHABET_LIST) return `${name}: at most ${MAX_ALPHABET_LIST} entries, got ${list.length}`;
  }
  if (a.unmapSlots > MAX_UNMAP_SLOTS) return `unmapSlots: must be at most ${MAX_UNMAP_SLOTS}, got ${a.unmapSlots}`;
  if ((a.xdpTxSlots ?? 0) > MAX_UNMAP_SLOTS) return `xdpTxSlots: must be at most ${MAX_UNMAP_SLOTS}, got ${a.xdpTxSlots}`;
  const over = (name: string, values: readonly number[], max: number): string | null => {
    const i = values.findIndex((v) => v > max);
    return i < 0 ? null : `${name}[${i}]: must be at most ${max}, got ${values[i]}`;
  };
  return over("pageSizes", a.pageSizes, MAX_BUFFER_BYTES) ?? over("kernelSizes", a.kernelSizes, MAX_BUFFER_BYTES)
    ?? over("tickMs", a.tickMs, MAX_TICK_MS) ?? over("dmaPages", a.dmaPages, MAX_PAGE_NUMBER)
    ?? over("forgedFrames", a.forgedFrames, MAX_PAGE_NUMBER)
    ?? over("mapRanges", (a.mapRanges ?? []).map((r) => r.size), MAX_BUFFER_BYTES)
    ?? over("userTouchPages", a.userTouchPages ?? [], MAX_PAGE_NUMBER)
    ?? over("guestAccessPages", a.guestAccessPages ?? [], MAX_PAGE_NUMBER)
    ?? over("userGetPages", a.userGetPages ?? [], MAX_PAGE_NUMBER) ?? over("userPutPages", a.userPutPages ?? [], MAX_PAGE_NUMBER);
}

/** How many events alphabetEvents(scope) gives, counted without building them. */
export function alphabetSize(scope: Scope): number {
  const a = scope.alphabet;
  const c = scope.config;
  // Bounded by the list limits checked before (alphabetProblem), so building one CPU's maps is cheap.
  const maps = mapEvents(a, 0, 0).length;
  const perCpu = c.devices * maps + 2 * a.unmapSlots;
  const dma = a.dmaPages.length * a.dmaOffsets.length * a.dmaLens.length * 2 * (c.ats === true ? 2 : 1);
  const forged = c.untrusted === true && c.ats === true ? 2 * a.forgedFrames.length : 0;
  const kernel = a.kernelSizes.length + (a.kernelSizes.length > 0 ? 1 : 0);
  const guest = c.guestMemory !== undefined ? c.frames : 0;
  const user = 2 * (a.userTouchPages ?? []).length + 2 * (a.guestAccessPages ?? []).length + (a.userGetPages ?? []).length + (a.userPutPages ?? []).length + (a.xdpTxSlots ?? 0);
  return c.cpus * perCpu + 1 + (c.cpus + 1) + c.devices * (dma + forged) + kernel + a.tickMs.length + guest + user;
}

/** Why the whole scope's alphabet is too large, or null. */
export function scopeLimitProblem(scope: Scope): string | null {
  const n = alphabetSize(scope);
  return n > MAX_ALPHABET_EVENTS ? `the scope's alphabet has ${n} events, more than ${MAX_ALPHABET_EVENTS} (fewer list entries, CPUs or devices)` : null;
}
