/**
 * The counterexample file format, defined once as an effect Schema: decoding
 * validates a file, the decoded type is what the rest of dmacheck uses, and
 * encoding writes it back (see file.ts).
 *
 * Every constraint carries an `expected` annotation in plain words because
 * file.ts turns the first failed constraint into a one-line message.
 */
import { Schema } from "effect";
import { EVENT_TAGS, type Direction, type Event, type BufferSource } from "../model/events.ts";
import { type ModelConfig } from "../model/config.ts";
import { type PropertyName } from "../model/policy.ts";

export const COUNTEREXAMPLE_FORMAT = "dmacheck/counterexample@1";

/** A JSON number satisfying `ok`, described as `expected` in error messages. */
const num = (expected: string, ok: (n: number) => boolean) =>
  Schema.Number.check(Schema.makeFilter((n: number) => ok(n), { expected }));

export const Int = num("an integer", Number.isSafeInteger);
export const Nat = num("a non-negative integer", (n) => Number.isSafeInteger(n) && n >= 0);
export const Pos = num("a positive integer", (n) => Number.isSafeInteger(n) && n > 0);
const NonNegative = num("a non-negative number", (n) => Number.isFinite(n) && n >= 0);

export const Dir = Schema.Literals(["to-device", "from-device", "bidirectional"]);
const Src = Schema.Literals(["kmalloc", "pages"]);
/** map-sg buffer sizes: the model handles at most 4 segments per scatterlist. */
const Sizes = Schema.Array(Pos).check(
  Schema.makeFilter((a: readonly number[]) => a.length >= 1 && a.length <= 4, { expected: "an array of 1 to 4 sizes" }),
);

/** One struct per event kind, tagged by `t`, field for field as in model/events.ts. */
const ev = <const T extends string, const F extends Schema.Struct.Fields>(t: T, fields: F) =>
  Schema.Struct({ t: Schema.Literal(t), ...fields });

export const EventSchema = Schema.Union([
  ev("map", { cpu: Nat, dev: Nat, src: Src, size: Pos, dir: Dir, offset: Schema.optional(Nat), len: Schema.optional(Pos) }),
  ev("map-sg", { cpu: Nat, dev: Nat, sizes: Sizes, dir: Dir }),
  ev("alloc-coherent", { cpu: Nat, dev: Nat, order: Nat }),
  ev("unmap", { cpu: Nat, k: Nat, free: Schema.Boolean }),
  ev("resume", { cpu: Nat }),
  ev("iommu", {}),
  ev("dma", { dev: Nat, write: Schema.Boolean, page: Nat, offset: Nat, len: Pos }),
  ev("ats-dma", { dev: Nat, write: Schema.Boolean, page: Nat, offset: Nat, len: Pos }),
  ev("dma-translated", { dev: Nat, write: Schema.Boolean, frame: Nat, offset: Nat, len: Pos }),
  ev("kmalloc", { size: Pos }),
  ev("kfree", { k: Nat }),
  ev("tick", { ms: Pos }),
  ev("user-touch", { cpu: Nat, page: Nat, write: Schema.Boolean }),
  ev("user-unmap", { cpu: Nat, page: Nat }),
  ev("kernel-read", { frame: Nat }),
  ev("guest-access", { cpu: Nat, page: Nat, write: Schema.Boolean }),
  ev("user-get", { cpu: Nat, page: Nat }),
  ev("user-put", { cpu: Nat, page: Nat }),
  ev("xdp-tx", { cpu: Nat, k: Nat }),
]).annotate({ title: "event" }); // file.ts says `unknown event "x"` using this title

/** Integers here; the ranges are checked by configProblem (model/config.ts), the one place that knows them. */
export const ConfigSchema = Schema.Struct({
  frames: Int,
  cpus: Int,
  devices: Int,
  iovaPages: Int,
  iovaBasePfn: Int,
  iommuLevels: Int,
  fqSize: Int,
  fqTimeoutMs: Int,
  maxMappings: Int,
  maxObjects: Int,
  cmdQueueEntries: Int,
  maxOrder: Int,
  userPages: Int,
  reclaimEmptyTables: Schema.Boolean,
  untrusted: Schema.optional(Schema.Boolean),
  ats: Schema.optional(Schema.Boolean),
  acsTb: Schema.optional(Schema.Boolean),
  guestMemory: Schema.optional(Schema.Literals(["ordinary", "devdax", "guest-memfd"])),
  guestFrames: Schema.optional(Int),
  /** Absent: amd-v1 (files written before --iommu). */
  iommu: Schema.optional(Schema.Literals(["amd-v1", "vtd"])),
  cachingMode: Schema.optional(Schema.Boolean),
  /** User processes sharing the user pages (absent: 1). */
  processes: Schema.optional(Int),
});

/** A random-engine swarm: a weight factor per event kind, and the CPUs and devices the events used. */
const SwarmSchema = Schema.Struct({
  weights: Schema.Record(Schema.String, Nat).check(
    Schema.makeFilter((r: Readonly<Record<string, number>>) => Object.keys(r).every((k) => (EVENT_TAGS as readonly string[]).includes(k)), {
      expected: "an object whose keys are event kinds",
    }),
  ),
  cpus: Pos,
  devices: Pos,
});

const Property = Schema.Literals([
  "page-confinement", "byte-confinement", "iotlb-coherence", "pt-page-safety", "pin-safety", "pte-agreement", "view-refinement",
  "direct-map-exclusion",
  "dma-integrity",
  "stale-window",
  "no-leak",
  "availability",
  "leftover-data",
  "vm-confinement",
  "consumed-data-integrity", "user-confinement", "call-progress",
]);

export const CounterexampleSchema = Schema.Struct({
  format: Schema.Literal(COUNTEREXAMPLE_FORMAT),
  /** Policy name as given on the command line. */
  policy: Schema.String,
  /** Path of the user's policy module; null for a built-in policy. */
  policyModule: Schema.NullOr(Schema.String),
  property: Property,
  config: ConfigSchema,
  // A plain (readonly) array rather than a non-empty tuple type so that a
  // trace (Event[]) can be stored without casts; emptiness is still rejected.
  events: Schema.Array(EventSchema).check(
    Schema.makeFilter((a: readonly unknown[]) => a.length > 0, { expected: "a non-empty array of events" }),
  ),
  violation: Schema.Struct({
    /** 0-based index into `events` of the event after which the property fails. */
    step: Nat,
    explanation: Schema.String,
  }),
  found: Schema.Struct({
    engine: Schema.Literals(["random", "exhaustive"]),
    /** fast-check seed and replay path (random engine); null otherwise. */
    seed: Schema.NullOr(Int),
    path: Schema.NullOr(Schema.String),
    runs: Nat,
    ms: NonNegative,
    /** Random engine: the swarm the sequence was drawn with (checker/arbitraries.ts). Absent in files found without one. */
    swarm: Schema.optional(SwarmSchema),
  }),
});

export type Counterexample = Schema.Schema.Type<typeof CounterexampleSchema>;

// The schema mirrors the model's types exactly: these fail to compile if
// either side gains, loses or changes a field.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _event: Same<Schema.Schema.Type<typeof EventSchema>, Event> = true;
const _config: Same<Schema.Schema.Type<typeof ConfigSchema>, ModelConfig> = true;
const _property: Same<Counterexample["property"], PropertyName> = true;
const _dir: Same<Schema.Schema.Type<typeof Dir>, Direction> = true;
const _src: Same<Schema.Schema.Type<typeof Src>, BufferSource> = true;
void [_event, _config, _property, _dir, _src];
