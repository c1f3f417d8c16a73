/**
 * The document `dmacheck check --json` prints, as an effect Schema: what
 * `dmacheck report RESULT.json` reads. Only the fields the report uses are
 * declared; others (a later version's additions) are ignored, and a field
 * the report uses that is missing or of the wrong type is one line naming
 * the file and the JSON path (counterexamples/decode-json.ts).
 */
import { Schema } from "effect";
import { decodeJson, readJsonFile, type DecodeResult } from "../counterexamples/decode-json.ts";

const num = (expected: string, ok: (n: number) => boolean) => Schema.Number.check(Schema.makeFilter((n: number) => ok(n), { expected }));
const Nat = num("a non-negative integer", (n) => Number.isSafeInteger(n) && n >= 0);
const NonNegative = num("a non-negative number", (n) => Number.isFinite(n) && n >= 0);

const AntecedentSchema = Schema.Struct({
  summary: Schema.String,
  reached: NonNegative,
  vacuous: Schema.NullOr(Schema.String),
});

const CoverageSchema = Schema.Struct({
  transitions: NonNegative,
  antecedent: Schema.NullOr(AntecedentSchema),
});

export const CheckResultRowSchema = Schema.Struct({
  engine: Schema.Literals(["random", "exhaustive"]),
  policy: Schema.String,
  property: Schema.String,
  claimed: Schema.Boolean,
  verdict: Schema.Literals(["holds", "violated"]),
  runs: Schema.NullOr(Nat),
  states: Schema.NullOr(Nat),
  depth: Schema.NullOr(Nat),
  exhausted: Schema.NullOr(Schema.Boolean),
  bound: Schema.NullOr(Schema.String),
  counterexample: Schema.NullOr(Schema.String),
  length: Schema.NullOr(Nat),
  ms: NonNegative,
  explanation: Schema.NullOr(Schema.String),
  vacuous: Schema.Boolean,
  coverage: Schema.NullOr(CoverageSchema),
  /** "main", "race" (found by the race pass) or null (random engine); absent in documents from before the race pass. */
  pass: Schema.optional(Schema.NullOr(Schema.Literals(["main", "race"]))),
});

const RaceSchema = Schema.Struct({
  states: Nat,
  depth: Nat,
  stopped: Schema.String,
  exhausted: Schema.Boolean,
  cpus: Nat,
  devices: Nat,
  frames: Nat,
  maxMappings: Nat,
});

const SearchSchema = Schema.Struct({
  policy: Schema.String,
  states: Nat,
  transitions: Nat,
  depth: Nat,
  stopped: Schema.String,
  symmetry: Schema.Boolean,
  omission: Schema.NullOr(NonNegative),
  ms: NonNegative,
  /** The race pass after this search (absent in documents from before it). */
  race: Schema.optional(Schema.NullOr(RaceSchema)),
  /** Every search of the race pass, in order (absent in documents from before the device race scope). */
  races: Schema.optional(Schema.Array(RaceSchema)),
});

export const CheckResultSchema = Schema.Struct({
  tool: Schema.Literal("dmacheck"),
  engine: Schema.Literals(["random", "exhaustive", "both"]),
  device: Schema.Array(Schema.String),
  random: Schema.optional(Schema.Struct({ seed: Schema.Number, runs: Nat, maxEvents: Nat })),
  exhaustive: Schema.optional(Schema.Struct({ depth: Nat, maxStates: Nat, searches: Schema.Array(SearchSchema) })),
  results: Schema.Array(CheckResultRowSchema),
});

export type CheckResult = typeof CheckResultSchema.Type;
export type CheckResultRow = typeof CheckResultRowSchema.Type;
export type CheckSearch = typeof SearchSchema.Type;

export function decodeCheckResult(json: unknown, source: string): DecodeResult<CheckResult> {
  return decodeJson(CheckResultSchema, json, source, "ignore");
}

export function readCheckResultFile(path: string): DecodeResult<CheckResult> {
  const r = readJsonFile(path);
  return r.ok ? decodeCheckResult(r.value, path) : r;
}
