/**
 * Symmetry reduction for the exhaustive engine: interchangeable CPUs, alone
 * or combined with interchangeable mapping slots (checker/symmetry.ts).
 * States that differ only by a renaming of the CPUs are one state for the
 * search (Ip & Dill's scalarsets, as for slots).
 *
 * What a CPU number is. A permutation p of the CPUs 0..cpus-1 (the timer
 * context, numbered cpus, is its own image) acts on a state by moving every
 * per-CPU block and renaming every CPU number stored in a word:
 * - CALLS: context c's record moves to p(c);
 * - CMDQ: context c's completion word moves to p(c), and a queued
 *   COMPLETION_WAIT (VT-d: invalidation wait) for c, whose semaphore address
 *   names c, becomes the one for p(c) (model/command-queue.ts
 *   completionWaitWords: the only command that holds a context number);
 * - FRAMES: a detached IOMMU table frame tagged with context c (it is freed
 *   by the call on c after its wait, iommu-page-table.ts) is tagged p(c).
 * Nothing else holds a CPU number when the checks below pass: MAPS, OBJECTS,
 * the page tables, IOTLB, IOVA and device state are per device or per slot,
 * and the policy has no private words unless it declares `cpuSymmetric`.
 * Two per-CPU components are not renamed and must stay as booted (all zero):
 * FQ, the flush queue's per-CPU rings, because a flush that releases every
 * ring walks the CPUs in order (fq_flush_timeout; and the rings' frames carry
 * a CPU stamp), so the order rings are freed in changes the buddy allocator's
 * free lists and renaming is not exact; and MMU, the per-CPU TLBs, which the
 * alphabet must not touch (user-touch and the other user/VM events are
 * refused). The fingerprint function checks FQ and MMU on every state and
 * throws if a policy wrote them: a loud stop rather than an unsound search.
 *
 * Why it is sound. For a CPU permutation p and a reachable state s, the
 * successors of p(s) are the images under p of the successors of s:
 * - an event naming a CPU (map, map-sg, alloc-coherent, unmap, xdp-tx)
 *   runs its call on context cpu; the alphabet holds p(e) for every such e
 *   (checked), and the Kernel services the call uses are indexed by its
 *   context (its completion word and wait, its detached-table tag) and
 *   otherwise compare no CPU numbers, so step(p(s), p(e)) = p(step(s, e));
 *   a policy whose handlers read Kernel.ctx themselves must declare false;
 * - `resume c` runs the first busy context at or after c cyclically, which
 *   is order-dependent for one event, but the alphabet holds `resume c` for
 *   every context c (checked), so the set of resume successors of any state
 *   is {run context x : x busy}, and that set commutes with p;
 * - every other event (iommu, dma, tick, kmalloc, ...) names no CPU and the
 *   step it takes reads no per-CPU word except through the services above;
 * - the initial state is its own image (checked word for word);
 * - the properties read per-CPU words only as "every context idle" or "every
 *   ring within bound" and the timer context's record, which p fixes, so every
 *   verdict on a transition equals the verdict on its image.
 * So the reachable graph is symmetric under p, and breadth-first search over
 * orbits reaches each orbit at the least depth of any of its states: the same
 * verdicts and the same shortest counterexample lengths, also within a depth
 * bound. The engine keeps the state it reached and fingerprints only the
 * representative, so counterexamples replay as they are.
 *
 * The representative under CPUs and slots together: for each CPU
 * permutation q whose image q(s) lists the CPUs in key order (a CPU's CALLS
 * record without its slot word, then its completion word), q(s) is
 * slot-canonicalised and fingerprinted, and the least fingerprint is the
 * state's. The key moves with its CPU and ignores slot numbers, and slot
 * renaming and CPU renaming commute (one moves CALLS records and the other
 * renames the slot word inside them), so every state of an orbit yields the
 * same set of such images and therefore the same least fingerprint; with
 * distinct keys that set is one image.
 */
import { type Event } from "../model/events.ts";
import { componentHashUpdate, combineComponentHashes } from "../model/fingerprint.ts";
import { CALLS, CALL_W, CMDQ, CMD_W, FQ, FRAMES, FRAME_W, MAPS, MMU } from "../model/geometry.ts";
import { completionWaitWords } from "../model/command-queue.ts";
import { F_DETACHED, ROLE_IOMMU_PT } from "../model/physical-memory.ts";
import { type State, type Words } from "../model/state.ts";
import { type System } from "../model/system.ts";
import { type CanonicalFingerprint, slotCanonicaliser, slotSymmetry, slotSymmetryProblem } from "./symmetry.ts";

/** Above this many CPUs the reduction is off: each state is fingerprinted once per permutation (n!). */
export const MAX_SYMMETRIC_CPUS = 4;

/** Event kinds that touch the per-CPU TLBs (MMU) or a vCPU's EPT TLB, which are not renamed. */
const UNRENAMED_KINDS: ReadonlySet<string> = new Set(["user-touch", "user-unmap", "guest-access", "user-get", "user-put"]);

/** Every permutation of 0..n-1, the identity first. */
export function cpuPermutations(n: number): Int32Array[] {
  const out: Int32Array[] = [];
  const cur = new Int32Array(n);
  const used = new Array<boolean>(n).fill(false);
  const rec = (i: number) => {
    if (i === n) {
      out.push(cur.slice());
      return;
    }
    for (let c = 0; c < n; c++) {
      if (used[c]) continue;
      used[c] = true;
      cur[i] = c;
      rec(i + 1);
      used[c] = false;
    }
  };
  rec(0);
  return out.length === 0 ? [new Int32Array(0)] : out;
}

/** An event with its CPU (if any) taken modulo the CPUs, as the step does, as a lookup key. */
function eventKey(e: Event, cpu: number | null): string {
  const o: Record<string, unknown> = { ...e };
  if (cpu !== null) o.cpu = cpu;
  return JSON.stringify(o, Object.keys(o).sort());
}

function allZero(w: readonly number[]): boolean {
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) return false;
  return true;
}

/**
 * Renames CPUs in the components that hold CPU numbers, into preallocated
 * buffers. `apply` returns a bit set of the components whose image differs
 * from the state's (1 << CALLS, 1 << CMDQ, 1 << FRAMES); only those buffers
 * are written.
 */
class CpuRenamer {
  readonly calls: number[];
  readonly cmdq: number[];
  readonly frames: number[];
  private readonly cpus: number;
  private readonly nFrames: number;
  private readonly cmdBase: number;
  private readonly semBase: number;
  /** waits[c * CMD_W + i]: word i of context c's completion wait. */
  private readonly waits: Int32Array;

  constructor(sys: System) {
    const g = sys.g;
    this.cpus = sys.cfg.cpus;
    this.nFrames = sys.cfg.frames;
    this.calls = new Array<number>(g.sizes[CALLS]).fill(0);
    this.cmdq = new Array<number>(g.sizes[CMDQ]).fill(0);
    this.frames = new Array<number>(g.sizes[FRAMES]).fill(0);
    this.cmdBase = 2;
    this.semBase = 2 + sys.cfg.cmdQueueEntries * CMD_W;
    this.waits = new Int32Array(this.cpus * CMD_W);
    for (let c = 0; c < this.cpus; c++) {
      const w = completionWaitWords(g.vtd, c);
      for (let i = 0; i < CMD_W; i++) this.waits[c * CMD_W + i] = w[i] | 0;
    }
  }

  /** The CPU whose completion wait is queued at `at`, or -1. */
  private waitCpu(q: Words, at: number): number {
    const w = this.waits;
    for (let c = 0; c < this.cpus; c++) {
      const b = c * CMD_W;
      if (q[at] === w[b] && q[at + 1] === w[b + 1] && q[at + 2] === w[b + 2] && q[at + 3] === w[b + 3]) return c;
    }
    return -1;
  }

  apply(t: State, p: Int32Array): number {
    const cpus = this.cpus;
    let changed = 0;
    // CALLS: CPU records move; the timer context's stays.
    const cl = t[CALLS];
    // The image differs iff some CPU's record differs from the one it replaces (often both are idle).
    let moved = false;
    for (let c = 0; c < cpus && !moved; c++) {
      const a = c * CALL_W, b = p[c] * CALL_W;
      if (a === b) continue;
      for (let w = 0; w < CALL_W; w++) if (cl[a + w] !== cl[b + w]) { moved = true; break; }
    }
    if (moved) {
      const calls = this.calls;
      for (let i = 0; i < cl.length; i++) calls[i] = cl[i];
      for (let c = 0; c < cpus; c++) {
        const src = c * CALL_W, dst = p[c] * CALL_W;
        for (let w = 0; w < CALL_W; w++) calls[dst + w] = cl[src + w];
      }
      changed |= 1 << CALLS;
    }
    // CMDQ: completion words move; queued waits for a CPU name its image.
    const q = t[CMDQ];
    let qChanged = false;
    for (let c = 0; c < cpus; c++) if (q[this.semBase + c] !== q[this.semBase + p[c]]) qChanged = true;
    const count = q[1];
    for (let i = 0; i < count && !qChanged; i++) {
      const c = this.waitCpu(q, this.cmdBase + i * CMD_W);
      if (c >= 0 && p[c] !== c) qChanged = true;
    }
    if (qChanged) {
      const cmdq = this.cmdq;
      for (let i = 0; i < q.length; i++) cmdq[i] = q[i];
      for (let c = 0; c < cpus; c++) cmdq[this.semBase + p[c]] = q[this.semBase + c];
      for (let i = 0; i < count; i++) {
        const at = this.cmdBase + i * CMD_W;
        const c = this.waitCpu(q, at);
        if (c < 0) continue;
        for (let w = 0; w < CMD_W; w++) cmdq[at + w] = this.waits[p[c] * CMD_W + w];
      }
      changed |= 1 << CMDQ;
    }
    // FRAMES: a detached table frame's tag (word 0, bits 24..31) names the context that frees it.
    const fr = t[FRAMES];
    let fChanged = false;
    for (let f = 0; f < this.nFrames; f++) {
      const w0 = fr[f * FRAME_W];
      if ((w0 & 0xf) !== ROLE_IOMMU_PT || (w0 & F_DETACHED) === 0) continue;
      const tag = w0 >>> 24;
      if (tag >= cpus || p[tag] === tag) continue;
      if (!fChanged) {
        const frames = this.frames;
        for (let i = 0; i < fr.length; i++) frames[i] = fr[i];
        fChanged = true;
      }
      this.frames[f * FRAME_W] = (w0 & 0x00ffffff) | (p[tag] << 24);
    }
    if (fChanged) changed |= 1 << FRAMES;
    return changed;
  }
}

/**
 * The image of `s` under the CPU permutation `p` (p[c]: CPU c's new number),
 * as a new state. Off the hot path: the initial-state check and tests.
 */
export function permuteCpus(sys: System, s: State, p: Int32Array): State {
  const r = new CpuRenamer(sys);
  const changed = r.apply(s, p);
  return s.map((c, i) => {
    if ((changed & (1 << i)) === 0) return c.slice();
    return (i === CALLS ? r.calls : i === CMDQ ? r.cmdq : r.frames).slice();
  });
}

/** Why CPU symmetry does not apply to this system and alphabet, or null when it does. */
export function cpuSymmetryProblem(sys: System, alphabet: readonly Event[]): string | null {
  const pol = sys.policy;
  const cpus = sys.cfg.cpus;
  if (pol.cpuSymmetric === false) return `policy ${pol.name} declares its behaviour depends on CPU identity`;
  if (cpus < 2) return "one CPU";
  if (cpus > MAX_SYMMETRIC_CPUS) return `more than ${MAX_SYMMETRIC_CPUS} CPUs (one fingerprint per permutation)`;
  if (pol.cpuSymmetric !== true) {
    if (pol.timer !== undefined || pol.fqTimer !== undefined) {
      return `policy ${pol.name} has timer work, which may walk the CPUs in order (as the flush-queue timer does); declare cpuSymmetric if it does not`;
    }
    const words = typeof pol.stateWords === "function" ? pol.stateWords(sys.cfg) : pol.stateWords ?? 0;
    if (words > 0) return `policy ${pol.name} has private words, which may hold CPU numbers; declare cpuSymmetric if they do not`;
    if (pol.userGet !== undefined || pol.userPut !== undefined || pol.eptTable !== undefined) {
      return `policy ${pol.name} has user or VM hooks (per-CPU TLBs)`;
    }
  }
  const init = sys.init;
  if (!allZero(init[FQ]) || !allZero(init[MMU])) return "the flush queue or the TLBs are not empty at boot";
  const perms = cpuPermutations(cpus);
  // The alphabet is closed under every permutation: events naming a CPU, and a resume per context.
  const keys = new Set<string>();
  const resumes = new Set<number>();
  for (const e of alphabet) {
    if (UNRENAMED_KINDS.has(e.t)) return `the alphabet has ${e.t} events (the per-CPU TLBs are not renamed)`;
    if (e.t === "resume") resumes.add(e.cpu % sys.g.contexts);
    else keys.add(eventKey(e, "cpu" in e ? e.cpu % cpus : null));
  }
  for (let c = 0; c < sys.g.contexts; c++) if (!resumes.has(c)) return `the alphabet cannot resume context ${c}`;
  for (const e of alphabet) {
    if (e.t === "resume" || !("cpu" in e)) continue;
    for (const p of perms) {
      if (!keys.has(eventKey(e, p[e.cpu % cpus]))) return `the alphabet is not the same for every CPU (${e.t} on cpu${e.cpu})`;
    }
  }
  for (const p of perms) {
    const img = permuteCpus(sys, init, p);
    for (let c = 0; c < init.length; c++) {
      for (let i = 0; i < init[c].length; i++) if (img[c][i] !== init[c][i]) return "the initial state depends on CPU identity";
    }
  }
  return null;
}

/** Which reductions apply: the combined fingerprint, or null when neither does. */
export interface Reduction {
  readonly canonical: CanonicalFingerprint | null;
  readonly slots: boolean;
  readonly cpus: boolean;
}

/**
 * The exhaustive engine's symmetry reduction for `sys` and `alphabet`: slot
 * symmetry, CPU symmetry, both (the product group), or none. Deterministic in
 * its arguments, so a split-search worker building it from the same system
 * and alphabet fingerprints exactly as the main thread.
 */
export function symmetryReduction(sys: System, alphabet: readonly Event[]): Reduction {
  const slots = slotSymmetryProblem(sys, alphabet) === null;
  const cpus = cpuSymmetryProblem(sys, alphabet) === null;
  if (!slots && !cpus) return { canonical: null, slots, cpus };
  if (!cpus) return { canonical: slotSymmetry(sys, alphabet), slots, cpus };
  const nComp = sys.init.length;
  const cpuCount = sys.cfg.cpus;
  const slotCanon = slots ? slotCanonicaliser(sys) : null;
  const perms = cpuPermutations(cpuCount);
  // invs[k][j]: the CPU that permutation k renames j.
  const invs = perms.map((p) => {
    const inv = new Int32Array(p.length);
    for (let c = 0; c < p.length; c++) inv[p[c]] = c;
    return inv;
  });
  const semBase = 2 + sys.cfg.cmdQueueEntries * CMD_W;
  const renamer = new CpuRenamer(sys);
  const local: number[] = new Array<number>(nComp * 2).fill(0);
  const cand = new Uint32Array(2);
  const initFq = sys.init[FQ], initMmu = sys.init[MMU];
  const policyName = sys.policy.name;

  /**
   * Compares CPUs a and b by a key that renaming carries along and slot
   * renaming leaves alone: their call records without word 2 (a slot number
   * during a map or unmap), then their completion words.
   */
  const keyCmp = (cl: Words, q: Words, a: number, b: number): number => {
    const ba = a * CALL_W, bb = b * CALL_W;
    for (let w = 0; w < CALL_W; w++) {
      if (w === 2) continue;
      const d = cl[ba + w] - cl[bb + w];
      if (d !== 0) return d;
    }
    return q[semBase + a] - q[semBase + b];
  };
  // after[a * cpuCount + b]: CPU a's key is greater than CPU b's (filled once per state, every pair compared once).
  const after = new Uint8Array(cpuCount * cpuCount);
  const compareKeys = (cl: Words, q: Words): void => {
    for (let a = 0; a < cpuCount; a++) {
      for (let b = a + 1; b < cpuCount; b++) {
        const d = keyCmp(cl, q, a, b);
        after[a * cpuCount + b] = d > 0 ? 1 : 0;
        after[b * cpuCount + a] = d < 0 ? 1 : 0;
      }
    }
  };
  /** Whether the image under the permutation whose inverse is `inv` lists the CPUs in key order (after compareKeys). */
  const sortedUnder = (inv: Int32Array): boolean => {
    for (let j = 0; j + 1 < cpuCount; j++) if (after[inv[j] * cpuCount + inv[j + 1]] !== 0) return false;
    return true;
  };

  // The fingerprint of the image whose CALLS/CMDQ/FRAMES are `calls`..., given which differ from t's.
  const imageFingerprint = (t: State, hashes: readonly number[], calls: readonly number[], changed: number, into: Uint32Array) => {
    for (let i = 0; i < nComp * 2; i++) local[i] = hashes[i];
    if ((changed & (1 << CALLS)) !== 0) componentHashUpdate(t[CALLS], hashes, 2 * CALLS, calls, local, 2 * CALLS);
    if ((changed & (1 << CMDQ)) !== 0) componentHashUpdate(t[CMDQ], hashes, 2 * CMDQ, renamer.cmdq, local, 2 * CMDQ);
    if ((changed & (1 << FRAMES)) !== 0) componentHashUpdate(t[FRAMES], hashes, 2 * FRAMES, renamer.frames, local, 2 * FRAMES);
    if (slotCanon !== null) slotCanon(t[MAPS], calls, local);
    combineComponentHashes(local, nComp, into);
  };

  /**
   * The least fingerprint over the slot-canonical images whose CPUs are in
   * key order (at least one permutation sorts them). Every state of an orbit
   * has the same set of such images (the key moves with its CPU and ignores
   * slot numbers), so this is the orbit's fingerprint, as the least over
   * every image would be; with distinct keys it is one image, not cpus!.
   */
  const canonical: CanonicalFingerprint = (t, hashes, out) => {
    if ((t[FQ] !== initFq && !allZero(t[FQ])) || (t[MMU] !== initMmu && !allZero(t[MMU]))) {
      throw new Error(`CPU symmetry: policy ${policyName} wrote the flush queue or the TLBs, which CPU renaming does not cover; declare cpuSymmetric: false`);
    }
    const cl = t[CALLS], q = t[CMDQ];
    compareKeys(cl, q);
    // own: local holds the state's own image (its hashes, MAPS and CALLS slot-canonicalised).
    let own = false, any = false;
    let m0 = 0, m1 = 0, c0 = 0, c1 = 0;
    if (sortedUnder(invs[0])) {
      imageFingerprint(t, hashes, cl, 0, out);
      own = any = true;
      m0 = local[2 * MAPS];
      m1 = local[2 * MAPS + 1];
      c0 = local[2 * CALLS];
      c1 = local[2 * CALLS + 1];
    }
    for (let k = 1; k < perms.length; k++) {
      if (!sortedUnder(invs[k])) continue;
      const changed = renamer.apply(t, perms[k]);
      if (changed === 0) continue; // the image is the state itself, whose keys are then in order too: done above
      const into = any ? cand : out;
      if ((changed & (1 << CALLS)) === 0 && own) {
        // Same MAPS and CALLS, so the same slot canonicalisation: only CMDQ and FRAMES differ from the own image.
        if ((changed & (1 << CMDQ)) !== 0) componentHashUpdate(q, hashes, 2 * CMDQ, renamer.cmdq, local, 2 * CMDQ);
        if ((changed & (1 << FRAMES)) !== 0) componentHashUpdate(t[FRAMES], hashes, 2 * FRAMES, renamer.frames, local, 2 * FRAMES);
        combineComponentHashes(local, nComp, into);
        local[2 * CMDQ] = hashes[2 * CMDQ];
        local[2 * CMDQ + 1] = hashes[2 * CMDQ + 1];
        local[2 * FRAMES] = hashes[2 * FRAMES];
        local[2 * FRAMES + 1] = hashes[2 * FRAMES + 1];
      } else {
        imageFingerprint(t, hashes, (changed & (1 << CALLS)) !== 0 ? renamer.calls : cl, changed, into);
        if (own) {
          // Back to the own image for the next permutation.
          for (let i = 0; i < nComp * 2; i++) local[i] = hashes[i];
          local[2 * MAPS] = m0;
          local[2 * MAPS + 1] = m1;
          local[2 * CALLS] = c0;
          local[2 * CALLS + 1] = c1;
        }
      }
      if (into === cand && (cand[1] < out[1] || (cand[1] === out[1] && cand[0] < out[0]))) {
        out[0] = cand[0];
        out[1] = cand[1];
      }
      any = true;
    }
  };
  return { canonical, slots, cpus };
}
