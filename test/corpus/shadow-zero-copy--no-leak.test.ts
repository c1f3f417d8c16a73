// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "shadow-zero-copy",
  "policyModule": null,
  "property": "no-leak",
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
    {"t": "unmap", "cpu": 0, "k": 0, "free": false}
  ],
  "violation": {
    "step": 1,
    "explanation": "nothing is mapped, in progress or queued, yet IOVA page 0x203 of device 0 is still allocated"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "2:7:1:3:3:4:5:2",
    "runs": 3,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 3, "alloc-coherent": 1, "unmap": 3, "resume": 1, "iommu": 3, "dma": 1, "kmalloc": 1, "kfree": 1, "tick": 1, "user-touch": 3, "user-unmap": 1}, "cpus": 2, "devices": 1}
  }
} as const;

test("shadow-zero-copy violates no-leak at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("no-leak");
  expect(result.trace.violation?.step).toBe(1);
});
