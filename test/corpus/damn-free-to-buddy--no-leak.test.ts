// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "damn-free-to-buddy",
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 1, "dir": "to-device"},
    {"t": "unmap", "cpu": 0, "k": 0, "free": true}
  ],
  "violation": {
    "step": 1,
    "explanation": "nothing is mapped, in progress or queued, yet IOVA page 0x200 of device 0 is still allocated"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "8:14:3:3:5:7:7:8:8:3:3:3",
    "runs": 9,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 3, "alloc-coherent": 0, "unmap": 3, "resume": 1, "iommu": 1, "dma": 3, "kmalloc": 0, "kfree": 0, "tick": 3, "user-touch": 0, "user-unmap": 0}, "cpus": 2, "devices": 1}
  }
} as const;

test("damn-free-to-buddy violates no-leak at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("no-leak");
  expect(result.trace.violation?.step).toBe(1);
});
