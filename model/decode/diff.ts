/**
 * What a step changed, as records: those added, removed, and changed (with
 * each changed field's old and new value). Records are matched by kind and
 * key; the changes come in a stable order: kinds in RECORD_KINDS order, then
 * keys in natural order (record.ts compareKeys), so the same two states
 * always give the same lines.
 */
import { compareKeys, fieldText, type FieldValue, RECORD_KINDS, type RecordKind, recordFields, type StateRecord } from "./record.ts";

export interface FieldChange {
  readonly field: string;
  readonly before: FieldValue;
  readonly after: FieldValue;
}

export type RecordChange =
  | { readonly change: "added"; readonly kind: RecordKind; readonly key: string; readonly record: StateRecord }
  | { readonly change: "removed"; readonly kind: RecordKind; readonly key: string; readonly record: StateRecord }
  | { readonly change: "changed"; readonly kind: RecordKind; readonly key: string; readonly fields: readonly FieldChange[] };

function index(rs: readonly StateRecord[]): Map<string, StateRecord> {
  const m = new Map<string, StateRecord>();
  for (const r of rs) m.set(`${r.kind}\u0000${r.key}`, r);
  return m;
}

export function diffRecords(before: readonly StateRecord[], after: readonly StateRecord[]): RecordChange[] {
  const a = index(before), b = index(after);
  const out: RecordChange[] = [];
  for (const [id, r] of a) {
    const n = b.get(id);
    if (n === undefined) {
      out.push({ change: "removed", kind: r.kind, key: r.key, record: r });
      continue;
    }
    const fields: FieldChange[] = [];
    const nf = new Map(recordFields(n));
    for (const [field, v] of recordFields(r)) {
      const w = nf.has(field) ? nf.get(field)! : null;
      if (v !== w) fields.push({ field, before: v, after: w });
    }
    if (fields.length > 0) out.push({ change: "changed", kind: r.kind, key: r.key, fields });
  }
  for (const [id, r] of b) if (!a.has(id)) out.push({ change: "added", kind: r.kind, key: r.key, record: r });
  const kindOrder = (k: RecordKind) => RECORD_KINDS.indexOf(k);
  return out.sort((x, y) => kindOrder(x.kind) - kindOrder(y.kind) || compareKeys(x.key, y.key) || (x.change < y.change ? -1 : x.change > y.change ? 1 : 0));
}

/** One line per change: "+ iotlb dom 0 0x1f8000: iova=... frame=7 ...", "- ...", "~ frame 7: role slab -> free, ...". */
export function changeLine(c: RecordChange): string {
  if (c.change === "changed") return `~ ${c.kind} ${c.key}: ${c.fields.map((f) => `${f.field} ${fieldText(f.before)} -> ${fieldText(f.after)}`).join(", ")}`;
  const fields = recordFields(c.record).map(([k, v]) => `${k}=${fieldText(v)}`).join(" ");
  return `${c.change === "added" ? "+" : "-"} ${c.kind} ${c.key}: ${fields}`;
}
