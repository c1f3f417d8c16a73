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
    {"t": "map-sg", "cpu": 0, "dev": 1, "sizes": [4097], "dir": "to-device"},
    {"t": "map-sg", "cpu": 0, "dev": 0, "sizes": [1], "dir": "to-device"},
    {"t": "dma", "dev": 1, "write": false, "page": 0, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 2,
    "explanation": "device 1 read bytes 0x0..0x0 of frame 8 through a page walk for IOVA 0x1f8000; byte 0x0 of frame 8 holds data of the driver of dev0: mapping #1's bounce copy; frame 8 has held mapping #1's bounce slot since step 2"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "8139:12:4:8:5:4:4:4:5:4:5:8:8:10:8:10:10:8:8:9:9:6:4:5:4:5:5:5:9:4:4:4:4:4:4:4:5:5",
    "runs": 8140,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 3, "alloc-coherent": 3, "unmap": 1, "resume": 1, "iommu": 3, "dma": 1, "kmalloc": 0, "kfree": 3, "tick": 3, "user-touch": 0, "user-unmap": 3}, "cpus": 2, "devices": 2}
  }
} as const;

test("bounce-shared-slot violates leftover-data at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("leftover-data");
  expect(result.trace.violation?.step).toBe(2);
});
