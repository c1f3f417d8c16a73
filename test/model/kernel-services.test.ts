/**
 * The Kernel services a user's policy has besides the built-ins' helpers:
 * the IOMMU and device-TLB invalidations queued separately in a chosen
 * order, the window's base, freeing pool and bounce frames, waiting on
 * another context's completion, and a failed completionWait that leaves no
 * stale "done". Plus the trace messages: frames, sources and faults of each
 * device access, the timer context named, no negative offsets, "dom N"
 * always the domain index.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { CMDQ, CMD_W, FRAMES } from "../../model/geometry.ts";
import { Kernel } from "../../model/kernel.ts";
import { strict } from "../../model/policies/strict.ts";
import { type Policy } from "../../model/policy.ts";
import { lazy } from "../../model/policies/lazy.ts";
import { findAnyPolicy } from "../../model/policies/index.ts";
import { makeSystem } from "../../model/system.ts";
import { cmdOpcode, CMD_INV_IOMMU_PAGES, CMD_INV_IOTLB_PAGES, describeCommand } from "../../model/formats/amd-command.ts";
import { frameRole, ROLE_FREE, ROLE_IO_POOL, ROLE_BOUNCE } from "../../model/physical-memory.ts";
import { traceEvents } from "../../checker/trace.ts";
import { type Event } from "../../model/events.ts";
import { describeFrame } from "../../properties/describe.ts";
import { txOn } from "./helpers.ts";
import { executeNextCommand } from "../../model/command-queue.ts";
import { Stepper } from "../../model/system.ts";
import { Observation } from "../../model/observation.ts";

function kernelOn(cfg = DEFAULT_CONFIG): Kernel {
  const sys = makeSystem(cfg, strict);
  const { tx, obs } = txOn(sys);
  return new Kernel(tx, obs);
}

function opcodes(k: Kernel): number[] {
  const q = k.tx.c[CMDQ];
  return Array.from({ length: q[1] }, (_, i) => cmdOpcode(q[2 + i * CMD_W + 1] >>> 0));
}

describe("Kernel services", () => {
  it("queues the device-TLB invalidation before the IOMMU's when the policy says so (ATS)", () => {
    const k = kernelOn({ ...DEFAULT_CONFIG, ats: true });
    expect(k.invalidateDeviceTlb(0, k.windowBase, 1)).toBe(true);
    expect(k.invalidateIommuPages(0, k.windowBase, 1, true)).toBe(true);
    expect(opcodes(k)).toEqual([CMD_INV_IOTLB_PAGES, CMD_INV_IOMMU_PAGES]);
    // invalidatePages keeps Linux's order: the IOMMU first, then the ATC.
    expect(k.invalidatePages(1, k.windowBase, 1, true)).toBe(true);
    expect(opcodes(k).slice(2)).toEqual([CMD_INV_IOMMU_PAGES, CMD_INV_IOTLB_PAGES]);
  });

  it("without ATS the device-TLB invalidation queues nothing", () => {
    const k = kernelOn();
    expect(k.invalidateDeviceTlb(0, k.windowBase, 1)).toBe(true);
    expect(opcodes(k)).toEqual([]);
  });

  it("reads the window's base and size: allocIova hands out the window's top page first (top-down, Linux alloc_iova)", () => {
    const k = kernelOn();
    expect(k.windowBase).toBe(DEFAULT_CONFIG.iovaBasePfn);
    expect(k.allocIova(0, 1)).toBe(k.windowBase + k.windowPages - 1);
  });

  it("allocIova is size-aligned and rounded unless asked not to be (a VFIO user's IOVA): 2 pages after 1 taken", () => {
    const k = kernelOn(); // window 504..519
    expect(k.allocIova(0, 1)).toBe(519);
    expect(k.allocIova(0, 2)).toBe(516); // aligned to 2: 518 stays free
    expect(k.allocIova(0, 3)).toBe(512); // rounded to 4 (alloc_iova_fast), aligned to 4
    expect(k.allocIova(0, 2, false)).toBe(504); // a caller-chosen IOVA: the lowest free run
    expect(k.allocIova(1, 1)).toBe(519);
    expect(k.allocIova(1, 2, false)).toBe(504); // the lowest free run, not aligned
    expect(k.allocIova(1, 2, false)).toBe(506);
  });

  it("mapSegmentPage writes one page of a mapping: the step can end between two of its writes", () => {
    const sys = makeSystem({ ...DEFAULT_CONFIG, iovaBasePfn: 511 }, strict);
    const tr = traceEvents(sys, [], [{ t: "map", cpu: 0, dev: 0, src: "pages", size: 8192, dir: "to-device" }]);
    // strict: size-aligned, top-down (window 511..526: 524), both pages in one step
    expect(tr.steps[0].notes.join("\n")).toMatch(/map returned dma address 0x20c000/);
    const stepwise = makeSystem({ ...DEFAULT_CONFIG, iovaBasePfn: 511 }, findAnyPolicy("vfio-stepwise")!);
    const map: Event = { t: "map", cpu: 0, dev: 0, src: "pages", size: 8192, dir: "to-device" };
    const t2 = traceEvents(stepwise, [], [map, { t: "dma", dev: 0, write: false, page: 1, offset: 0, len: 1 }, { t: "resume", cpu: 0 }]);
    expect(t2.steps[0].notes.join("\n")).toMatch(/map blocked \(phase 17\)/);
    // Between the writes, page 1 (IOVA 0x200) is not mapped yet: the device faults there.
    expect(t2.steps[1].notes.join("\n")).toMatch(/fault/i);
    expect(t2.steps[2].notes.join("\n")).toMatch(/map returned dma address 0x1ff000/);
  });

  it("frees pool and bounce frames, and only those", () => {
    const k = kernelOn();
    const pool = k.allocPoolFrames(0, 1, ROLE_IO_POOL);
    const bounce = k.allocBouncePool(0);
    expect(k.freeBouncePool(pool, 1)).toBe(false);
    expect(k.freePoolFrames(pool + 1, 0)).toBe(false); // not the head of the block
    expect(k.freePoolFrames(bounce, 0)).toBe(false);
    expect(frameRole(k.tx.c[FRAMES], bounce)).toBe(ROLE_BOUNCE);
    expect(k.freePoolFrames(pool, 1)).toBe(true);
    expect(k.freeBouncePool(bounce, 0)).toBe(true);
    for (const f of [pool, pool + 1, bounce]) expect(frameRole(k.tx.c[FRAMES], f)).toBe(ROLE_FREE);
  });

  it("addPoolBuffer records a buffer in the device's own pool frames, and refuses other memory and overlaps", () => {
    // A user's pool: one io-pool page for device 0 at boot; every buffer at +0x0 of it.
    const at = (off: number, step = 0): Policy => ({
      ...strict,
      name: "test-user-pool",
      stateWords: 1,
      boot(k: Kernel): void {
        k.setPol(0, k.allocPoolFrames(0, 0, ROLE_IO_POOL, true) + 1);
      },
      allocBuffer: (k: Kernel, m: number, bytes: number) => k.addPoolBuffer(m, off < 0 ? 0 : (k.pol(0) - 1) * 4096 + off + m * step, bytes),
      freeBuffer: (k: Kernel, m: number) => k.releaseBuffer(m),
    });
    const run = (p: Policy, events: Event[]): string[] => {
      const sys = makeSystem(DEFAULT_CONFIG, p);
      const obs = new Observation();
      const st = new Stepper(sys, obs);
      let s = sys.init;
      const out: string[] = [];
      for (const e of events) {
        s = st.step(s, e);
        out.push(obs.noop ? `noop: ${obs.reason}` : "applied");
      }
      return out;
    };
    const map: Event = { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" };
    const map1: Event = { ...map, cpu: 1 };
    expect(run(at(0x800), [map])).toEqual(["applied"]);
    // Frame 0 is the kernel's, not device 0's pool: refused.
    expect(run(at(-1), [map])[0]).toMatch(/^noop: out of memory/);
    // A second buffer 32 bytes on overlaps the first, still live: refused; 64 bytes on it fits.
    expect(run(at(0x800, 0x20), [map, map1])).toEqual(["applied", expect.stringMatching(/^noop: out of memory/)]);
    expect(run(at(0x800, 0x40), [map, map1])).toEqual(["applied", "applied"]);
    // Device 1 has no pool: its buffer cannot go in device 0's.
    expect(run(at(0x800), [{ ...map, dev: 1 }])[0]).toMatch(/^noop: out of memory/);
    // Once the first buffer is unmapped and freed, its bytes can be a new buffer.
    expect(run(at(0x800, 0x20), [map, { t: "unmap", cpu: 0, k: 0, free: true }, { t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: 0 }, map1]))
      .toEqual(["applied", "applied", "applied", "applied", "applied", "applied"]);
  });

  it("waits on another context's completion", () => {
    const k = kernelOn();
    k.ctx = 1;
    k.completionWait();
    k.ctx = 0;
    k.completionWait();
    expect(k.completionDone(1)).toBe(false);
    executeNextCommand(k.tx, k.obs); // ctx 1's wait runs first
    expect(k.completionDone(1)).toBe(true);
    expect(k.completionDone()).toBe(false);
  });

  it("a completionWait that fails for lack of room leaves no stale done", () => {
    const k = kernelOn();
    // A first wait that has executed: done.
    k.completionWait();
    const q = k.tx.w(CMDQ);
    const sem = 2 + DEFAULT_CONFIG.cmdQueueEntries * CMD_W + k.ctx;
    q[1] = 0;
    q[sem] = 1;
    expect(k.completionDone()).toBe(true);
    // Fill the buffer, then try again.
    while (k.cmdSpace() > 0) k.invalidateAll(0);
    expect(k.completionWait()).toBe(false);
    expect(k.completionDone()).toBe(false);
  });
});

describe("trace messages", () => {
  const MAP: Event = { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" };
  const DMA: Event = { t: "dma", dev: 0, write: false, page: 15, offset: 0, len: 1 }; // IOVA page 519, the first allocIova hands out

  it("every device access shows its frame, its translation source and any fault", () => {
    const sys = makeSystem(DEFAULT_CONFIG, strict);
    const t = traceEvents(sys, [], [MAP, DMA, DMA, { ...DMA, write: true }]);
    expect(t.steps[1].notes.join("\n")).toMatch(/dev0 read 1 byte\(s\) at 0x207000: frame \d+ \+0x0, through page walk/);
    expect(t.steps[2].notes.join("\n")).toMatch(/through IOTLB entry/);
    expect(t.steps[3].notes.join("\n")).toMatch(/dev0 access faulted at page 0x207: IO page fault \(permission\)/);
  });

  it("a resumed timer context is named as such", () => {
    const sys = makeSystem(DEFAULT_CONFIG, lazy);
    const events: Event[] = [MAP, { t: "unmap", cpu: 0, k: 0, free: true }, { t: "tick", ms: 10 }, { t: "iommu" }, { t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: 2 }];
    const t = traceEvents(sys, [], events);
    expect(t.steps[6].text).toBe("resume ctx2 (timer context)");
    expect(t.steps[6].notes.join("\n")).toMatch(/the timer context \(ctx2\) resumes its timer work/);
    expect(t.steps[6].notes.join("\n")).toMatch(/the timer context \(ctx2\): timer work done/);
  });

  it("an object that starts in an earlier frame is not given a negative offset", () => {
    const sys = makeSystem(DEFAULT_CONFIG, strict);
    const st = new Stepper(sys, new Observation());
    const s = st.step(sys.init, { t: "map", cpu: 0, dev: 0, src: "pages", size: 8192, dir: "to-device" });
    const texts = Array.from({ length: DEFAULT_CONFIG.frames }, (_, f) => describeFrame(s, f));
    expect(texts.join("\n")).not.toMatch(/\+0x-/);
    expect(texts.join("\n")).toMatch(/starting at frame \d+ \+0x0/);
  });

  it("\"dom N\" is the domain index; commands print the hardware DomainID by name", () => {
    const sys = makeSystem(DEFAULT_CONFIG, strict);
    const t = traceEvents(sys, [], [{ ...MAP, dev: 0 }, { t: "unmap", cpu: 0, k: 0, free: false }]);
    const notes = t.steps.flatMap((s) => s.notes).join("\n");
    expect(notes).toMatch(/IOMMU dom 0: IOVA pages/);
    expect(notes).toMatch(/INVALIDATE_IOMMU_PAGES DomainID 1 /);
    expect(notes).not.toMatch(/INVALIDATE_IOMMU_PAGES dom/);
  });
});
