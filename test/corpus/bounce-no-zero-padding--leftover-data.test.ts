// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "bounce-no-zero-padding",
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
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "iommu"},
    {"t": "iommu"},
    {"t": "resume", "cpu": 0},
    {"t": "map", "cpu": 0, "dev": 1, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "dma", "dev": 1, "write": false, "page": 0, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 6,
    "explanation": "device 1 read bytes 0x0..0x0 of frame 8 through a page walk for IOVA 0x1f8000; byte 0x0 of frame 8 holds data of the driver of dev0: left there by an earlier user of frame 8 and never zeroed (the frame is now a bounce frame); frame 8 has held mapping #0's bounce slot since step 6"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "7966:9:2:5:10:11:11:11:10:10:10",
    "runs": 7967,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 1, "alloc-coherent": 0, "unmap": 3, "resume": 3, "iommu": 3, "dma": 1, "kmalloc": 1, "kfree": 1, "tick": 3, "user-touch": 3, "user-unmap": 1}, "cpus": 2, "devices": 2}
  }
} as const;

test("bounce-no-zero-padding violates leftover-data at step 7", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("leftover-data");
  expect(result.trace.violation?.step).toBe(6);
});
