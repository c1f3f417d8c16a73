/**
 * `dmacheck cost --experiment metadata`: struct-page metadata for a host of a
 * given size under each backing scheme (model/memory-metadata.ts).
 */
import { GIB, METADATA_SCHEMES, MIB, TIB, metadataRows, type MetadataRow } from "../../model/memory-metadata.ts";

export const DEFAULT_HOST_BYTES = TIB;

const UNITS: Readonly<Record<string, number>> = { B: 1, KIB: 1024, MIB, GIB, TIB, PIB: 2 ** 50 };

/** "1TiB", "512 GiB", "4096" (bytes) -> bytes; null when not a positive whole number of bytes up to 2^53. */
export function parseHostSize(v: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGTP]iB|B)?\s*$/i.exec(v);
  if (m === null) return null;
  const unit = UNITS[(m[2] ?? "B").toUpperCase()];
  if (unit === undefined) return null;
  const bytes = Number(m[1]) * unit;
  if (!Number.isSafeInteger(bytes) || bytes < 1) return null;
  return bytes;
}

/** Human size, exact when it is a whole number of the largest fitting binary unit. */
export function formatBytes(n: number): string {
  if (n === 0) return "0 B";
  for (const [u, f] of [["PiB", 2 ** 50], ["TiB", TIB], ["GiB", GIB], ["MiB", MIB], ["KiB", 1024]] as const) {
    if (n >= f) {
      const x = n / f;
      return `${Number.isInteger(x) ? x : x.toFixed(3)} ${u}`;
    }
  }
  return `${n} B`;
}

export interface MetadataReport {
  readonly experiment: "metadata";
  readonly rows: readonly MetadataRow[];
}

export function metadataReport(hostBytes: number): MetadataReport {
  return { experiment: "metadata", rows: metadataRows(hostBytes) };
}

export function renderMetadata(r: MetadataReport): string {
  const host = r.rows[0]?.hostBytes ?? 0;
  const out = [
    `struct page metadata (vmemmap) for a host of ${formatBytes(host)}: 64 B of struct page per 4 KiB page,`,
    "less what HugeTLB vmemmap optimisation or device-dax compound pages free (Linux",
    "Documentation/mm/vmemmap_dedup.rst); pageless memory has none. See docs/memory-metadata.md.",
    "",
  ];
  const lines = [["scheme", "metadata", "bytes", "percent", ""]];
  for (const row of r.rows) {
    const s = METADATA_SCHEMES.find((x) => x.scheme === row.scheme);
    lines.push([row.scheme, formatBytes(row.metadataBytes), String(row.metadataBytes), `${row.percent.toFixed(4)} %`, s?.summary ?? ""]);
  }
  const w = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  for (const l of lines) {
    out.push("  " + l.map((c, i) => (i === 0 || i === 4 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  ").trimEnd());
  }
  return out.join("\n") + "\n";
}
