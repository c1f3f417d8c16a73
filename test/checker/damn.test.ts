/**
 * damn (DAMN, ASPLOS'18): buffers come from a per-device pool mapped for good;
 * map is a lookup, unmap does nothing, nothing is invalidated or copied; the
 * pool never holds kernel data.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { C } from "../../model/counters.ts";
import { type Event } from "../../model/events.ts";
import { FRAMES, MAPS, OBJECTS } from "../../model/geometry.ts";
import { mSegFrame } from "../../model/dma-mapping.ts";
import { objCount, objFrame, objOwner, OWNER_KERNEL } from "../../model/objects.ts";
import { frameRole, ROLE_IO_POOL } from "../../model/physical-memory.ts";
import { damn } from "../../model/policies/damn.ts";
import { damnFreeToBuddy } from "../../model/policies/broken.ts";
import { strict } from "../../model/policies/strict.ts";
import { type State } from "../../model/state.ts";
import { makeSystem } from "../../model/system.ts";
import { findProperty, PROPERTIES } from "../../properties/index.ts";
import { type Property } from "../../properties/property.ts";
import { Executor } from "../../checker/execute.ts";
import { exhaustiveCheck } from "../../checker/exhaustive.ts";
import { alphabetEvents, DEFAULT_SCOPE } from "../../checker/scope.ts";
import { costReport } from "../../checker/cost-report.ts";
import { findWorkload, WORKLOADS } from "../../checker/workloads.ts";
import { defaultCosts } from "../../costs/cost-table.ts";
import { dmaAddress } from "../../model/system.ts";
import { Runner } from "../model/helpers.ts";

const rx: Event = { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 2048, dir: "from-device" };
const unmapFree: Event = { t: "unmap", cpu: 0, k: 0, free: true };

function poolFrames(s: State): number[] {
  const out: number[] = [];
  for (let f = 0; f < DEFAULT_SCOPE.config.frames; f++) if (frameRole(s[FRAMES], f) === ROLE_IO_POOL) out.push(f);
  return out;
}

describe("damn", () => {
  it("maps a pool buffer by lookup and unmaps it with nothing: no table write, command or copy after the pool exists", () => {
    const r = Runner.of(damn);
    const first = r.step(rx);
    expect(first.counters[C.iommuPteWrites]).toBeGreaterThan(0); // the pool's first compound page is mapped once
    const f = mSegFrame(r.state[MAPS], 0, 0);
    expect(frameRole(r.state[FRAMES], f)).toBe(ROLE_IO_POOL);
    const addr = dmaAddress(r.state[MAPS], 0);
    r.step({ t: "dma", dev: 0, write: true, page: Math.floor(addr / 4096) - r.sys.g.winBase, offset: addr % 4096, len: 1500 });
    const rest = [unmapFree, rx, unmapFree, rx].map((e) => r.step(e));
    for (const s of rest) {
      expect(s.noop).toBe(false);
      for (const c of ["iommuPteWrites", "iotlbInvCmds", "completionWaits", "bytesCopied", "ptFramesAllocated"] as const) expect(s.counters[C[c]], c).toBe(0);
    }
    // page_frag: the freed buffer's place is handed out again.
    expect(dmaAddress(r.state[MAPS], 0)).toBe(addr);
  });

  it("the pool never holds a kernel object, and the device touches pool pages, in every state of the default scope", () => {
    let reachedPool = false;
    let kernelBesidePool = false;
    const segregation: Property = {
      name: "page-confinement", // only the name's type matters here
      summary: "no kernel object in a pool frame",
      check(_sys, _pre, _e, obs, post) {
        const ob = post[OBJECTS];
        const pool = poolFrames(post);
        if (pool.length > 0 && obs.dev >= 0 && obs.nseg > 0 && pool.includes(obs.segFrame[0])) reachedPool = true;
        for (let i = 0; i < objCount(ob); i++) {
          if (objOwner(ob, i) !== OWNER_KERNEL) continue;
          if (pool.includes(objFrame(ob, i))) return { property: "page-confinement", dev: -1, frame: objFrame(ob, i), iovaPfn: -1, message: "kernel object in a pool frame" };
          if (pool.length > 0) kernelBesidePool = true;
        }
        return null;
      },
    };
    const r = exhaustiveCheck(makeSystem(DEFAULT_SCOPE.config, damn), [segregation], alphabetEvents(DEFAULT_SCOPE), { depth: 40, maxStates: 2_000_000 });
    expect(r.exhausted).toBe(true);
    expect(r.outcomes[0].events).toBeNull();
    expect(reachedPool).toBe(true);
    expect(kernelBesidePool).toBe(true); // the kernel allocates while the pool exists: the invariant is not vacuous
  });

  it("a put that returns an emptied pool page to the page allocator is caught: the device reaches a frame that is no longer its", () => {
    const prop = findProperty("page-confinement")!;
    const ex = exhaustiveCheck(makeSystem(DEFAULT_SCOPE.config, damnFreeToBuddy), [prop], alphabetEvents(DEFAULT_SCOPE), { depth: 40, maxStates: 2_000_000 });
    const cx = ex.outcomes[0].events!;
    expect(cx.map((e) => e.t)).toEqual(["map", "unmap", "dma"]);
    expect(new Executor(makeSystem(DEFAULT_SCOPE.config, damn), [prop]).run(cx).violation).toBeNull();
  });

  it("needs no invalidation and no copy on the network data path, and costs less than strict there", () => {
    const rows = costReport([strict, damn], WORKLOADS.filter((w) => w.name.startsWith("net-")), defaultCosts(), 200);
    for (const w of ["net-rx", "net-tx"]) {
      const d = rows.find((r) => r.policy === "damn" && r.workload === w)!;
      const s = rows.find((r) => r.policy === "strict" && r.workload === w)!;
      for (const c of ["iotlbInvCmds", "atcInvCmds", "completionWaits", "bytesCopied", "bytesZeroed"] as const) expect(d.counters[c], `${w} ${c}`).toBe(0);
      expect(d.nsPerIo).toBeLessThan(s.nsPerIo);
    }
  });

  it("buffers larger than a compound page are not the pool's: nvme-read's 256 KiB and 1 MiB reads are mapped as strict maps them", () => {
    const [row] = costReport([damn], [findWorkload("nvme-read")!], defaultCosts(), 50);
    // NVMe splits 256 KiB and 1 MiB reads into 128 KiB mappings (dma_opt_mapping_size):
    // 2 + 8 of them per 5 reads, each invalidated; 4, 16 and 64 KiB come from the pool.
    expect(row.counters.iotlbInvCmds).toBe(10 / 5);
    expect(row.counters.bytesCopied).toBe(0);
  });

  it("holds with the default configuration's two devices: each device reaches only its own pool", () => {
    const exec = new Executor(makeSystem(DEFAULT_CONFIG, damn), PROPERTIES);
    const events: Event[] = [
      { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" },
      { t: "map", cpu: 1, dev: 1, src: "kmalloc", size: 64, dir: "to-device" },
      { t: "dma", dev: 0, write: false, page: 15, offset: 0, len: 4096 },
      { t: "dma", dev: 1, write: false, page: 15, offset: 0, len: 4096 },
    ];
    expect(exec.run(events).violation).toBeNull();
    expect(exec.totals[C.dmaBytes]).toBe(8192);
  });
});
