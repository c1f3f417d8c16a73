/**
 * fast-check generators for event sequences. Parameters are small and
 * relative ("the k-th live mapping", "page k of the window") so that every
 * event applies in most states and shrinking keeps traces meaningful. Weights
 * favour what isolation bugs need: maps, unmaps, device accesses and the
 * IOMMU executing commands.
 */
import fc from "fast-check";
import { type ModelConfig } from "../model/config.ts";
import { DIRECTIONS, type Event } from "../model/events.ts";

const KMALLOC_SIZES = [64, 256, 1500, 2048, 4096, 8192];

export function eventArbitrary(cfg: ModelConfig): fc.Arbitrary<Event> {
  const cpu = fc.nat(cfg.cpus - 1);
  const ctx = fc.nat(cfg.cpus);
  const dev = fc.nat(cfg.devices - 1);
  const dir = fc.constantFrom(...DIRECTIONS);
  const kmSize = fc.oneof(fc.constantFrom(...KMALLOC_SIZES), fc.integer({ min: 1, max: 8192 }));
  // The IOVA allocator hands out the lowest free pages first: aim most device
  // accesses there, the rest anywhere (for passthrough, anywhere in memory).
  const page = fc.oneof(
    { weight: 6, arbitrary: fc.nat(Math.min(1, cfg.iovaPages - 1)) },
    { weight: 2, arbitrary: fc.nat(Math.min(3, cfg.iovaPages - 1)) },
    { weight: 1, arbitrary: fc.nat(Math.max(cfg.iovaPages, cfg.frames) - 1) },
  );
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ t: fc.constant("map" as const), cpu, dev, src: fc.constantFrom("kmalloc" as const, "pages" as const), size: kmSize, dir }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("map-sg" as const), cpu, dev, sizes: fc.array(kmSize, { minLength: 1, maxLength: 3 }), dir }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("alloc-coherent" as const), cpu, dev, order: fc.nat(1) }) },
    { weight: 4, arbitrary: fc.record({ t: fc.constant("unmap" as const), cpu, k: fc.nat(3), free: fc.boolean() }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant("resume" as const), cpu: ctx }) },
    { weight: 3, arbitrary: fc.constant({ t: "iommu" as const }) },
    {
      weight: 8,
      arbitrary: fc.record({
        t: fc.constant("dma" as const), dev, write: fc.boolean(), page,
        offset: fc.nat(4095), len: fc.integer({ min: 1, max: 8192 }),
      }),
    },
    // Translated requests, when the device attributes make them possible (ATS granted; an untrusted device forging).
    { weight: cfg.ats === true ? 6 : 0, arbitrary: fc.record({ t: fc.constant("ats-dma" as const), dev, write: fc.boolean(), page, offset: fc.nat(4095), len: fc.integer({ min: 1, max: 8192 }) }) },
    { weight: cfg.untrusted === true ? 2 : 0, arbitrary: fc.record({ t: fc.constant("dma-translated" as const), dev, write: fc.boolean(), frame: fc.nat(cfg.frames - 1), offset: fc.nat(4095), len: fc.integer({ min: 1, max: 8192 }) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant("kmalloc" as const), size: kmSize }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("kfree" as const), k: fc.nat(7) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant("tick" as const), ms: fc.integer({ min: 1, max: 20 }) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("user-touch" as const), cpu, page: fc.nat(Math.max(0, cfg.userPages - 1)), write: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("user-unmap" as const), cpu, page: fc.nat(Math.max(0, cfg.userPages - 1)) }) },
    // Kernel loads by physical address, when there is guest memory to keep out of the direct map.
    { weight: cfg.guestMemory !== undefined ? 2 : 0, arbitrary: fc.record({ t: fc.constant("kernel-read" as const), frame: fc.nat(cfg.frames - 1) }) },
  );
}

/**
 * A completion burst: the IOMMU executes a few commands and a context resumes.
 * Blocking calls only return after such a run of events, and many isolation
 * bugs sit right after one, so sequences get them as a unit too.
 */
function burstArbitrary(cfg: ModelConfig): fc.Arbitrary<Event[]> {
  return fc.tuple(fc.integer({ min: 1, max: 2 }), fc.nat(cfg.cpus)).map(([n, ctx]) => {
    const out: Event[] = [];
    for (let i = 0; i < n; i++) out.push({ t: "iommu" });
    out.push({ t: "resume", cpu: ctx });
    return out;
  });
}

export function eventsArbitrary(cfg: ModelConfig, maxEvents: number): fc.Arbitrary<Event[]> {
  const chunk = fc.oneof(
    { weight: 8, arbitrary: eventArbitrary(cfg).map((e) => [e]) },
    { weight: 2, arbitrary: burstArbitrary(cfg) },
  );
  return fc
    .array(chunk, { minLength: 1, maxLength: maxEvents })
    .map((chunks) => chunks.flat().slice(0, maxEvents));
}
