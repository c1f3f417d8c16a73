// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "damn-unzeroed-pool",
  "policyModule": null,
  "property": "leftover-data",
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 15, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 1,
    "explanation": "device 0 read bytes 0x0..0x0 of frame 15 through a page walk for IOVA 0x207000; byte 0x0 of frame 15 holds the kernel's data: left there by an earlier user of frame 15 and never zeroed (the frame is now a io-pool frame); frame 15 has held device 0's io-pool pool since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "8:12:0:0:1:2:2:3:3:2:2:2:2:2:2",
    "runs": 9,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 3, "alloc-coherent": 0, "unmap": 3, "resume": 1, "iommu": 1, "dma": 3, "kmalloc": 0, "kfree": 0, "tick": 3, "user-touch": 0, "user-unmap": 0}, "cpus": 2, "devices": 1}
  }
} as const;

test("damn-unzeroed-pool violates leftover-data at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("leftover-data");
  expect(result.trace.violation?.step).toBe(1);
});
