/**
 * Scope files (`dmacheck check --scope FILE`): JSON decoded with effect
 * Schema. Every field is optional and falls back to the default scope, so a
 * file says only what it changes:
 *
 *   { "config": { "frames": 12, "maxMappings": 2 },
 *     "alphabet": { "kmallocSizes": [64, 2048], "dmaOffsets": [0, 64, 2048],
 *                   "mapRanges": [{ "src": "pages", "size": 8192, "offset": 2048, "len": 4096 }] },
 *     "depth": 30, "maxStates": 5000000 }
 *
 * A wrong or unknown field is one line naming it (`scope.json:
 * $.config.frames: expected an integer, got "x"`).
 */
import { Schema } from "effect";
import { configProblem, DEFAULT_IOMMU_LEVELS, iommuOf } from "../model/config.ts";
import { decodeJson, readJsonFile, type DecodeResult } from "../counterexamples/decode-json.ts";
import { Dir, Int, Nat, Pos } from "../counterexamples/schema.ts";
import { type Alphabet, DEFAULT_SCOPE, type Scope } from "./scope.ts";
import { alphabetLimitProblem, MAX_DEPTH, MAX_STATES, scopeLimitProblem } from "./limits.ts";

const opt = Schema.optional;

const ConfigPart = Schema.Struct({
  frames: opt(Int), cpus: opt(Int), devices: opt(Int), iovaPages: opt(Int), iovaBasePfn: opt(Int), iommuLevels: opt(Int),
  fqSize: opt(Int), fqTimeoutMs: opt(Int), maxMappings: opt(Int), maxObjects: opt(Int), cmdQueueEntries: opt(Int),
  maxOrder: opt(Int), userPages: opt(Int), reclaimEmptyTables: opt(Schema.Boolean),
  untrusted: opt(Schema.Boolean), ats: opt(Schema.Boolean), acsTb: opt(Schema.Boolean),
  // Absent: amd-v1. A file on vtd without iommuLevels gets VT-d's default depth (4 levels, 48-bit AGAW).
  iommu: opt(Schema.Literals(["amd-v1", "vtd"])), cachingMode: opt(Schema.Boolean),
  processes: opt(Int),
});

const AlphabetPart = Schema.Struct({
  kmallocSizes: opt(Schema.Array(Pos)),
  pageSizes: opt(Schema.Array(Pos)),
  directions: opt(Schema.Array(Dir)),
  dmaPages: opt(Schema.Array(Nat)),
  dmaOffsets: opt(Schema.Array(Nat)),
  dmaLens: opt(Schema.Array(Pos)),
  unmapSlots: opt(Nat),
  kernelSizes: opt(Schema.Array(Pos)),
  tickMs: opt(Schema.Array(Pos)),
  forgedFrames: opt(Schema.Array(Nat)),
  mapRanges: opt(Schema.Array(Schema.Struct({ src: Schema.Literals(["kmalloc", "pages"]), size: Pos, offset: Nat, len: Pos, dir: opt(Dir) }))),
  userTouchPages: opt(Schema.Array(Nat)),
  guestAccessPages: opt(Schema.Array(Nat)),
  userGetPages: opt(Schema.Array(Nat)),
  userPutPages: opt(Schema.Array(Nat)),
  xdpTxSlots: opt(Nat),
});

export const ScopeFileSchema = Schema.Struct({
  config: opt(ConfigPart),
  alphabet: opt(AlphabetPart),
  /** Longest execution explored. */
  depth: opt(Pos),
  /** Distinct states after which the search stops. */
  maxStates: opt(Pos),
});

export interface ScopeFile {
  readonly scope: Scope;
  readonly depth?: number;
  readonly maxStates?: number;
}

/** Decodes a scope document over `base` (the default scope unless given). */
export function decodeScope(json: unknown, source: string, base: Scope = DEFAULT_SCOPE): DecodeResult<ScopeFile> {
  const r = decodeJson(ScopeFileSchema, json, source);
  if (!r.ok) return r;
  const part = r.value.config;
  const levels = part?.iommu !== undefined && part.iommu !== iommuOf(base.config) && part.iommuLevels === undefined
    ? { iommuLevels: DEFAULT_IOMMU_LEVELS[part.iommu] } : {};
  const config = { ...base.config, ...levels, ...part };
  const bad = configProblem(config);
  if (bad !== null) return { ok: false, error: `${source}: $.config: ${bad}` };
  // Unless the file says otherwise, every live mapping can be unmapped.
  const unmapSlots = r.value.alphabet?.unmapSlots ?? Math.max(base.alphabet.unmapSlots, config.maxMappings);
  // A file that lists its own buffers (sizes or directions) gets just those: the default
  // alphabet's interior-pointer ranges are added only when the file leaves buffers alone,
  // so scope files written before the ranges existed keep their alphabets.
  const a = r.value.alphabet;
  const ownBuffers = a !== undefined && a.mapRanges === undefined && (a.kmallocSizes !== undefined || a.pageSizes !== undefined || a.directions !== undefined);
  const alphabet: Alphabet = { ...base.alphabet, ...a, unmapSlots, ...(ownBuffers ? { mapRanges: [] } : {}) };
  const problem = alphabetProblem(alphabet);
  if (problem !== null) return { ok: false, error: `${source}: $.alphabet.${problem}` };
  const big = scopeLimitProblem({ config, alphabet });
  if (big !== null) return { ok: false, error: `${source}: $.alphabet: ${big}` };
  const { depth, maxStates } = r.value;
  if (depth !== undefined && depth > MAX_DEPTH) return { ok: false, error: `${source}: $.depth: must be at most ${MAX_DEPTH}, got ${depth}` };
  if (maxStates !== undefined && maxStates > MAX_STATES) return { ok: false, error: `${source}: $.maxStates: must be at most ${MAX_STATES}, got ${maxStates}` };
  return { ok: true, value: { scope: { config, alphabet }, depth: r.value.depth, maxStates: r.value.maxStates } };
}

export function readScopeFile(path: string): DecodeResult<ScopeFile> {
  const r = readJsonFile(path);
  return r.ok ? decodeScope(r.value, path) : r;
}

/** Field-level checks the schema cannot express; the field name comes first. */
export function alphabetProblem(a: Alphabet): string | null {
  const limit = alphabetLimitProblem(a);
  if (limit !== null) return limit;
  if (a.kmallocSizes.some((n) => n > 8192)) return "kmallocSizes: sizes above 8192 go to the page allocator: use pageSizes";
  if (a.dmaOffsets.some((n) => n > 4095)) return "dmaOffsets: offsets must be in 0..4095";
  if (a.dmaLens.some((n) => n > 8192)) return "dmaLens: lengths must be in 1..8192";
  const bad = (a.mapRanges ?? []).findIndex((r) => r.offset + r.len > r.size || (r.src === "kmalloc" && r.size > 8192));
  if (bad >= 0) return `mapRanges[${bad}]: the range must lie inside the allocation (offset + len <= size), and kmalloc sizes be at most 8192`;
  if (a.kmallocSizes.length + a.pageSizes.length + (a.mapRanges ?? []).length > 0 && a.directions.length === 0) return "directions: at least one direction is needed to map buffers";
  return null;
}
