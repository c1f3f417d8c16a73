/**
 * bounce (Linux's untrusted-device path): strict, plus swiotlb bouncing of
 * every segment that does not fill whole granules, padding zeroed.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { C } from "../../model/counters.ts";
import { type Event } from "../../model/events.ts";
import { FRAMES, FRAME_W, MAPS, PTMEM, DTE } from "../../model/geometry.ts";
import { MS_MAPPED, mIova, mSegBounce, mSegFrame, mStatus } from "../../model/dma-mapping.ts";
import { walkMemory, WalkResult } from "../../model/iommu-page-table.ts";
import { F_STALE, frameRole, ROLE_BOUNCE } from "../../model/physical-memory.ts";
import { bounce, SWIOTLB_MAX_MAPPING_SIZE } from "../../model/policies/bounce.ts";
import { bounceMapOriginal, bounceNoZeroPadding } from "../../model/policies/broken.ts";
import { strict } from "../../model/policies/strict.ts";
import { makeSystem } from "../../model/system.ts";
import { findProperty, PROPERTIES } from "../../properties/index.ts";
import { Executor } from "../../checker/execute.ts";
import { exhaustiveCheck } from "../../checker/exhaustive.ts";
import { alphabetEvents, DEFAULT_SCOPE } from "../../checker/scope.ts";
import { traceEvents } from "../../checker/trace.ts";
import { costReport } from "../../checker/cost-report.ts";
import { COST_CONFIG, findWorkload, runWorkload, WORKLOADS } from "../../checker/workloads.ts";
import { defaultCosts } from "../../costs/cost-table.ts";
import { Runner } from "../model/helpers.ts";

type MapEvent = Extract<Event, { t: "map" }>;
const map = (size: number, dir: MapEvent["dir"], src: MapEvent["src"] = "kmalloc"): MapEvent => ({ t: "map", cpu: 0, dev: 0, src, size, dir });
const settle: Event[] = [{ t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: 0 }];

function translate(r: Runner, iova: number): number {
  const w = new WalkResult();
  walkMemory(r.sys, r.state[PTMEM], r.state[DTE], 0, iova, w);
  return w.frame;
}

describe("bounce", () => {
  it("an unaligned buffer is copied into a bounce slot that the IOMMU maps instead of the buffer; the padding is zeroed", () => {
    const r = Runner.of(bounce);
    const s = r.step(map(64, "to-device"));
    const slot = mSegBounce(r.state[MAPS], 0, 0);
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(frameRole(r.state[FRAMES], slot)).toBe(ROLE_BOUNCE);
    expect(translate(r, mIova(r.state[MAPS], 0))).toBe(slot);
    expect(translate(r, mIova(r.state[MAPS], 0))).not.toBe(mSegFrame(r.state[MAPS], 0, 0));
    expect(s.counters[C.bytesCopied]).toBe(64); // copied in
    expect(s.counters[C.bytesZeroed]).toBe(4096 - 64); // pre- and post-padding
    // The device may read the whole slot granule: its buffer's copy and zeros, nothing else.
    const ex = new Executor(makeSystem(DEFAULT_CONFIG, bounce), PROPERTIES);
    expect(ex.run([map(64, "to-device"), { t: "dma", dev: 0, write: false, page: 15, offset: 0, len: 4096 }]).violation).toBeNull();
    expect(ex.totals[C.dmaBytes]).toBe(4096);
  });

  it("copies in on map always and out on unmap when the device may have written, after the invalidation completed", () => {
    const r = Runner.of(bounce);
    r.step(map(100, "from-device"));
    const unmap = r.step({ t: "unmap", cpu: 0, k: 0, free: true });
    expect(unmap.counters[C.bytesCopied]).toBe(0); // still waiting for the COMPLETION_WAIT
    const done = r.steps(settle);
    expect(done[2].counters[C.bytesCopied]).toBe(100);
    const tx = Runner.of(bounce);
    tx.step(map(100, "to-device"));
    tx.step({ t: "unmap", cpu: 0, k: 0, free: true });
    expect(tx.steps(settle).reduce((n, x) => n + x.counters[C.bytesCopied], 0)).toBe(0);
  });

  it("a granule-aligned buffer is mapped in place, as strict maps it, with no copy", () => {
    const r = Runner.of(bounce);
    const s = r.step(map(4096, "to-device", "pages"));
    expect(mSegBounce(r.state[MAPS], 0, 0)).toBe(-1);
    expect(translate(r, mIova(r.state[MAPS], 0))).toBe(mSegFrame(r.state[MAPS], 0, 0));
    expect([s.counters[C.bytesCopied], s.counters[C.bytesZeroed]]).toEqual([0, 0]);
  });

  it("a released slot keeps its data; the next mapping through it gets its padding zeroed again (the state is reached)", () => {
    const r = Runner.of(bounce);
    r.step(map(64, "to-device"));
    const slot = mSegBounce(r.state[MAPS], 0, 0);
    r.step({ t: "unmap", cpu: 0, k: 0, free: true });
    r.steps(settle);
    expect(r.state[FRAMES][slot * FRAME_W] & F_STALE).not.toBe(0);
    r.step(map(64, "to-device"));
    expect(mSegBounce(r.state[MAPS], 0, 0)).toBe(slot);
    expect(r.state[FRAMES][slot * FRAME_W] & F_STALE).toBe(0);
  });

  it("fails the map (DMA_MAPPING_ERROR) for an unaligned segment above 256 KiB or when the pool is full; maps an aligned 1 MiB buffer", () => {
    expect(SWIOTLB_MAX_MAPPING_SIZE).toBe(256 * 1024);
    const big = Runner.of(bounce, COST_CONFIG);
    big.step(map(SWIOTLB_MAX_MAPPING_SIZE + 4096 + 1, "to-device", "kmalloc"));
    expect(mStatus(big.state[MAPS], 0)).toBe(0); // failed, cleared
    expect(big.log[0].notes.join("\n")).toMatch(/DMA_MAPPING_ERROR/);
    big.step(map(1024 * 1024, "from-device", "pages"));
    expect(mStatus(big.state[MAPS], 0)).toBe(MS_MAPPED);
    // The default configuration's pool has 4 pages: a fifth one-page bounce finds no slot.
    const small = Runner.of(bounce);
    for (let i = 0; i < 5; i++) small.step({ ...map(64, "to-device"), cpu: i % 2 });
    const mapped = [0, 1, 2, 3, 4].filter((m) => mStatus(small.state[MAPS], m) === MS_MAPPED).length;
    expect(mapped).toBe(4);
  });

  it("holds what it claims; the broken variants are caught with short counterexamples that bounce itself does not have", () => {
    const r = exhaustiveCheck(makeSystem(DEFAULT_SCOPE.config, bounce), PROPERTIES, alphabetEvents(DEFAULT_SCOPE), { depth: 40, maxStates: 2_000_000 });
    expect(r.exhausted).toBe(true);
    expect(r.outcomes.map((o) => o.events)).toEqual(PROPERTIES.map(() => null));
    const prop = findProperty("byte-confinement")!;
    const cases = [
      { p: bounceMapOriginal, shape: ["map", "dma"], says: /kmalloc-64 slab/ },
      { p: bounceNoZeroPadding, shape: ["map", "unmap", "iommu", "iommu", "resume", "map", "dma"], says: /leftover data of an earlier mapping/ },
    ];
    for (const c of cases) {
      const sys = makeSystem(DEFAULT_SCOPE.config, c.p);
      const cx = exhaustiveCheck(sys, [prop], alphabetEvents(DEFAULT_SCOPE), { depth: 40, maxStates: 2_000_000 }).outcomes[0].events!;
      expect(cx.map((e) => e.t), c.p.name).toEqual(c.shape);
      expect(traceEvents(sys, [prop], cx).explanation).toMatch(c.says);
      expect(new Executor(makeSystem(DEFAULT_SCOPE.config, bounce), [prop]).run(cx).violation).toBeNull();
    }
  });

  it("copies exactly the bytes of its unaligned buffers, and none of its aligned ones", () => {
    const rows = costReport([strict, bounce], WORKLOADS, defaultCosts(), 50);
    const row = (p: string, w: string) => rows.find((r) => r.policy === p && r.workload === w)!;
    // net-rx: a 2 KiB kmalloc buffer from-device, copied in at map and out at unmap; 2 KiB of padding zeroed.
    expect(row("bounce", "net-rx").counters.bytesCopied).toBe(2 * 2048);
    expect(row("bounce", "net-rx").counters.bytesZeroed).toBe(4096 - 2048);
    // net-tx and nvme-read map whole pages: nothing to bounce.
    for (const w of ["net-tx", "nvme-read"]) expect([row("bounce", w).counters.bytesCopied, row("bounce", w).counters.bytesZeroed]).toEqual([0, 0]);
    // Otherwise it is strict: the same invalidations per mapping, and so it costs more than strict.
    expect(row("bounce", "net-rx").counters.iotlbInvCmds).toBe(row("strict", "net-rx").counters.iotlbInvCmds);
    expect(row("bounce", "net-rx").nsPerIo).toBeGreaterThan(row("strict", "net-rx").nsPerIo);
  });

  // NVMe caps a transfer at dma_max_mapping_size under swiotlb: 256 KiB less
  // its min_align_mask rounded to IO_TLB_SIZE (kernel/dma/swiotlb.c
  // swiotlb_max_mapping_size), 252 KiB.
  it("an NVMe read above 252 KiB is split into mappings of at most 252 KiB (swiotlb_max_mapping_size with NVMe's min_align_mask)", () => {
    const run = runWorkload(findWorkload("nvme-read")!, bounce, 5);
    const sizes = run.events.filter((e): e is MapEvent => e.t === "map").map((e) => e.size / 1024);
    expect(sizes).toEqual([4, 16, 64, 252, 4, 252, 252, 252, 252, 16]);
  });
});
