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
    {"t": "map-sg", "cpu": 0, "dev": 0, "sizes": [4097, 4097, 1], "dir": "to-device"},
    {"t": "map-sg", "cpu": 0, "dev": 1, "sizes": [1], "dir": "to-device"},
    {"t": "dma", "dev": 1, "write": false, "page": 15, "offset": 0, "len": 2}
  ],
  "violation": {
    "step": 2,
    "explanation": "device 1 read bytes 0x0..0x1 of frame 8 through a page walk for IOVA 0x207000; byte 0x1 of frame 8 holds data of the driver of dev0: left there by an earlier user of frame 8 and never zeroed (the frame is now a bounce frame); frame 8 has held mapping #0's bounce slot since step 2"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "22106:6:0:5:10:6:8:6:7:6:6:9:7:7:8:7:6:6:7:7:7:8:9:8:8:8:8:8:8:8:8:8:8:8:8:9",
    "runs": 22107,
    "ms": 0,
    "swarm": {"weights": {"map": 3, "map-sg": 1, "alloc-coherent": 1, "unmap": 1, "resume": 3, "iommu": 1, "dma": 3, "kmalloc": 0, "kfree": 1, "tick": 1, "user-touch": 1, "user-unmap": 1}, "cpus": 2, "devices": 2}
  }
} as const;

test("bounce-no-zero-padding violates leftover-data at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("leftover-data");
  expect(result.trace.violation?.step).toBe(2);
});
