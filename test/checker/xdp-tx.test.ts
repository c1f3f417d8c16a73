/**
 * XDP_TX (the xdp-tx event, model/system.ts): a received buffer the kernel
 * holds is retransmitted by the NIC that received it. On page_pool the page
 * is mapped DMA_BIDIRECTIONAL already (net/core/page_pool.c page_pool_init),
 * so no IOMMU work; the transmit completion (the tx mapping's unmap +free)
 * recycles it. The broken page-pool-xdp-recycle-early recycles it at submit,
 * while the NIC still reads it, and is caught with its shortest
 * counterexample.
 */
import { describe, expect, it } from "vitest";
import { exhaustiveCheck } from "../../checker/exhaustive.ts";
import { Executor } from "../../checker/execute.ts";
import { alphabetEvents, DEFAULT_SCOPE, type Scope } from "../../checker/scope.ts";
import { C } from "../../model/counters.ts";
import { type Event } from "../../model/events.ts";
import { findAnyPolicy, NET_BROKEN_POLICIES } from "../../model/policies/index.ts";
import { pagePoolStrict, pagePoolXdpRecycleEarly } from "../../model/policies/page-pool.ts";
import { strict } from "../../model/policies/strict.ts";
import { makeSystem } from "../../model/system.ts";
import { ALL_PROPERTIES, findProperty } from "../../properties/index.ts";
import { Runner } from "../model/helpers.ts";

/** The default machine with 2 live mappings; one-page rx buffers; XDP_TX of the held one (docs/policies/page-pool.md#xdp_tx). */
export const XDP_SCOPE: Scope = {
  config: { ...DEFAULT_SCOPE.config, maxMappings: 2 },
  alphabet: {
    ...DEFAULT_SCOPE.alphabet, kmallocSizes: [], mapRanges: [], pageSizes: [4096], directions: ["from-device"], dmaOffsets: [0],
    unmapSlots: 2, kernelSizes: [], tickMs: [], xdpTxSlots: 1,
  },
};

const rx: Event = { t: "map", cpu: 0, dev: 0, src: "pages", size: 4096, dir: "from-device" };
const hold: Event = { t: "unmap", cpu: 0, k: 0, free: false };
const xdpTx: Event = { t: "xdp-tx", cpu: 0, k: 0 };

describe("xdp-tx", () => {
  it("on page_pool: the held page becomes a to-device mapping at its pool IOVA, with no IOMMU work", () => {
    const r = Runner.of(pagePoolStrict, XDP_SCOPE.config);
    // IOVAs are allocated top-down (Linux alloc_iova): the rx page is the window's last, page 3.
    r.steps([rx, { t: "dma", dev: 0, write: true, page: 3, offset: 0, len: 64 }, hold]);
    const s = r.step(xdpTx);
    expect(s.noop).toBe(false);
    for (const c of ["iommuPteWrites", "iotlbInvCmds", "completionWaits", "bytesCopied"] as const) expect(s.counters[C[c]], c).toBe(0);
    const read = r.step({ t: "dma", dev: 0, write: false, page: 3, offset: 0, len: 64 });
    expect(read.fault).toBe(0);
    expect(read.nseg).toBe(1);
  });

  it("on strict: the held buffer is mapped to the device like any to-device buffer", () => {
    const r = Runner.of(strict, XDP_SCOPE.config);
    r.steps([rx, hold, { t: "iommu" }, { t: "iommu" }, { t: "resume", cpu: 0 }]); // strict's unmap waits for its invalidation
    expect(r.step(xdpTx).counters[C.iommuPteWrites]).toBeGreaterThan(0);
  });

  it("is a no-op when the kernel holds no received buffer, or the CPU is busy", () => {
    const r = Runner.of(pagePoolStrict, XDP_SCOPE.config);
    expect(r.step(xdpTx).reason).toBe("the kernel holds no received buffer");
    r.steps([rx, { t: "unmap", cpu: 0, k: 0, free: true }]);
    expect(r.step(xdpTx).reason).toBe("the kernel holds no received buffer");
  });

  it("page-pool@strict, exhausted on the XDP scope: dma-integrity and availability hold", () => {
    const r = exhaustiveCheck(makeSystem(XDP_SCOPE.config, pagePoolStrict), ALL_PROPERTIES, alphabetEvents(XDP_SCOPE), { depth: 40, maxStates: 100_000 });
    expect(r.exhausted).toBe(true);
    // (the CLI, which also folds interchangeable mapping slots, counts 675 states: docs/policies/page-pool.md)
    const got = Object.fromEntries(r.outcomes.map((o, i) => [ALL_PROPERTIES[i].name, o.events === null ? "holds" : `violated (${o.events.length})`]));
    const held = Object.fromEntries(ALL_PROPERTIES.map((p) => [p.name, "holds"]));
    expect(got).toEqual({ ...held, "byte-confinement": "violated (2)", "leftover-data": "violated (3)", "consumed-data-integrity": "violated (3)" });
  });
});

describe("page-pool-xdp-recycle-early", () => {
  it("is caught by dma-integrity in 4 events: the recycled page is the next rx buffer while the NIC still transmits it", () => {
    expect(findAnyPolicy("page-pool-xdp-recycle-early")).toBe(pagePoolXdpRecycleEarly);
    expect(NET_BROKEN_POLICIES).toContain(pagePoolXdpRecycleEarly);
    const prop = findProperty("dma-integrity")!;
    const bad = exhaustiveCheck(makeSystem(XDP_SCOPE.config, pagePoolXdpRecycleEarly), [prop], alphabetEvents(XDP_SCOPE), { depth: 40, maxStates: 5000 });
    const cx = bad.outcomes[0].events!;
    expect(cx).toEqual([rx, hold, xdpTx, rx]);
    const v = new Executor(makeSystem(XDP_SCOPE.config, pagePoolXdpRecycleEarly), [prop]).run(cx).violation!;
    expect(v.message).toMatch(/mappings #0 and #1 of device 0 are both live and share IOVA page/);
    // The correct page_pool keeps the page referenced until the completion: the next rx buffer gets another page.
    expect(new Executor(makeSystem(XDP_SCOPE.config, pagePoolStrict), [prop]).run(cx).violation).toBeNull();
  });

  it("and by its claimed availability in 8 events: the page leaves the pool and is unmapped under the new rx buffer", () => {
    const prop = findProperty("availability")!;
    const bad = exhaustiveCheck(makeSystem(XDP_SCOPE.config, pagePoolXdpRecycleEarly), [prop], alphabetEvents(XDP_SCOPE), { depth: 40, maxStates: 5000 });
    expect(bad.outcomes[0].events).toHaveLength(8);
  });
});
