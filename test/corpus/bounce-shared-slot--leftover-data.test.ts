// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "bounce-shared-slot",
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
    {"t": "map", "cpu": 0, "dev": 1, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 1, "dir": "to-device"},
    {"t": "dma", "dev": 1, "write": false, "page": 15, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 2,
    "explanation": "device 1 read bytes 0x0..0x0 of frame 8 through a page walk for IOVA 0x207000; byte 0x0 of frame 8 holds data of the driver of dev0: mapping #1's bounce copy; frame 8 has held mapping #1's bounce slot since step 2"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "926:9:0:1:3:3:5:6:8:7:7:6:6:5:3:3:3:4",
    "runs": 927,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 1, "alloc-coherent": 1, "unmap": 3, "resume": 1, "iommu": 3, "dma": 3, "kmalloc": 0, "kfree": 1, "tick": 0, "user-touch": 0, "user-unmap": 1}, "cpus": 2, "devices": 2}
  }
} as const;

test("bounce-shared-slot violates leftover-data at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("leftover-data");
  expect(result.trace.violation?.step).toBe(2);
});
