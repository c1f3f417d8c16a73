/**
 * The device table decoded: AMD device-table entries, or VT-d context
 * entries with bus 0's root entry and the context cache (docs/state.md "The
 * device table", docs/iommus.md; formats/amd-dte.ts, formats/vtd-*.ts).
 */
import { DTE, DTE_W, type Geometry } from "../geometry.ts";
import { decodeDte, describeDte, dteKind } from "../formats/amd-dte.ts";
import { type ContextEntryWords, decodeContextEntry, describeContextEntry } from "../formats/vtd-context-entry.ts";
import { describeRootEntry, type RootEntryWords } from "../formats/vtd-root-entry.ts";
import { ccOffset, rootOffset, vtdModeOf, VTD_BLOCKED, VTD_PASSTHROUGH } from "../vtd-context.ts";
import { type State } from "../state.ts";

export type DeviceEntryRecord = {
  readonly kind: "device-entry";
  /** "dev0" (AMD DTE or VT-d context entry in memory), "dev0 cached" (VT-d context cache), "root bus 0". */
  readonly key: string;
  /** translate, passthrough, blocked or invalid; "-" for the root entry. */
  readonly mode: string;
  /** Hardware domain ID (device N's domain is ID N + 1), or null. */
  readonly domainId: number | null;
  /** Root table frame of a translating entry, or null. */
  readonly root: number | null;
  /** The entry in its format's own words. */
  readonly entry: string;
}

function words(d: readonly number[], at: number): [number, number, number, number] {
  return [d[at] >>> 0, d[at + 1] >>> 0, d[at + 2] >>> 0, d[at + 3] >>> 0];
}

function vtdEntry(key: string, w: ContextEntryWords): DeviceEntryRecord {
  const c = decodeContextEntry(w);
  const mode = vtdModeOf(w[0] | 0);
  return {
    kind: "device-entry", key, mode: mode === VTD_BLOCKED ? "blocked" : mode === VTD_PASSTHROUGH ? "passthrough" : "translate",
    domainId: c.present ? c.domainId : null, root: mode === VTD_BLOCKED || mode === VTD_PASSTHROUGH ? null : c.slptPfn, entry: describeContextEntry(w),
  };
}

export function decodeDeviceTable(g: Geometry, s: State): DeviceEntryRecord[] {
  const d = s[DTE];
  const out: DeviceEntryRecord[] = [];
  for (let dev = 0; dev < g.cfg.devices; dev++) {
    const w = words(d, dev * DTE_W);
    if (g.vtd) {
      out.push(vtdEntry(`dev${dev}`, w));
      continue;
    }
    const e = decodeDte(w);
    const kind = dteKind(w);
    out.push({ kind: "device-entry", key: `dev${dev}`, mode: kind, domainId: e.domainId, root: kind === "translate" ? e.rootPfn : null, entry: describeDte(w) });
  }
  if (g.vtd) {
    out.push({ kind: "device-entry", key: "root bus 0", mode: "-", domainId: null, root: null, entry: describeRootEntry(words(d, rootOffset(g)) as RootEntryWords) });
    for (let dev = 0; dev < g.cfg.devices; dev++) {
      const w = words(d, ccOffset(g, dev));
      if (w[0] !== 0) out.push(vtdEntry(`dev${dev} cached`, w));
    }
  }
  return out;
}
