/**
 * The IOMMU as devices see it: the device table decides whether a device is
 * blocked, passed through (IOVA = physical address) or translated by its
 * domain's tables; translation goes through the IOTLB, then the directory
 * cache, then memory, filling both caches on every walk.
 *
 * Device i is attached to domain i (Linux gives each IOMMU group its own
 * default DMA domain).
 */
import { PAGE_SIZE } from "./config.ts";
import { C } from "./counters.ts";
import { ATC, DTE, DTE_W, IOTLB, PDEC, PTMEM } from "./geometry.ts";
import {
  FAULT_ACS_TB, FAULT_ATS_DISABLED, FAULT_BLOCKED, FAULT_NO_MEMORY, FAULT_NOT_PRESENT, FAULT_PERMISSION, MAX_SEGS, type Observation,
  SRC_ATC, SRC_FORGED, SRC_IOTLB, SRC_PASSTHROUGH, SRC_PDEC_WALK, SRC_WALK,
} from "./observation.ts";
import { type Tx, type Words } from "./state.ts";
import { domainRoot, walkFrom, WalkResult } from "./iommu-page-table.ts";
import {
  iotlbFill, iotlbSlot, pdecEncode, pdecFill, pdecFrame, pdecIr, pdecIw, pdecNextLevel, pdecSlot,
} from "./iotlb.ts";
import { DTE_D1HI_IOTLB, dteKind, dteUntranslatedPerms } from "./formats/amd-dte.ts";
import { walkFromVtd } from "./vtd-page-table.ts";
import { VTD_BLOCKED, VTD_PASSTHROUGH, vtdAtsEnabled, vtdContextLookup, vtdMode, vtdModeOf } from "./vtd-context.ts";

export type AttachMode = "translate" | "passthrough" | "blocked";

/** How device `dev` is attached, read from its device table entry (VT-d: its context entry). */
export function deviceMode(dte: Words, dev: number, vtd = false): AttachMode | "invalid" {
  if (vtd) {
    const m = vtdMode(dte, dev);
    return m === VTD_BLOCKED ? "blocked" : m === VTD_PASSTHROUGH ? "passthrough" : "translate";
  }
  for (let i = 0; i < DTE_W; i++) dteScratch[i] = dte[dev * DTE_W + i] >>> 0;
  return dteKind(dteScratch);
}
const dteScratch = [0, 0, 0, 0];

/** Whether device `dev`'s requests go untranslated with some permission (hot path: no allocation). */
export function isPassthrough(dte: Words, dev: number, vtd = false): boolean {
  if (vtd) return vtdMode(dte, dev) === VTD_PASSTHROUGH;
  return untranslatedPerms(dte, dev) > 0;
}
/** dteUntranslatedPerms on the device table words: -1 translate, else the permission bits (0 = blocked). */
function untranslatedPerms(dte: Words, dev: number): number {
  return dteUntranslatedPerms(dte[dev * DTE_W] >>> 0, dte[dev * DTE_W + 1] >>> 0);
}

const walk = new WalkResult();
let fillTx: Tx | null = null;
let fillDom = 0;
let fillV = 0;
let usedCache = false;
function fillPde(level: number, next: number, nextLevel: number, ir: boolean, iw: boolean): void {
  const tx = fillTx!;
  const s = pdecSlot(tx.g, fillDom, level, fillV);
  if (s >= 0) pdecFill(tx, s, pdecEncode(next, nextLevel, ir, iw));
}

/** IOTLB entry word 0 of a cached not-present translation (VT-d caching mode only). */
export const IOTLB_NEGATIVE = 8;

/** iotlbLookup's answer when the slot holds no entry: walk. */
const IOTLB_MISS = -2;

/**
 * The IOTLB's answer for IOVA page slot `slot`: the frame, -1 with
 * `obs.fault` set (a cached permission or, VT-d caching mode, a cached
 * not-present entry refuses it), or IOTLB_MISS. Counts the hit or miss.
 */
function iotlbLookup(tx: Tx, slot: number, write: boolean, seg: number, obs: Observation): number {
  if (slot >= 0) {
    const e = tx.c[IOTLB][slot];
    if (e !== 0) {
      obs.counters[C.iotlbHits]++;
      obs.segSource[seg] = SRC_IOTLB;
      if (e === IOTLB_NEGATIVE) {
        obs.fault = FAULT_NOT_PRESENT;
        return -1;
      }
      if ((write ? e & 4 : e & 2) === 0) {
        obs.fault = FAULT_PERMISSION;
        return -1;
      }
      return tx.c[IOTLB][slot + 1];
    }
  }
  obs.counters[C.iotlbMisses]++;
  return IOTLB_MISS;
}

/**
 * After a walk into `walk`: counts its references, records the source, fills
 * the IOTLB and applies the permissions. With `cacheNotPresent` (VT-d caching
 * mode) a walk that ends at a not-present entry is cached as IOTLB_NEGATIVE.
 */
function walked(tx: Tx, slot: number, write: boolean, seg: number, cacheNotPresent: boolean, obs: Observation): number {
  fillTx = null;
  obs.counters[C.walkRefs] += walk.refs;
  obs.segSource[seg] = usedCache ? SRC_PDEC_WALK : SRC_WALK;
  if (walk.frame < 0) {
    if (cacheNotPresent && slot >= 0 && tx.c[IOTLB][slot] !== IOTLB_NEGATIVE) {
      const t = tx.w(IOTLB);
      t[slot] = IOTLB_NEGATIVE;
      t[slot + 1] = 0;
    }
    obs.fault = FAULT_NOT_PRESENT;
    return -1;
  }
  if (slot >= 0) iotlbFill(tx, slot, walk.frame, walk.ir, walk.iw);
  if (!(write ? walk.iw : walk.ir)) {
    obs.fault = FAULT_PERMISSION;
    return -1;
  }
  if (walk.frame >= tx.g.cfg.frames) {
    obs.fault = FAULT_NO_MEMORY;
    return -1;
  }
  return walk.frame;
}

/** Where a walk starts: set by startFromCachedPde (hot path: one reused record, no allocation). */
const start = { table: 0, level: 0, ir: true, iw: true };

/** The walk for page `v` starts at the deepest cached directory entry, if any, else at `root`; sets usedCache. */
function startFromCachedPde(tx: Tx, dev: number, v: number, root: number): void {
  const g = tx.g;
  start.table = root;
  start.level = g.cfg.iommuLevels;
  start.ir = true;
  start.iw = true;
  usedCache = false;
  for (let l = 2; l <= g.cfg.iommuLevels; l++) {
    const s = pdecSlot(g, dev, l, v);
    if (s < 0) continue;
    const e = tx.c[PDEC][s];
    if (e === 0) continue;
    start.table = pdecFrame(e);
    start.level = pdecNextLevel(e);
    start.ir = pdecIr(e);
    start.iw = pdecIw(e);
    usedCache = true;
    return;
  }
}

/**
 * Translates IOVA page `v` for device `dev`. Returns the frame, or -1 with
 * `obs.fault` set. `obs.segSource[seg]` gets how it was translated.
 */
function translate(tx: Tx, dev: number, v: number, write: boolean, seg: number, obs: Observation): number {
  if (tx.g.vtd) return translateVtd(tx, dev, v, write, seg, obs);
  const perms = untranslatedPerms(tx.c[DTE], dev);
  if (perms === 0) {
    obs.fault = FAULT_BLOCKED;
    return -1;
  }
  if (perms > 0) {
    obs.segSource[seg] = SRC_PASSTHROUGH;
    // Mode 0 with only IR or only IW: the other direction is refused.
    if ((perms & (write ? 4 : 2)) === 0) {
      obs.fault = FAULT_PERMISSION;
      return -1;
    }
    if (v >= tx.g.cfg.frames) {
      obs.fault = FAULT_NO_MEMORY;
      return -1;
    }
    return v;
  }
  const g = tx.g;
  const slot = iotlbSlot(g, dev, v);
  const hit = iotlbLookup(tx, slot, write, seg, obs);
  if (hit !== IOTLB_MISS) return hit;
  startFromCachedPde(tx, dev, v, domainRoot(tx.c[DTE], dev));
  fillTx = tx;
  fillDom = dev;
  fillV = v;
  walkFrom(tx.c[PTMEM], start.table, start.level, v, start.ir, start.iw, walk, fillPde);
  return walked(tx, slot, write, seg, false, obs);
}

const ctxRefs = { n: 0 };

/**
 * VT-d: the context entry (context cache, else root and context entry in
 * memory), then as AMD: IOTLB, the deepest cached directory entry, the
 * second-level walk. With caching mode a walk that ends at a not-present
 * entry is cached too (IOTLB_NEGATIVE), so the device keeps faulting on
 * that page until an invalidation drops it.
 */
function translateVtd(tx: Tx, dev: number, v: number, write: boolean, seg: number, obs: Observation): number {
  const g = tx.g;
  const at = vtdContextLookup(tx, dev, ctxRefs);
  obs.counters[C.walkRefs] += ctxRefs.n;
  const ctxLo = tx.c[DTE][at];
  const mode = vtdModeOf(ctxLo);
  if (mode === VTD_BLOCKED) {
    obs.fault = FAULT_BLOCKED;
    return -1;
  }
  if (mode === VTD_PASSTHROUGH) {
    obs.segSource[seg] = SRC_PASSTHROUGH;
    if (v >= g.cfg.frames) {
      obs.fault = FAULT_NO_MEMORY;
      return -1;
    }
    return v;
  }
  const slot = iotlbSlot(g, dev, v);
  const hit = iotlbLookup(tx, slot, write, seg, obs);
  if (hit !== IOTLB_MISS) return hit;
  startFromCachedPde(tx, dev, v, domainRoot(tx.c[DTE], at / DTE_W));
  fillTx = tx;
  fillDom = dev;
  fillV = v;
  walkFromVtd(tx.c[PTMEM], start.table, start.level, v, start.ir, start.iw, walk, fillPde);
  return walked(tx, slot, write, seg, g.cachingMode, obs);
}

/** How an access reaches memory: untranslated (through the IOMMU), ATS via the device's ATC, or forged. */
const VIA_IOMMU = 0, VIA_ATC = 1, VIA_FORGED = 2;

/**
 * The one access loop: [start, start+len) page by page, each page resolved to
 * a frame by `via`; the access stops at the first fault. The segments
 * performed are recorded in the observation for the properties.
 */
function access(tx: Tx, dev: number, write: boolean, start: number, len: number, via: number, obs: Observation): void {
  obs.dev = dev;
  obs.write = write;
  obs.iova = start;
  obs.len = len;
  obs.nseg = 0;
  if (via !== VIA_IOMMU && !translatedAllowed(tx, dev, obs)) return;
  let addr = start;
  const end = start + len;
  while (addr < end && obs.nseg < MAX_SEGS) {
    const p = Math.floor(addr / PAGE_SIZE);
    const off = addr - p * PAGE_SIZE;
    const n = Math.min(end - addr, PAGE_SIZE - off);
    const seg = obs.nseg;
    const frame = via === VIA_IOMMU ? translate(tx, dev, p, write, seg, obs) : via === VIA_ATC ? atcTranslate(tx, dev, p, write, obs) : forgedFrame(tx, p, obs);
    if (frame < 0) {
      obs.faultIovaPfn = p;
      return;
    }
    obs.segIovaPfn[seg] = p;
    obs.segFrame[seg] = frame;
    obs.segOffset[seg] = off;
    obs.segLen[seg] = n;
    if (via === VIA_ATC) obs.segSource[seg] = SRC_ATC;
    else if (via === VIA_FORGED) obs.segSource[seg] = SRC_FORGED;
    obs.nseg++;
    obs.counters[C.dmaBytes] += n;
    addr += n;
  }
}

/** Device `dev` reads or writes [iova, iova+len) with untranslated requests, through the IOMMU. */
export function deviceAccess(tx: Tx, dev: number, write: boolean, iova: number, len: number, obs: Observation): void {
  access(tx, dev, write, iova, len, VIA_IOMMU, obs);
}

// ---- PCIe ATS: translated requests ---------------------------------------------

/** Whether `dev`'s device table entry enables ATS (data[1] bit 32, IOTLB); VT-d: its context entry's TT is CONTEXT_TT_DEV_IOTLB. */
export function atsEnabled(dte: Words, dev: number, vtd = false): boolean {
  if (vtd) return vtdAtsEnabled(dte, dev);
  return (dte[dev * DTE_W + 3] & DTE_D1HI_IOTLB) !== 0;
}

/** Whether a translated request from `dev` gets through; sets obs.fault when not. */
function translatedAllowed(tx: Tx, dev: number, obs: Observation): boolean {
  // ACS Translation Blocking stops translated requests at the port, before the IOMMU.
  if (tx.g.cfg.acsTb === true) {
    obs.fault = FAULT_ACS_TB;
    return false;
  }
  // The IOMMU passes a translated request on untranslated only if the DTE enables ATS.
  if (!atsEnabled(tx.c[DTE], dev, tx.g.vtd)) {
    obs.fault = FAULT_ATS_DISABLED;
    return false;
  }
  return true;
}

/**
 * Device `dev` uses ATS: for each page of [iova, iova+len) it takes the
 * translation from its own ATC, asking the IOMMU for it (a Translation
 * Request, translated like an untranslated access, IOTLB and all) when the
 * ATC has none, then sends a translated request that the IOMMU does not check.
 * A trusted device respects the permissions it was given; an untrusted one
 * does not (nothing checks a translated request).
 */
export function deviceAtsAccess(tx: Tx, dev: number, write: boolean, iova: number, len: number, obs: Observation): void {
  access(tx, dev, write, iova, len, VIA_ATC, obs);
}

/** An untrusted device forges a translated request for physical [phys, phys+len): Thunderclap's ATS attack. */
export function deviceForgedAccess(tx: Tx, dev: number, write: boolean, phys: number, len: number, obs: Observation): void {
  access(tx, dev, write, phys, len, VIA_FORGED, obs);
}

/** The frame the device's ATC gives for window page `v` (filling it by a Translation Request), or -1 with obs.fault. */
function atcTranslate(tx: Tx, dev: number, v: number, write: boolean, obs: Observation): number {
  const slot = iotlbSlot(tx.g, dev, v);
  if (slot < 0) {
    obs.fault = FAULT_NOT_PRESENT;
    return -1;
  }
  let e = tx.c[ATC][slot];
  if (e === 0) {
    // Translation Request: the IOMMU looks the page up as for any access (IOTLB,
    // directory cache, walk, filling them) and returns the translation with its
    // permissions, which is what the IOTLB now holds.
    translate(tx, dev, v, false, obs.nseg, obs);
    obs.fault = 0;
    e = tx.c[IOTLB][slot];
    if (e === 0 || e === IOTLB_NEGATIVE) {
      obs.fault = FAULT_NOT_PRESENT;
      return -1;
    }
    const atc = tx.w(ATC);
    atc[slot] = e;
    atc[slot + 1] = tx.c[IOTLB][slot + 1];
  }
  if (tx.g.cfg.untrusted !== true && (write ? e & 4 : e & 2) === 0) {
    obs.fault = FAULT_PERMISSION;
    return -1;
  }
  const frame = tx.c[ATC][slot + 1];
  if (frame >= tx.g.cfg.frames) {
    obs.fault = FAULT_NO_MEMORY;
    return -1;
  }
  return frame;
}

/** A forged request names physical frame `f` directly: nothing checks it, only memory's end. */
function forgedFrame(tx: Tx, f: number, obs: Observation): number {
  if (f >= tx.g.cfg.frames) {
    obs.fault = FAULT_NO_MEMORY;
    return -1;
  }
  return f;
}

/** The ATC side of INVALIDATE_IOTLB_PAGES: a trusted device drops the entries; an untrusted one keeps them. */
export function invalidateAtc(tx: Tx, dev: number, first: number, pages: number): void {
  if (tx.g.cfg.untrusted === true || tx.c[ATC].length === 0) return;
  const g = tx.g;
  const lo = Math.max(first, g.winBase);
  const hi = Math.min(first + pages - 1, g.winBase + g.winPages - 1);
  for (let v = lo; v <= hi; v++) {
    const s = iotlbSlot(g, dev, v);
    if (tx.c[ATC][s] === 0) continue;
    const atc = tx.w(ATC);
    atc[s] = 0;
    atc[s + 1] = 0;
  }
}
