/**
 * A deferred policy's random sequences (checker/arbitraries.ts): besides
 * single events and completion bursts, stale-access triples (an access, an
 * unmap, the same access) and timer flushes (a tick of the flush timeout,
 * two IOMMU commands, the timer context resumed). Other policies' sequences
 * are what they were, seed for seed.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { type Event } from "../../model/events.ts";
import { strict } from "../../model/policies/strict.ts";
import { lazy } from "../../model/policies/lazy.ts";
import { coiommu } from "../../model/policies/coiommu.ts";
import { eventsArbitrary, swarmEventsArbitrary } from "../../checker/arbitraries.ts";
import { deferred } from "../../checker/random.ts";

const key = (e: Event) => JSON.stringify(e);

function count(seqs: Event[][], match: (s: Event[], i: number) => boolean): number {
  let n = 0;
  for (const s of seqs) for (let i = 0; i < s.length; i++) if (match(s, i)) n++;
  return n;
}

const staleTriple = (s: Event[], i: number) =>
  i + 2 < s.length && s[i].t === "dma" && s[i + 1].t === "unmap" && key(s[i + 2]) === key(s[i]);
const timerFlush = (s: Event[], i: number) =>
  i + 3 < s.length && key(s[i]) === key({ t: "tick", ms: DEFAULT_CONFIG.fqTimeoutMs }) && s[i + 1].t === "iommu" && s[i + 2].t === "iommu"
  && key(s[i + 3]) === key({ t: "resume", cpu: DEFAULT_CONFIG.cpus });

describe("a deferred policy's sequences", () => {
  it("are drawn for the policies with a timer or a flush-queue timer", () => {
    expect([deferred(lazy), deferred(coiommu), deferred(strict)]).toEqual([true, true, false]);
  });

  it("hold stale-access triples at the window's top pages and timer flushes", () => {
    const seqs = fc.sample(eventsArbitrary(DEFAULT_CONFIG, 24, undefined, [], true), { numRuns: 200, seed: 7 });
    const plain = fc.sample(eventsArbitrary(DEFAULT_CONFIG, 24), { numRuns: 200, seed: 7 });
    expect(count(seqs, staleTriple)).toBeGreaterThan(count(plain, staleTriple) + 50);
    expect(count(seqs, timerFlush)).toBeGreaterThan(50);
    expect(count(plain, timerFlush)).toBe(0);
    const pages = new Set(seqs.flatMap((s) => s.filter((e, i) => staleTriple(s, i)).map((e) => (e as { page: number }).page)));
    expect([...pages].sort()).toEqual([DEFAULT_CONFIG.iovaPages - 2, DEFAULT_CONFIG.iovaPages - 1]);
  });

  it("keep to the swarm's CPUs and devices", () => {
    for (const { swarm, events } of fc.sample(swarmEventsArbitrary(DEFAULT_CONFIG, 24, [], true), { numRuns: 200, seed: 9 })) {
      for (let i = 0; i < events.length; i++) {
        if (!staleTriple(events, i)) continue;
        expect((events[i] as { dev: number }).dev).toBeLessThan(swarm.devices);
        expect((events[i + 1] as { cpu: number }).cpu).toBeLessThan(swarm.cpus);
      }
    }
  });

  it("leave every other policy's sequences as they were, seed for seed", () => {
    expect(fc.sample(eventsArbitrary(DEFAULT_CONFIG, 24, undefined, [], false), { numRuns: 50, seed: 3 }))
      .toEqual(fc.sample(eventsArbitrary(DEFAULT_CONFIG, 24), { numRuns: 50, seed: 3 }));
  });
});
