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
    {"t": "alloc-coherent", "cpu": 0, "dev": 1, "order": 0},
    {"t": "dma", "dev": 0, "write": false, "page": 22, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 1,
    "explanation": "device 0 read frame 6 through a page walk for IOVA 0x1fe000; frame 6 holds nothing granted to device 0: it is a 1-page block of the driver of dev1 at +0x0; frame 6 has held a 1-page io-buffer block of the driver of dev1 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "133:8:0:4:5:11:11:11:11:8",
    "runs": 134,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 3, "alloc-coherent": 1, "unmap": 1, "resume": 1, "iommu": 1, "dma": 3, "kmalloc": 3, "kfree": 1, "tick": 3, "user-touch": 1, "user-unmap": 0}, "cpus": 1, "devices": 2}
  }
} as const;

test("coiommu violates page-confinement at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("page-confinement");
  expect(result.trace.violation?.step).toBe(1);
});
