/**
 * VT-d device attachment: the root entry of bus 0, one legacy-mode context
 * entry per device (device i is requester id 0:i, bus 0 devfn i, and domain
 * i with domain id i + 1), and the context cache.
 *
 * Layout of the DTE component on VT-d (geometry.ts): context entry of device
 * i at words 4i..4i+3 (bit-exact, vtd-context-entry.ts), the root entry at
 * 4n, and the context cache (a copy of device i's context entry, all zero
 * when not cached) at 4n + 4 + 4i. Like AMD's device table, the root and
 * context tables are kept out of the modelled frames: they are written once
 * at boot and never freed, so they take no part in any property, and the
 * frames stay free for what the properties are about. Their physical
 * addresses are fictional (CONTEXT_TABLE_BASE), like the semaphores'.
 *
 * The context cache is filled by a walk that misses it (two references:
 * root entry, context entry) and emptied only by a context-cache
 * invalidation descriptor (Linux qi_flush_context), adversarially, as the
 * IOTLB is.
 */
import { DTE, DTE_W, type Geometry } from "./geometry.ts";
import { type Tx, type Words } from "./state.ts";
import { buildRootEntry } from "./formats/vtd-root-entry.ts";
import {
  buildContextEntry, CONTEXT_TT_DEV_IOTLB, CONTEXT_TT_MULTI_LEVEL, CONTEXT_TT_PASS_THROUGH, ctxDomainId, levelToAgaw,
} from "./formats/vtd-context-entry.ts";

/** Fictional frame of bus 0's context table (outside the modelled frames). */
export const CONTEXT_TABLE_PFN = 0x7ffe0;

export function rootOffset(g: Geometry): number {
  return g.cfg.devices * DTE_W;
}
export function ccOffset(g: Geometry, dev: number): number {
  return g.cfg.devices * DTE_W + DTE_W + dev * DTE_W;
}

/** The context entry Linux domain_context_mapping_one writes for `mode` (blocked: cleared, not present). */
export function vtdContextWords(mode: "translate" | "passthrough" | "blocked", domainId: number, rootPfn: number, levels: number, ats: boolean): number[] {
  if (mode === "blocked") return [0, 0, 0, 0];
  const tt = mode === "passthrough" ? CONTEXT_TT_PASS_THROUGH : ats ? CONTEXT_TT_DEV_IOTLB : CONTEXT_TT_MULTI_LEVEL;
  return buildContextEntry({ present: true, fpd: false, tt, slptPfn: mode === "translate" ? rootPfn : 0, aw: levelToAgaw(levels), domainId });
}

/** Boot: writes bus 0's root entry (the context table's address | P). */
export function vtdBootRoot(tx: Tx): void {
  const d = tx.w(DTE);
  const r = buildRootEntry(CONTEXT_TABLE_PFN);
  const at = rootOffset(tx.g);
  for (let i = 0; i < DTE_W; i++) d[at + i] = r[i] | 0;
}

export const VTD_BLOCKED = 0, VTD_PASSTHROUGH = 1, VTD_TRANSLATE = 2;

/** How a context entry's low word attaches the device: not present or reserved TT = blocked. */
export function vtdModeOf(lo: number): number {
  if ((lo & 1) === 0) return VTD_BLOCKED;
  const tt = (lo >>> 2) & 3;
  return tt === CONTEXT_TT_PASS_THROUGH ? VTD_PASSTHROUGH : tt === 3 ? VTD_BLOCKED : VTD_TRANSLATE;
}

/** Mode of device `dev` by its context entry in memory. */
export function vtdMode(dte: Words, dev: number): number {
  return vtdModeOf(dte[dev * DTE_W]);
}

/** Whether `dev`'s context entry enables device-TLB translation (TT = CONTEXT_TT_DEV_IOTLB: ATS). */
export function vtdAtsEnabled(dte: Words, dev: number): boolean {
  const lo = dte[dev * DTE_W];
  return (lo & 1) !== 0 && ((lo >>> 2) & 3) === CONTEXT_TT_DEV_IOTLB;
}

/**
 * The context entry the IOMMU uses for `dev`: the cached one, else the one
 * in memory (2 references, returned through `refs`), which is then cached.
 * Returns the word offset of the entry in the DTE component.
 */
export function vtdContextLookup(tx: Tx, dev: number, refs: { n: number }): number {
  const g = tx.g;
  const cc = ccOffset(g, dev);
  if (tx.c[DTE][cc] !== 0) {
    refs.n = 0;
    return cc;
  }
  refs.n = 2; // root entry, then context entry
  const mem = dev * DTE_W;
  if ((tx.c[DTE][mem] & 1) !== 0) {
    const d = tx.w(DTE);
    for (let i = 0; i < DTE_W; i++) d[cc + i] = d[mem + i];
    return cc;
  }
  return mem;
}

/** Context-cache invalidation (Linux qi_flush_context): global (did < 0), by domain id, or one device. */
export function vtdInvalidateContextCache(tx: Tx, did: number, dev: number): void {
  const g = tx.g;
  for (let d = 0; d < g.cfg.devices; d++) {
    const cc = ccOffset(g, d);
    if (tx.c[DTE][cc] === 0) continue;
    if (dev >= 0 && d !== dev) continue;
    if (did >= 0 && ctxDomainId(tx.c[DTE][cc + 2]) !== did) continue;
    const w = tx.w(DTE);
    for (let i = 0; i < DTE_W; i++) w[cc + i] = 0;
  }
}
