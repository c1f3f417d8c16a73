/**
 * The IOMMU's caches decoded: the IOTLB, the directory-entry (PDE) cache,
 * and the devices' own ATCs (docs/state.md "The IOTLB and the
 * directory-entry cache"; docs/devices.md; iotlb.ts, iommu.ts).
 */
import { ATC, IOTLB, IOTLB_W, PDEC, levelShift, type Geometry } from "../geometry.ts";
import { pdecFrame, pdecIr, pdecIw, pdecNextLevel } from "../iotlb.ts";
import { IOTLB_NEGATIVE } from "../iommu.ts";
import { type State } from "../state.ts";
import { hex } from "./record.ts";

/** An IOTLB entry (per domain) or an ATC entry (per device): one per window page. */
export type TranslationCacheRecord = {
  readonly kind: "iotlb" | "atc";
  /** "dom 0 0x1f8000" (IOTLB) or "dev0 0x1f8000" (ATC). */
  readonly key: string;
  readonly iova: string;
  /** The cached frame, or null for a cached not-present translation (VT-d caching mode). */
  readonly frame: number | null;
  readonly read: boolean;
  readonly write: boolean;
}

export type PdeCacheRecord = {
  readonly kind: "pde-cache";
  /** "dom 0 L2 0x0": the directory entry of the level-2 table covering IOVA 0x0 onward. */
  readonly key: string;
  readonly level: number;
  /** IOVA range the cached directory entry covers. */
  readonly iova: string;
  readonly pages: number;
  /** The table it points to, and that table's level. */
  readonly table: number;
  readonly nextLevel: number;
  /** Permissions accumulated down to and including the entry. */
  readonly read: boolean;
  readonly write: boolean;
}

function translations(g: Geometry, words: readonly number[], kind: "iotlb" | "atc"): TranslationCacheRecord[] {
  const out: TranslationCacheRecord[] = [];
  for (let i = 0; i * IOTLB_W < words.length; i++) {
    const w0 = words[i * IOTLB_W];
    if (w0 === 0) continue;
    const owner = Math.floor(i / g.winPages);
    const iova = hex((g.winBase + (i % g.winPages)) * 4096);
    const negative = w0 === IOTLB_NEGATIVE;
    out.push({
      kind, key: `${kind === "iotlb" ? `dom ${owner}` : `dev${owner}`} ${iova}`, iova, frame: negative ? null : words[i * IOTLB_W + 1],
      read: !negative && (w0 & 2) !== 0, write: !negative && (w0 & 4) !== 0,
    });
  }
  return out;
}

export function decodeIotlb(g: Geometry, s: State): TranslationCacheRecord[] {
  return translations(g, s[IOTLB], "iotlb");
}

export function decodeAtc(g: Geometry, s: State): TranslationCacheRecord[] {
  return translations(g, s[ATC], "atc");
}

export function decodePdeCache(g: Geometry, s: State): PdeCacheRecord[] {
  const c = s[PDEC];
  const out: PdeCacheRecord[] = [];
  for (let dom = 0; dom < g.cfg.devices; dom++) {
    for (let level = 2; level <= g.cfg.iommuLevels; level++) {
      for (let p = 0; p < g.pdecCount[level]; p++) {
        const e = c[dom * g.pdecPerDomain + g.pdecOffset[level] + p];
        if (e === 0) continue;
        const span = 2 ** levelShift(level);
        const iova = hex((g.pdecFirst[level] + p) * span * 4096);
        out.push({
          kind: "pde-cache", key: `dom ${dom} L${level} ${iova}`, level, iova, pages: span, table: pdecFrame(e), nextLevel: pdecNextLevel(e),
          read: pdecIr(e), write: pdecIw(e),
        });
      }
    }
  }
  return out;
}
