// The property catalogue as reports and `--coverage` print it (issue 16,
// mutation testing): every property's name, one-line summary, and its
// antecedent's summary, cases (one --coverage row each, counted at
// counts[at + i]), context rows and whether it only counts once a map has
// returned. A property renamed, a summary emptied or a case dropped changes
// what the user reads, so each is pinned here.
import { describe, expect, it } from "vitest";
import { ALL_PROPERTIES } from "../../properties/index.ts";

const CATALOGUE: Record<string, { summary: string; antecedent: { summary: string; cases: string[]; context?: string[]; afterMap?: boolean } }> = {
  "page-confinement": {
    summary: "a device only ever touches frames that currently hold something granted to it",
    antecedent: {"summary": "a device access that reached memory", "cases": ["passthrough", "walk", "IOTLB hit", "cached-directory walk", "ATC", "forged"], "context": ["fault"], "afterMap": true},
  },
  "byte-confinement": {
    summary: "a device only ever touches bytes currently granted to it, in the granted direction",
    antecedent: {"summary": "a device access that reached memory", "cases": ["passthrough", "walk", "IOTLB hit", "cached-directory walk", "ATC", "forged"], "context": ["fault"], "afterMap": true},
  },
  "iotlb-coherence": {
    summary: "no device access completes through a cached translation that is stale or disagrees with the tables",
    antecedent: {"summary": "a device access through a cached translation (IOTLB, directory cache or ATC)", "cases": ["IOTLB hit", "cached-directory walk", "ATC"], "context": ["uncached walk"], "afterMap": true},
  },
  "pt-page-safety": {
    summary: "no cached directory entry points at a frame that is no longer that page-table frame",
    antecedent: {"summary": "the directory cache held an entry while it or the frames changed", "cases": ["table frame freed under a cached entry", "directory cache changed", "frames changed under a cached entry"], "afterMap": true},
  },
  "pin-safety": {
    summary: "no frame a device can still reach is unpinned or reclaimed",
    antecedent: {"summary": "a frame went back to the page allocator, or lost its last pin", "cases": ["frame reclaimed", "last pin dropped"], "afterMap": true},
  },
  "pte-agreement": {
    summary: "an entry shared by MMU and IOMMU decodes to the same frame in both, and the IOMMU never grants more than the MMU",
    antecedent: {"summary": "a present entry of a table shared by MMU and IOMMU, after the entries or the frames changed", "cases": ["shared entry checked"]},
  },
  "view-refinement": {
    summary: "a secondary morsel view never translates differently from, or more permissively than, the primary",
    antecedent: {"summary": "a present entry of a morsel view table, after the entries or the frames changed", "cases": ["view entry checked", "guest CPU access through an EPT view"]},
  },
  "direct-map-exclusion": {
    summary: "guest memory is never reachable through the kernel direct map",
    antecedent: {"summary": "a kernel read through the direct map aimed at a guest frame", "cases": ["guest frame read"], "context": ["other frame read"]},
  },
  "dma-integrity": {
    summary: "a device access inside a live mapping's IOVA range reaches only that mapping's buffer; no two live mappings of a device share an IOVA page",
    antecedent: {"summary": "a device access inside a live mapping's IOVA range, or two live mappings of one device with IOVAs", "cases": ["access inside a live mapping", "two live mappings of a device"], "afterMap": true},
  },
  "stale-window": {
    summary: "a translation used after its unmap returned is at most the policy's declared bound old",
    antecedent: {"summary": "a device access through a cached translation", "cases": ["cached, its mapping live", "cached, no live mapping holds it (stale)"], "afterMap": true},
  },
  "no-leak": {
    summary: "once no mapping is live and nothing is in progress or queued, every pin, IOVA, table frame, bounce slot and pool page taken for DMA is back",
    antecedent: {"summary": "DMA activity drained: a transition into a state with nothing mapped, in progress or queued", "cases": ["drained"], "afterMap": true},
  },
  "availability": {
    summary: "a device access inside a live mapping (map returned, unmap not started), within its granted bytes and direction, never faults",
    antecedent: {"summary": "a device access inside a mapped buffer's IOVA range, in its direction", "cases": ["completed", "faulted"], "afterMap": true},
  },
  "leftover-data": {
    summary: "a device never reads bytes holding another owner's data, granted or not (leftovers of reused memory); nor a process another process's",
    antecedent: {"summary": "a device read that reached memory", "cases": ["passthrough", "walk", "IOTLB hit", "cached-directory walk", "ATC", "forged"], "afterMap": true},
  },
  "call-progress": {
    summary: "every DMA API call returns once the IOMMU, the CPUs and the timers run on by themselves (no hang)",
    antecedent: {"summary": "a call was resumed and still had to wait", "cases": ["resumed call still waiting"]},
  },
  "vm-confinement": {
    summary: "a device assigned to a VM never touches a frame outside that VM's memory (the host's or another guest's)",
    antecedent: {"summary": "a device access that reached memory while memory outside the VM exists", "cases": ["passthrough", "walk", "IOTLB hit", "cached-directory walk", "ATC", "forged", "vCPU through the EPT"], "afterMap": false},
  },
  "consumed-data-integrity": {
    summary: "a device never changes a received buffer the kernel is consuming (held after its unmap, until freed)",
    antecedent: {"summary": "a device write reaching a frame that holds a buffer the kernel is consuming", "cases": ["write into a consumed buffer's frame"], "context": ["other device write"], "afterMap": true},
  },
  "user-confinement": {
    summary: "a user process reaches only its own pages and I/O memory granted to it (not another process's), never the kernel's data there",
    antecedent: {"summary": "a user access reaching a frame that is not the process's own page", "cases": ["user access to shared I/O memory or another frame"], "context": ["user access to its own page"], "afterMap": false},
  },
};

describe("the property catalogue", () => {
  it("lists every property once, under the name its violations carry", () => {
    expect(ALL_PROPERTIES.map((p) => p.name).sort()).toEqual(Object.keys(CATALOGUE).sort());
  });

  for (const p of ALL_PROPERTIES) {
    it(`${p.name}: summary and antecedent as reports print them`, () => {
      const want = CATALOGUE[p.name];
      expect(p.summary).toBe(want.summary);
      const a = p.antecedent!;
      expect({ summary: a.summary, cases: [...a.cases], context: a.context && [...a.context], afterMap: a.afterMap })
        .toEqual({ context: undefined, afterMap: undefined, ...want.antecedent });
    });
  }
});
