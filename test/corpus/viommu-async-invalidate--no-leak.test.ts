// dmacheck counterexample: viommu-async-invalidate violates no-leak (3 events).
// nothing is mapped, in progress or queued, yet frame 7, an IOMMU page table of device 0's domain, was unlinked but never freed
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "viommu-async-invalidate",
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
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "iommu"}
  ],
  "violation": {
    "step": 2,
    "explanation": "nothing is mapped, in progress or queued, yet frame 7, an IOMMU page table of device 0's domain, was unlinked but never freed"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "4:2:0:0:1:2:2:4:5:5:6:6:4:4:4",
    "runs": 5,
    "ms": 0
  }
} as const;

test("viommu-async-invalidate violates no-leak at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("no-leak");
  expect(result.trace.violation?.step).toBe(2);
});
