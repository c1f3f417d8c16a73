/**
 * fast-check generators for event sequences. Parameters are small and
 * relative ("the k-th live mapping", "page k of the window") so that every
 * event applies in most states and shrinking keeps traces meaningful. Weights
 * favour what isolation bugs need: maps, unmaps, device accesses and the
 * IOMMU executing commands.
 *
 * Swarm testing (Groce, Zhang, Eide, Chen, Regehr, "Swarm Testing", ISSTA
 * 2012): the random engine draws, for each sequence, a factor per event kind
 * that multiplies the kind's weight, and whether the sequence uses one CPU
 * and one device or all of them. Some sequences then leave out what only
 * gets in a bug's way (kernel allocations, user pages, time, the other CPU)
 * and crowd in what it needs, so that one run covers orderings no single
 * fixed distribution reaches often enough.
 */
import fc from "fast-check";
import { type ModelConfig } from "../model/config.ts";
import { DIRECTIONS, type Event, type EventTag } from "../model/events.ts";

/** What one sequence's events are drawn with (recorded as a counterexample's `found.swarm`). */
export interface Swarm {
  /** Per event kind, the factor its base weight is multiplied by (a kind not listed: 1). */
  readonly weights: Readonly<Partial<Record<EventTag, number>>>;
  /** CPUs the calls use (the lowest-numbered; the timer context is always there), and devices. */
  readonly cpus: number;
  readonly devices: number;
}

/**
 * The factors a swarm draws per kind: left out once in five, plain twice,
 * tripled twice. The driver's calls, their completion and the device's
 * accesses (DRIVING_KINDS), which every isolation bug needs, are never left
 * out. fast-check shrinks toward the first factor: back to the plain weights.
 */
export const SWARM_FACTORS: readonly number[] = [1, 1, 3, 3, 0];
export const DRIVING_KINDS: readonly EventTag[] = ["map", "unmap", "resume", "iommu", "dma"];

const KMALLOC_SIZES = [64, 256, 1500, 2048, 4096, 8192];

/**
 * Event kinds drawn only for a policy that asks for them (Policy.events: the
 * networking policies' user-get, user-put and xdp-tx), so the other policies'
 * sequences, seed for seed, stay what they were.
 */
export const OPT_IN_KINDS: readonly EventTag[] = ["user-get", "user-put", "xdp-tx"];

/** The events of `cfg`; with a swarm, each kind's weight times its factor, over the swarm's CPUs and devices; `extra`: opt-in kinds to draw. */
export function eventArbitrary(cfg: ModelConfig, swarm?: Swarm, extra: readonly EventTag[] = []): fc.Arbitrary<Event> {
  if (swarm === undefined) return fc.oneof(...kindEntries(cfg, cfg.cpus, cfg.devices, extra));
  const kinds = kindEntries(cfg, swarm.cpus, swarm.devices, extra);
  const entries = kinds.map((e) => ({ weight: e.weight * (swarm.weights[e.t] ?? 1), arbitrary: e.arbitrary }));
  // A swarm that left out every kind this configuration offers: the plain weights.
  return fc.oneof(...(entries.some((e) => e.weight > 0) ? entries : kinds));
}

/** Kinds whose base weight in `cfg` is positive, in generator order: those a swarm varies. */
export function swarmKinds(cfg: ModelConfig, extra: readonly EventTag[] = []): EventTag[] {
  return kindEntries(cfg, cfg.cpus, cfg.devices, extra).filter((e) => e.weight > 0).map((e) => e.t);
}

interface KindEntry {
  readonly t: EventTag;
  readonly weight: number;
  readonly arbitrary: fc.Arbitrary<Event>;
}

/** Built once per configuration, CPUs and devices: a swarm only reweighs them (one swarm per sequence). */
const KINDS = new WeakMap<ModelConfig, Map<number, KindEntry[]>>();

function kindEntries(cfg: ModelConfig, cpus: number, devices: number, extra: readonly EventTag[]): KindEntry[] {
  let byUse = KINDS.get(cfg);
  if (byUse === undefined) KINDS.set(cfg, (byUse = new Map()));
  let mask = 0;
  OPT_IN_KINDS.forEach((t, i) => (mask |= extra.includes(t) ? 1 << i : 0));
  if (extra.includes("guest-access")) mask |= 1 << OPT_IN_KINDS.length;
  const key = (mask * 64 + cpus) * 64 + devices;
  let k = byUse.get(key);
  if (k === undefined) {
    const tags: EventTag[] = [];
    k = baseEntries(cfg, tags, cpus, devices, extra).map((e, i) => ({ t: tags[i], weight: e.weight, arbitrary: e.arbitrary }));
    byUse.set(key, k);
  }
  return k;
}

/** A context to resume: one of the first `cpus` CPUs, or the timer context (index cfg.cpus). */
function contextArbitrary(cfg: ModelConfig, cpus: number): fc.Arbitrary<number> {
  if (cpus >= cfg.cpus) return fc.nat(cfg.cpus);
  return fc.constantFrom(...Array.from({ length: cpus }, (_, i) => i), cfg.cpus);
}

/**
 * One weighted arbitrary per event kind, with its base weight, for calls on
 * the first `cpus` CPUs and accesses by the first `devices` devices; `tags`
 * receives the kinds in order.
 */
function baseEntries(cfg: ModelConfig, tags: EventTag[], cpus: number, devices: number, extra: readonly EventTag[]): fc.WeightedArbitrary<Event>[] {
  const optIn = (t: EventTag, base: number) => (extra.includes(t) ? base : 0);
  const w = (t: EventTag, base: number) => {
    tags.push(t);
    return base;
  };
  const cpu = fc.nat(cpus - 1);
  const ctx = contextArbitrary(cfg, cpus);
  const dev = fc.nat(devices - 1);
  const dir = fc.constantFrom(...DIRECTIONS);
  const kmSize = fc.oneof(fc.constantFrom(...KMALLOC_SIZES), fc.integer({ min: 1, max: 8192 }));
  const src = fc.constantFrom("kmalloc" as const, "pages" as const);
  const wholeMap = fc.record({ t: fc.constant("map" as const), cpu, dev, src, size: kmSize, dir });
  // A quarter of the maps are a range inside the allocation (dma_map_page of a sub-range, dma_map_single
  // of an interior pointer): often a page-aligned length at an unaligned start, or a range crossing a
  // page. The step clamps offset and len into the allocation, so every draw is a valid range.
  const rangeMap = fc.record({
    t: fc.constant("map" as const), cpu, dev, src,
    size: fc.oneof(fc.constantFrom(64, 4096, 8192, 16384), kmSize),
    dir,
    offset: fc.oneof(fc.constantFrom(32, 2048, 4064, 4096 + 64), fc.nat(16383)),
    len: fc.oneof(fc.constantFrom(16, 64, 4096), fc.integer({ min: 1, max: 8192 })),
  });
  // The IOVA allocator hands out the highest free pages first (top-down, Linux alloc_iova): aim
  // most device accesses at the window's top pages, the rest anywhere (for passthrough, anywhere in memory).
  const top = (n: number) => fc.nat(Math.min(n, cfg.iovaPages - 1)).map((i) => cfg.iovaPages - 1 - i);
  const page = fc.oneof(
    { weight: 6, arbitrary: top(1) },
    { weight: 2, arbitrary: top(3) },
    { weight: 1, arbitrary: fc.nat(Math.max(cfg.iovaPages, cfg.frames) - 1) },
  );
  // A vCPU's guest-physical page: the morsel mount sits at the window's low pages, not where the
  // IOVA allocator puts mappings, so under a policy that mounts memory into a VM (guest-access
  // drawn) the vCPU's and the device's accesses aim low.
  const guest = extra.includes("guest-access");
  const guestPage = fc.oneof(
    { weight: 6, arbitrary: fc.nat(Math.min(1, cfg.iovaPages - 1)) },
    { weight: 2, arbitrary: fc.nat(Math.min(3, cfg.iovaPages - 1)) },
    { weight: 1, arbitrary: fc.nat(Math.max(cfg.iovaPages, cfg.frames) - 1) },
  );
  return [
    { weight: w("map", 4), arbitrary: fc.oneof({ weight: 3, arbitrary: wholeMap }, { weight: 1, arbitrary: rangeMap }) },
    { weight: w("map-sg", 1), arbitrary: fc.record({ t: fc.constant("map-sg" as const), cpu, dev, sizes: fc.array(kmSize, { minLength: 1, maxLength: 3 }), dir }) },
    { weight: w("alloc-coherent", 1), arbitrary: fc.record({ t: fc.constant("alloc-coherent" as const), cpu, dev, order: fc.nat(1) }) },
    { weight: w("unmap", 4), arbitrary: fc.record({ t: fc.constant("unmap" as const), cpu, k: fc.nat(3), free: fc.boolean() }) },
    { weight: w("resume", 3), arbitrary: fc.record({ t: fc.constant("resume" as const), cpu: ctx }) },
    { weight: w("iommu", 3), arbitrary: fc.constant({ t: "iommu" as const }) },
    {
      weight: w("dma", 8),
      arbitrary: fc.record({
        t: fc.constant("dma" as const), dev, write: fc.boolean(), page: guest ? guestPage : page,
        offset: fc.nat(4095), len: fc.integer({ min: 1, max: 8192 }),
      }),
    },
    // Translated requests, when the device attributes make them possible (ATS granted; an untrusted device forging).
    { weight: w("ats-dma", cfg.ats === true ? 6 : 0), arbitrary: fc.record({ t: fc.constant("ats-dma" as const), dev, write: fc.boolean(), page, offset: fc.nat(4095), len: fc.integer({ min: 1, max: 8192 }) }) },
    { weight: w("dma-translated", cfg.untrusted === true ? 2 : 0), arbitrary: fc.record({ t: fc.constant("dma-translated" as const), dev, write: fc.boolean(), frame: fc.nat(cfg.frames - 1), offset: fc.nat(4095), len: fc.integer({ min: 1, max: 8192 }) }) },
    { weight: w("kmalloc", 2), arbitrary: fc.record({ t: fc.constant("kmalloc" as const), size: kmSize }) },
    { weight: w("kfree", 1), arbitrary: fc.record({ t: fc.constant("kfree" as const), k: fc.nat(7) }) },
    { weight: w("tick", 2), arbitrary: fc.record({ t: fc.constant("tick" as const), ms: fc.integer({ min: 1, max: 20 }) }) },
    // A policy sharing pages with the process (opt-in user-get) gets its touches three times as often; others as before.
    { weight: w("user-touch", extra.includes("user-get") ? 3 : 1), arbitrary: fc.record({ t: fc.constant("user-touch" as const), cpu, page: fc.nat(Math.max(0, cfg.userPages - 1)), write: fc.boolean() }) },
    { weight: w("user-unmap", 1), arbitrary: fc.record({ t: fc.constant("user-unmap" as const), cpu, page: fc.nat(Math.max(0, cfg.userPages - 1)) }) },
    // Kernel loads by physical address, when there is guest memory to keep out of the direct map.
    { weight: w("kernel-read", cfg.guestMemory !== undefined ? 2 : 0), arbitrary: fc.record({ t: fc.constant("kernel-read" as const), frame: fc.nat(cfg.frames - 1) }) },
    // A vCPU's access through the VM's EPT: only for a policy that mounts memory into it (Policy.eptTable,
    // drawn as the opt-in kind "guest-access"), so every other policy's entries, and its random stream, are unchanged.
    ...(extra.includes("guest-access") ? [{ weight: w("guest-access", 6), arbitrary: fc.record({ t: fc.constant("guest-access" as const), cpu, page: guestPage, write: fc.boolean() }) }] : []),
    // Opt-in kinds (Policy.events), last and of weight 0 otherwise, so every other draw is unchanged.
    { weight: w("user-get", optIn("user-get", 4)), arbitrary: fc.record({ t: fc.constant("user-get" as const), cpu, page: fc.nat(Math.max(0, cfg.userPages - 1)) }) },
    { weight: w("user-put", optIn("user-put", 3)), arbitrary: fc.record({ t: fc.constant("user-put" as const), cpu, page: fc.nat(Math.max(0, cfg.userPages - 1)) }) },
    { weight: w("xdp-tx", optIn("xdp-tx", 3)), arbitrary: fc.record({ t: fc.constant("xdp-tx" as const), cpu, k: fc.nat(3) }) },
  ];
}

/**
 * A completion burst: the IOMMU executes a few commands and a context resumes.
 * Blocking calls only return after such a run of events, and many isolation
 * bugs sit right after one, so sequences get them as a unit too.
 */
function burstArbitrary(cfg: ModelConfig, cpus = cfg.cpus): fc.Arbitrary<Event[]> {
  return fc.tuple(fc.integer({ min: 1, max: 2 }), contextArbitrary(cfg, cpus)).map(([n, ctx]) => {
    const out: Event[] = [];
    for (let i = 0; i < n; i++) out.push({ t: "iommu" });
    out.push({ t: "resume", cpu: ctx });
    return out;
  });
}

/**
 * For a deferred policy (one with a timer or a flush-queue timer), two more
 * chunks. A stale-access triple: a device access, an unmap, the same access
 * again (offset 0, one byte, at one of the window's two top pages, where the
 * IOVA allocator puts mappings): the access after the unmap is the one a
 * stale IOTLB entry serves. And a timer flush: a tick of the flush timeout,
 * the IOMMU executing the flush's invalidation and completion wait, and the
 * timer context resuming. A bug in the timer's re-arming needs both, in
 * order, between maps (out-lazy-arm-once: 10 events); drawn from single
 * events, 100,000 runs missed it.
 */
function staleAccessArbitrary(cfg: ModelConfig, swarm?: Swarm): fc.Arbitrary<Event[]> {
  const devices = swarm?.devices ?? cfg.devices;
  const cpus = swarm?.cpus ?? cfg.cpus;
  return fc
    .tuple(fc.nat(devices - 1), fc.nat(Math.min(1, cfg.iovaPages - 1)), fc.boolean(), fc.nat(cpus - 1), fc.nat(3), fc.boolean())
    .map(([dev, i, write, cpu, k, free]): Event[] => {
      const access: Event = { t: "dma", dev, write, page: cfg.iovaPages - 1 - i, offset: 0, len: 1 };
      return [access, { t: "unmap", cpu, k, free }, access];
    });
}

function timerFlushArbitrary(cfg: ModelConfig): fc.Arbitrary<Event[]> {
  // resume starts at the timer context (contexts after the CPUs) and goes round.
  return fc.constant<Event[]>([{ t: "tick", ms: cfg.fqTimeoutMs }, { t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: cfg.cpus }]);
}

/** Sequences of up to `maxEvents` events; `deferred`: a deferred policy's sequences, with its two extra chunks. */
export function eventsArbitrary(cfg: ModelConfig, maxEvents: number, swarm?: Swarm, extra: readonly EventTag[] = [], deferred = false): fc.Arbitrary<Event[]> {
  const single = { weight: 8, arbitrary: eventArbitrary(cfg, swarm, extra).map((e) => [e]) };
  const burst = { weight: 2, arbitrary: burstArbitrary(cfg, swarm?.cpus) };
  // Other policies' chunks stay the two they were, so their sequences, seed for seed, are unchanged.
  const chunk = deferred
    ? fc.oneof(single, burst, { weight: 1, arbitrary: staleAccessArbitrary(cfg, swarm) }, { weight: 1, arbitrary: timerFlushArbitrary(cfg) })
    : fc.oneof(single, burst);
  return fc
    .array(chunk, { minLength: 1, maxLength: maxEvents })
    .map((chunks) => chunks.flat().slice(0, maxEvents));
}

/**
 * A swarm for `cfg`: a factor from SWARM_FACTORS for each kind it offers
 * (swarmKinds; never 0 for DRIVING_KINDS), and one CPU or all, one device or
 * all, each half the time.
 */
export function swarmArbitrary(cfg: ModelConfig, extra: readonly EventTag[] = []): fc.Arbitrary<Swarm> {
  const kinds = swarmKinds(cfg, extra);
  const kept = SWARM_FACTORS.filter((f) => f > 0);
  const factors = kinds.map((t) => fc.constantFrom(...(DRIVING_KINDS.includes(t) ? kept : SWARM_FACTORS)));
  const some = (n: number) => (n > 1 ? fc.constantFrom(n, 1) : fc.constant(n));
  return fc.tuple(fc.tuple(...factors), some(cfg.cpus), some(cfg.devices)).map(([fs, cpus, devices]) => {
    const weights: Partial<Record<EventTag, number>> = {};
    kinds.forEach((t, i) => (weights[t] = fs[i]));
    return { weights, cpus, devices };
  });
}

/** A swarm, then a sequence of up to `maxEvents` events drawn with it. */
export function swarmEventsArbitrary(cfg: ModelConfig, maxEvents: number, extra: readonly EventTag[] = [], deferred = false): fc.Arbitrary<{ swarm: Swarm; events: Event[] }> {
  return swarmArbitrary(cfg, extra).chain((swarm) => eventsArbitrary(cfg, maxEvents, swarm, extra, deferred).map((events) => ({ swarm, events })));
}

/** Whether `swarm` fits `cfg`: known kinds, factors from SWARM_FACTORS, CPUs and devices within the machine. */
export function swarmProblem(cfg: ModelConfig, swarm: Swarm, extra: readonly EventTag[] = []): string | null {
  const kinds = swarmKinds(cfg, extra);
  for (const [t, f] of Object.entries(swarm.weights)) {
    if (!kinds.includes(t as EventTag)) return `weights: ${JSON.stringify(t)} is not an event kind of this configuration (${kinds.join(", ")})`;
    if (!Number.isSafeInteger(f) || (f as number) < 0) return `weights.${t}: expected a non-negative integer, got ${JSON.stringify(f)}`;
  }
  if (!Number.isSafeInteger(swarm.cpus) || swarm.cpus < 1 || swarm.cpus > cfg.cpus) return `cpus: expected 1..${cfg.cpus}, got ${swarm.cpus}`;
  if (!Number.isSafeInteger(swarm.devices) || swarm.devices < 1 || swarm.devices > cfg.devices) return `devices: expected 1..${cfg.devices}, got ${swarm.devices}`;
  return null;
}
