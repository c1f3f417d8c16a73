// Shared helpers for the model unit tests (test/model/*.test.ts).
import { devicePoolFrame } from "../../properties/grants.ts";
import { DEFAULT_CONFIG, type ModelConfig } from "../../model/config.ts";
import { type Event } from "../../model/events.ts";
import { DTE, FRAMES, FRAME_W, makeGeometry, MAPS, OBJECTS, PTMEM, PT_W, type Geometry } from "../../model/geometry.ts";
import { Observation } from "../../model/observation.ts";
import {
  F_DETACHED, frameAux, frameFlags, frameOrder, frameRole, F_HEAD, initBuddy, ROLE_BOUNCE, ROLE_FREE, ROLE_IO_POOL, ROLE_IOMMU_PT,
  ROLE_MMU_PT, ROLE_MORSEL_PT, ROLE_MORSEL_VIEW, ROLE_NAMES, ROLE_SHADOW, ROLE_SLAB,
} from "../../model/physical-memory.ts";
import { PAGE_SIZE } from "../../model/config.ts";
import { KIND_KMALLOC, KIND_POOL, objCount, objFrame, objKind, objOffset, objOwner, objSize, ownerDriver } from "../../model/objects.ts";
import { ptFirst } from "../../model/page-table-memory.ts";
import { domainRoot, walkMemory, WalkResult } from "../../model/iommu-page-table.ts";
import { deviceMode } from "../../model/iommu.ts";
import { amdAddrPfn, amdNextLevel } from "../../model/formats/amd-v1-pte.ts";
import { MS_MAPPED, mDev, mIova, mSegBounce, mSegFrame, mSegLen, mSegOffset, mSegs, mStatus, segPages } from "../../model/dma-mapping.ts";
import { type Policy } from "../../model/policy.ts";
import { emptyState, type State, Tx, type Words } from "../../model/state.ts";
import { makeSystem, Stepper, type System } from "../../model/system.ts";

export function config(over: Partial<ModelConfig> = {}): ModelConfig {
  return { ...DEFAULT_CONFIG, ...over };
}

/** A transaction over an empty state of `cfg`, begun; with `buddy`, initBuddy has run. */
export function freshTx(cfg: ModelConfig, buddy = true): { g: Geometry; tx: Tx; obs: Observation } {
  const g = makeGeometry(cfg);
  const tx = new Tx(g);
  tx.begin(emptyState(g));
  if (buddy) initBuddy(tx);
  return { g, tx, obs: new Observation() };
}

/** A transaction begun on `s` (e.g. sys.init) so model functions can be called directly. */
export function txOn(sys: System, s: State = sys.init): { tx: Tx; obs: Observation } {
  const tx = new Tx(sys.g);
  tx.begin(s);
  return { tx, obs: new Observation() };
}

/**
 * Free blocks as "head:order" strings read from the free lists (head to tail),
 * one array per order. Throws if a list is cyclic.
 */
export function freeLists(cfg: ModelConfig, fr: Words): number[][][] {
  const out: number[][][] = [];
  for (let o = 0; o <= cfg.maxOrder; o++) {
    const list: number[][] = [];
    let cur = fr[cfg.frames * FRAME_W + o] - 1;
    let guard = 0;
    while (cur >= 0) {
      list.push([cur, o]);
      cur = (fr[cur * FRAME_W + 1] >>> 16) - 1;
      if (++guard > cfg.frames) throw new Error(`free list of order ${o} is cyclic`);
    }
    out.push(list);
  }
  return out;
}

/** Free blocks as a sorted set of "head/order" keys (list order ignored). */
export function freeBlockSet(cfg: ModelConfig, fr: Words): string[] {
  return freeLists(cfg, fr)
    .flat()
    .map(([f, o]) => `${f}/${o}`)
    .sort();
}

/** Frames on the free lists, each exactly once (throws on a frame listed twice). */
export function framesOnFreeLists(cfg: ModelConfig, fr: Words): Set<number> {
  const s = new Set<number>();
  for (const [f, o] of freeLists(cfg, fr).flat()) {
    for (let i = 0; i < 1 << o; i++) {
      if (s.has(f + i)) throw new Error(`frame ${f + i} is on the free lists twice`);
      s.add(f + i);
    }
  }
  return s;
}

/** Checks the free-block records agree with the lists: every listed head is a free head of that order. */
export function listedHeadsConsistent(cfg: ModelConfig, fr: Words): boolean {
  for (const [f, o] of freeLists(cfg, fr).flat()) {
    if (frameRole(fr, f) !== ROLE_FREE || (frameFlags(fr, f) & F_HEAD) === 0 || frameOrder(fr, f) !== o) return false;
  }
  return true;
}

/** Deep copy of a state (every component). */
export function copyState(s: State): Words[] {
  return s.map((c) => c.slice());
}

export function statesEqual(a: State, b: State): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i].length !== b[i].length) return false;
    for (let j = 0; j < a[i].length; j++) if (a[i][j] !== b[i][j]) return false;
  }
  return true;
}

export interface StepRecord {
  readonly event: Event;
  readonly pre: State;
  readonly post: State;
  readonly noop: boolean;
  readonly reason: string;
  readonly notes: readonly string[];
  readonly counters: number[];
  readonly fault: number;
  readonly nseg: number;
  readonly segFrame: number[];
  readonly segSource: number[];
}

/** A driver for step-by-step scenarios: applies events and keeps a copy of each observation. */
export class Runner {
  readonly obs = new Observation();
  readonly stepper: Stepper;
  state: State;
  readonly log: StepRecord[] = [];

  constructor(readonly sys: System, detail = true) {
    this.obs.detail = detail;
    this.stepper = new Stepper(sys, this.obs);
    this.state = sys.init;
  }

  static of(policy: Policy, over: Partial<ModelConfig> = {}, detail = true): Runner {
    return new Runner(makeSystem(config(over), policy), detail);
  }

  step(e: Event): StepRecord {
    const pre = this.state;
    const post = this.stepper.step(pre, e);
    this.state = post;
    const o = this.obs;
    const r: StepRecord = {
      event: e, pre, post, noop: o.noop, reason: o.reason, notes: [...o.notes], counters: o.counters.slice(),
      fault: o.fault, nseg: o.nseg,
      segFrame: Array.from(o.segFrame.subarray(0, o.nseg)), segSource: Array.from(o.segSource.subarray(0, o.nseg)),
    };
    this.log.push(r);
    return r;
  }

  steps(events: readonly Event[]): StepRecord[] {
    return events.map((e) => this.step(e));
  }

  /** A Tx begun on the current state, for reading it with the model's accessors. */
  tx(): Tx {
    const tx = new Tx(this.sys.g);
    tx.begin(this.state);
    return tx;
  }
}


/**
 * Structural invariants of a reachable state; returns a description of the
 * first one broken, or null:
 *  - the buddy free lists hold exactly the frames whose role is free, once each,
 *    and every listed block is a free head of its order;
 *  - the object table is sorted and objects do not overlap; kmalloc objects sit in slab frames;
 *    a device pool frame holds only that device's pool buffers, a shadow or bounce frame no object;
 *  - page-table entries exist only in page-table frames;
 *  - every IOMMU table frame is either linked into its domain's tree or detached
 *    (waiting to be freed), never both, never neither (no leak);
 *  - no IOMMU leaf points at a free frame;
 *  - every mapping whose map call returned translates, in memory, to its buffer's frames.
 */
export function checkInvariants(sys: System, s: State): string | null {
  const cfg = sys.cfg;
  const fr = s[FRAMES];
  let free: Set<number>;
  try {
    free = framesOnFreeLists(cfg, fr);
  } catch (e) {
    return String(e);
  }
  let freeRole = 0;
  for (let f = 0; f < cfg.frames; f++) {
    if (frameRole(fr, f) !== ROLE_FREE) continue;
    freeRole++;
    if (!free.has(f)) return `frame ${f} is free but on no free list`;
  }
  if (freeRole !== free.size) return "a listed frame is not free";
  if (!listedHeadsConsistent(cfg, fr)) return "a listed block is not a free head of its order";
  const ob = s[OBJECTS];
  let prevEnd = -1;
  for (let i = 0; i < objCount(ob); i++) {
    const f = objFrame(ob, i);
    const start = f * PAGE_SIZE + objOffset(ob, i);
    if (start < prevEnd) return `object ${i} overlaps or is out of order`;
    prevEnd = start + objSize(ob, i);
    if (frameRole(fr, f) === ROLE_FREE) return `object ${i} lies in free frame ${f}`;
    if (objKind(ob, i) === KIND_KMALLOC && frameRole(fr, f) !== ROLE_SLAB) return `kmalloc object ${i} is not in a slab`;
    // Segregation (model/allocators/segregated-pool.ts): a device's pool frame holds only that device's pool buffers.
    const role = frameRole(fr, f);
    if ((role === ROLE_IO_POOL || role === ROLE_SHADOW || role === ROLE_BOUNCE) &&
      (objKind(ob, i) !== KIND_POOL || role !== ROLE_IO_POOL || objOwner(ob, i) !== ownerDriver(frameAux(fr, f)))) {
      return `object ${i} (${ROLE_NAMES[role]} frame ${f}) is not a pool buffer of that frame's device`;
    }
  }
  const pt = s[PTMEM];
  for (let i = 0; i < pt[0]; i++) {
    const f = Math.floor(pt[1 + i * PT_W] / 512);
    const role = frameRole(fr, f);
    if (role !== ROLE_IOMMU_PT && role !== ROLE_MMU_PT && role !== ROLE_MORSEL_PT && role !== ROLE_MORSEL_VIEW) return `a page-table entry lies in frame ${f} (${ROLE_NAMES[role]})`;
  }
  const linked = new Set<number>();
  for (let d = 0; d < cfg.devices; d++) {
    if (deviceMode(s[DTE], d) !== "translate") continue;
    const stack: [number, number][] = [[domainRoot(s[DTE], d), cfg.iommuLevels]];
    while (stack.length > 0) {
      const [t, level] = stack.pop()!;
      linked.add(t);
      for (let p = ptFirst(pt, t); p < pt[0] && pt[1 + p * PT_W] < (t + 1) * 512; p++) {
        const lo = pt[2 + p * PT_W] >>> 0, hi = pt[3 + p * PT_W] >>> 0;
        const nl = amdNextLevel(lo);
        if (level > 1 && nl === level - 1) stack.push([amdAddrPfn(lo, hi), nl]);
        else if (level === 1) {
          const target = amdAddrPfn(lo, hi);
          if (target < cfg.frames && frameRole(fr, target) === ROLE_FREE) return `dom ${d} maps a free frame ${target}`;
        }
      }
    }
  }
  for (let f = 0; f < cfg.frames; f++) {
    if (frameRole(fr, f) !== ROLE_IOMMU_PT) continue;
    const detached = (frameFlags(fr, f) & F_DETACHED) !== 0;
    if (detached && linked.has(f)) return `detached table frame ${f} is still linked`;
    if (!detached && !linked.has(f)) return `table frame ${f} is neither linked nor detached (leaked)`;
  }
  const mp = s[MAPS];
  const w = new WalkResult();
  for (let m = 0; m < cfg.maxMappings; m++) {
    if (mStatus(mp, m) !== MS_MAPPED) continue;
    const d = mDev(mp, m);
    if (deviceMode(s[DTE], d) !== "translate") continue;
    let v = mIova(mp, m);
    for (let sg = 0; sg < mSegs(mp, m); sg++) {
      // A bounced segment is mapped through its swiotlb slot, not the buffer.
      const slot = mSegBounce(mp, m, sg);
      const first = slot >= 0 ? slot : mSegFrame(mp, m, sg) + Math.floor(mSegOffset(mp, m, sg) / PAGE_SIZE);
      const n = segPages(mSegOffset(mp, m, sg), mSegLen(mp, m, sg));
      for (let p = 0; p < n; p++) {
        walkMemory(sys, pt, s[DTE], d, v + p, w);
        // A copying policy (shadow) hands out IOVAs of its own pool pages, not of the buffer. A buffer
        // that is itself in the pool (damn) must translate to its own frame, not to any pool page.
        const pool = w.frame >= 0 && w.frame < cfg.frames && devicePoolFrame(s, d, w.frame) && !devicePoolFrame(s, d, first + p);
        if (w.frame === first + p || pool) continue;
        // coiommu: the DMA address of every page is its guest-physical address (window base + frame), segment by segment.
        if (!sys.policy.name.startsWith("coiommu")) return `mapping #${m}: IOVA page ${v + p} translates to ${w.frame}, not ${first + p}`;
        walkMemory(sys, pt, s[DTE], d, sys.g.winBase + first + p, w);
        if (w.frame !== first + p) return `mapping #${m}: IOVA page ${v + p} translates to neither ${first + p} nor its guest-physical page`;
      }
      v += n;
    }
  }
  return null;
}
