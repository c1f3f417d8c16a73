// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "damn-free-to-buddy",
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
    {"t": "map-sg", "cpu": 0, "dev": 0, "sizes": [1], "dir": "to-device"},
    {"t": "unmap", "cpu": 0, "k": 0, "free": true},
    {"t": "user-touch", "cpu": 0, "page": 0, "write": false},
    {"t": "dma", "dev": 0, "write": false, "page": 24, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 3,
    "explanation": "device 0 read bytes 0x0..0x0 of frame 8 through a page walk for IOVA 0x200000; byte 0x0 of frame 8 holds the kernel's data: a CPU page table; frame 8 has been free since step 2"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "5411:10:1:3:3:5:6:7:10:11:10:9:9:8:9:12:6:5:6:6:6:6",
    "runs": 5412,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 1, "alloc-coherent": 0, "unmap": 3, "resume": 1, "iommu": 1, "dma": 1, "kmalloc": 1, "kfree": 3, "tick": 1, "user-touch": 3, "user-unmap": 3}, "cpus": 1, "devices": 1}
  }
} as const;

test("damn-free-to-buddy violates leftover-data at step 4", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("leftover-data");
  expect(result.trace.violation?.step).toBe(3);
});
