// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "coiommu",
  "policyModule": null,
  "property": "page-confinement",
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
    {"t": "alloc-coherent", "cpu": 0, "dev": 0, "order": 0},
    {"t": "alloc-coherent", "cpu": 0, "dev": 0, "order": 1},
    {"t": "dma", "dev": 1, "write": false, "page": 12, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 2,
    "explanation": "device 1 read frame 12 through a page walk for IOVA 0x204000; frame 12 holds nothing granted to device 1: it is a 2-page block of the driver of dev0 at +0x0; frame 12 has held a 2-page io-buffer block of the driver of dev0 since step 2"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "528:9:1:3:3:5:5:7:7:6:9:7:7:7:7:7:7",
    "runs": 529,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 1, "alloc-coherent": 3, "unmap": 1, "resume": 1, "iommu": 1, "dma": 3, "kmalloc": 3, "kfree": 1, "tick": 0, "user-touch": 1, "user-unmap": 3}, "cpus": 2, "devices": 2}
  }
} as const;

test("coiommu violates page-confinement at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("page-confinement");
  expect(result.trace.violation?.step).toBe(2);
});
