/**
 * A decoded state is a list of records: one per thing the state holds (a
 * frame, an object, a page-table entry, an IOTLB entry, a queued command...).
 * A record has a kind, a key that names it within its kind across steps
 * (frame 7 is "7" at every step), and named fields in a fixed order. What a
 * step changed is then the records added, removed or changed (diff.ts).
 * Off the hot path: nothing here runs inside a search.
 */

/** A decoded field: words are turned into numbers, names, flags and short texts. */
export type FieldValue = string | number | boolean | null;

/** Kinds in the order a decoded state lists them (and a diff prints them). */
export const RECORD_KINDS = [
  "header", "frame", "free-list", "pin", "object", "device-entry", "pte", "iotlb", "pde-cache", "atc",
  "command", "semaphore", "call", "mapping", "fq-domain", "flush-queue", "iova", "tlb", "policy-word",
] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

/** One record: `kind`, `key` and its fields (every other property, in insertion order). */
export type StateRecord = {
  readonly kind: RecordKind;
  readonly key: string;
  readonly [field: string]: FieldValue;
}

/** The fields of a record, without its kind and key, in order. */
export function recordFields(r: StateRecord): [string, FieldValue][] {
  return Object.entries(r).filter(([k]) => k !== "kind" && k !== "key") as [string, FieldValue][];
}

/** A field's value as text: booleans as yes/no, null as "-", a text in JSON quotes when it is empty or has spaces. */
export function fieldText(v: FieldValue): string {
  if (v === null) return "-";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "number") return String(v);
  return v === "" || /[\s"=]/.test(v) ? JSON.stringify(v) : v;
}

/** One line: `frame 7: role=slab owner=kernel ...`. */
export function recordLine(r: StateRecord): string {
  return `${r.kind} ${r.key}: ${recordFields(r).map(([k, v]) => `${k}=${fieldText(v)}`).join(" ")}`;
}

/** 0x-prefixed hexadecimal. */
export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/**
 * Compares two keys naturally: runs of digits as numbers, so "frame 9"
 * sorts before "frame 10" ("0x" numbers are compared as hex). Deterministic,
 * independent of the locale.
 */
export function compareKeys(a: string, b: string): number {
  const ta = a.match(/0x[0-9a-f]+|\d+|\D+/g) ?? [];
  const tb = b.match(/0x[0-9a-f]+|\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const x = ta[i], y = tb[i];
    const nx = /^(0x[0-9a-f]+|\d+)$/.test(x), ny = /^(0x[0-9a-f]+|\d+)$/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
    } else if (x !== y) return x < y ? -1 : 1;
  }
  return ta.length - tb.length;
}
