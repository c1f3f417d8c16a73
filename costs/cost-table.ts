/**
 * The cost table: nanoseconds per unit of each counter (model/counters.ts),
 * each with where the figure comes from. It is data (costs/default-costs.json);
 * `dmacheck cost --costs FILE` replaces any subset of it:
 *
 *   { "format": "dmacheck/costs@1", "unit": "ns",
 *     "counters": { "walkRefs": { "ns": 50, "source": "my measurement" } } }
 *
 * Counters a file leaves out keep their default. Every entry says where its
 * number comes from: a `source`, or `"assumption": true` with a `rationale`.
 * A wrong or unknown field is one line naming its JSON path.
 */
import { readFileSync } from "node:fs";
import { Schema } from "effect";
import { COUNTERS, type CounterName } from "../model/counters.ts";
import { decodeJson, readJsonFile, type DecodeResult } from "../counterexamples/decode-json.ts";

export const COSTS_FORMAT = "dmacheck/costs@1";
export const DEFAULT_COSTS_FILE = "costs/default-costs.json";

export interface CostEntry {
  /** Nanoseconds per unit of the counter (per command, per byte, ...). */
  readonly ns: number;
  readonly source?: string;
  readonly assumption?: true;
  readonly rationale?: string;
}

export type CostTable = Readonly<Record<CounterName, CostEntry>>;

/**
 * Most nanoseconds per unit of a counter: a second, far above anything the
 * model counts (a VM exit is microseconds), and small enough that every
 * estimate (count x ns, summed) stays a finite number in the output.
 */
export const MAX_COST_NS = 1e9;

const NonNegative = Schema.Number.check(
  Schema.makeFilter((n: number) => Number.isFinite(n) && n >= 0 && n <= MAX_COST_NS, { expected: `a finite number in 0..${MAX_COST_NS}` }),
);
const Text = Schema.String.check(Schema.makeFilter((s: string) => s.trim().length > 0, { expected: "a non-empty string" }));

const Entry = Schema.Struct({
  ns: NonNegative,
  source: Schema.optionalKey(Text),
  assumption: Schema.optionalKey(Schema.Literal(true)),
  rationale: Schema.optionalKey(Text),
}).check(
  // A figure without provenance is not allowed: say where it comes from, or that it is assumed and why.
  Schema.makeFilter(
    (e: { source?: string; assumption?: true; rationale?: string }) =>
      e.source !== undefined ? e.assumption === undefined : e.assumption === true && e.rationale !== undefined,
    { expected: `"ns" with either "source", or "assumption": true and "rationale"` },
  ),
);

const OptionalEntry = Schema.optionalKey(Entry);
const counterFields = Object.fromEntries(COUNTERS.map((n) => [n, OptionalEntry])) as Record<CounterName, typeof OptionalEntry>;

export const CostsFileSchema = Schema.Struct({
  format: Schema.Literal(COSTS_FORMAT),
  unit: Schema.Literal("ns"),
  counters: Schema.Struct(counterFields),
});

/** Decodes a costs document; the counters it gives replace those of `base`. */
export function decodeCosts(json: unknown, source: string, base: CostTable): DecodeResult<CostTable> {
  const r = decodeJson(CostsFileSchema, json, source);
  if (!r.ok) return r;
  return { ok: true, value: { ...base, ...(r.value.counters as Partial<Record<CounterName, CostEntry>>) } };
}

/** Reads a user's costs file over the default table. */
export function readCostsFile(path: string): DecodeResult<CostTable> {
  const r = readJsonFile(path);
  return r.ok ? decodeCosts(r.value, path, defaultCosts()) : r;
}

let defaults: CostTable | null = null;

/** The default table (costs/default-costs.json), which must give every counter. */
export function defaultCosts(): CostTable {
  if (defaults !== null) return defaults;
  const json = JSON.parse(readFileSync(new URL("./default-costs.json", import.meta.url), "utf8")) as unknown;
  const r = decodeJson(CostsFileSchema, json, DEFAULT_COSTS_FILE);
  if (!r.ok) throw new Error(r.error);
  const given = r.value.counters as Partial<Record<CounterName, CostEntry>>;
  const missing = COUNTERS.filter((n) => given[n] === undefined);
  if (missing.length > 0) throw new Error(`${DEFAULT_COSTS_FILE}: no cost for ${missing.join(", ")}`);
  defaults = given as CostTable;
  return defaults;
}

/** Estimated nanoseconds: the sum over counters of count x ns per unit. */
export function estimateNs(counts: Readonly<Record<CounterName, number>>, costs: CostTable): number {
  let ns = 0;
  for (const n of COUNTERS) ns += counts[n] * costs[n].ns;
  return ns;
}

/** The table as a costs document (what `cost --json` reports under "costs"). */
export function costsDocument(costs: CostTable): { format: string; unit: "ns"; counters: CostTable } {
  return { format: COSTS_FORMAT, unit: "ns", counters: costs };
}
