// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "lazy-free-tables-at-unmap",
  "policyModule": null,
  "property": "no-leak",
  "config": {
    "frames": 10,
    "cpus": 1,
    "devices": 1,
    "iovaPages": 4,
    "iovaBasePfn": 510,
    "iommuLevels": 3,
    "fqSize": 2,
    "fqTimeoutMs": 10,
    "maxMappings": 1,
    "maxObjects": 4,
    "cmdQueueEntries": 8,
    "maxOrder": 2,
    "userPages": 0,
    "reclaimEmptyTables": true
  },
  "events": [
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "unmap", "cpu": 0, "k": 0, "free": true},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "unmap", "cpu": 0, "k": 0, "free": true},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "unmap", "cpu": 0, "k": 0, "free": true},
    {"t": "iommu"},
    {"t": "iommu"},
    {"t": "tick", "ms": 10},
    {"t": "iommu"},
    {"t": "iommu"},
    {"t": "resume", "cpu": 0},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "unmap", "cpu": 0, "k": 0, "free": true},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "unmap", "cpu": 0, "k": 0, "free": true},
    {"t": "iommu"},
    {"t": "iommu"},
    {"t": "resume", "cpu": 0},
    {"t": "resume", "cpu": 0},
    {"t": "tick", "ms": 10},
    {"t": "iommu"},
    {"t": "iommu"},
    {"t": "resume", "cpu": 0}
  ],
  "violation": {
    "step": 23,
    "explanation": "nothing is mapped, in progress or queued, yet IOVA page 0x1ff of device 0 is still allocated"
  },
  "found": {
    "engine": "exhaustive",
    "seed": null,
    "path": null,
    "runs": 23442204,
    "ms": 0
  }
} as const;

test("lazy-free-tables-at-unmap violates no-leak at step 24", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("no-leak");
  expect(result.trace.violation?.step).toBe(23);
});
