// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "bounce-shared-slot",
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
    {"t": "map-sg", "cpu": 0, "dev": 1, "sizes": [1], "dir": "from-device"},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "dma", "dev": 1, "write": true, "page": 15, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 2,
    "explanation": "device 1 wrote frame 8 through a page walk for IOVA 0x207000; frame 8 holds nothing granted to device 1: it is a bounce frame; frame 8 has held mapping #1's bounce slot since step 2"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "274:10:4:6:7:7:9:11:11:11:11:8:8:8:8:8",
    "runs": 275,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 3, "alloc-coherent": 3, "unmap": 1, "resume": 1, "iommu": 1, "dma": 1, "kmalloc": 0, "kfree": 3, "tick": 0, "user-touch": 1, "user-unmap": 1}, "cpus": 2, "devices": 2}
  }
} as const;

test("bounce-shared-slot violates page-confinement at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("page-confinement");
  expect(result.trace.violation?.step).toBe(2);
});
