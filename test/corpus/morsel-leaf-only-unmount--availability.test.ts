// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "morsel-leaf-only-unmount",
  "policyModule": null,
  "property": "availability",
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
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "from-device", "offset": 32, "len": 16},
    {"t": "resume", "cpu": 0},
    {"t": "dma", "dev": 0, "write": false, "page": 0, "offset": 0, "len": 1},
    {"t": "unmap", "cpu": 0, "k": 0, "free": true},
    {"t": "iommu"},
    {"t": "iommu"},
    {"t": "resume", "cpu": 0},
    {"t": "dma", "dev": 0, "write": false, "page": 0, "offset": 0, "len": 1},
    {"t": "resume", "cpu": 0},
    {"t": "map", "cpu": 0, "dev": 0, "src": "kmalloc", "size": 64, "dir": "to-device"},
    {"t": "resume", "cpu": 0},
    {"t": "dma", "dev": 0, "write": false, "page": 0, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 11,
    "explanation": "device 0's read of 1 byte(s) at IOVA 0x1fe000, inside mapping #0 (segment 0, IOVA 0x1fe000..0x1fe040, mapped and not being unmapped), faulted: IO page fault (permission) at IOVA page 0x1fe"
  },
  "found": {
    "engine": "exhaustive",
    "seed": null,
    "path": null,
    "runs": 53854,
    "ms": 0
  }
} as const;

test("morsel-leaf-only-unmount violates availability at step 12", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("availability");
  expect(result.trace.violation?.step).toBe(11);
});
