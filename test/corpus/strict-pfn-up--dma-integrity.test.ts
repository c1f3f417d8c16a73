// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-pfn-up",
  "policyModule": null,
  "property": "dma-integrity",
  "config": {
    "frames": 32,
    "cpus": 2,
    "devices": 2,
    "iovaPages": 16,
    "iovaBasePfn": 504,
    "iommuLevels": 3,
    "fqSize": 256,
    "fqTimeoutMs": 10,
    "maxMappings": 8,
    "maxObjects": 48,
    "cmdQueueEntries": 16,
    "maxOrder": 3,
    "userPages": 4,
    "reclaimEmptyTables": true
  },
  "events": [
    {"t": "map", "cpu": 0, "dev": 1, "src": "kmalloc", "size": 64, "dir": "from-device", "offset": 1, "len": 16},
    {"t": "dma", "dev": 1, "write": true, "page": 15, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 1,
    "explanation": "device 1 wrote IOVA 0x207000 of mapping #0 through a page walk, but reached frame 7 (an IOMMU page table of dom 1), which holds none of that mapping's buffer; frame 7 has held an IOMMU page table (dom 1, level 2) since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "38:11:2:3:5:4:4:4:4:4:4:4:4:4:4:4:4:4:5:5:5:6:6:6",
    "runs": 39,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 0, "alloc-coherent": 3, "unmap": 1, "resume": 3, "iommu": 3, "dma": 3, "kmalloc": 3, "kfree": 3, "tick": 1, "user-touch": 1, "user-unmap": 1}, "cpus": 1, "devices": 2}
  }
} as const;

test("strict-pfn-up violates dma-integrity at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("dma-integrity");
  expect(result.trace.violation?.step).toBe(1);
});
