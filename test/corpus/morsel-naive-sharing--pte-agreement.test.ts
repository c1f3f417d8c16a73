// dmacheck counterexample: the test replays the trace below and expects its violation
// (what was violated and why: counterexample.violation.explanation).
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "morsel-naive-sharing",
  "policyModule": null,
  "property": "pte-agreement",
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
    {"t": "map-sg", "cpu": 0, "dev": 0, "sizes": [64], "dir": "to-device"}
  ],
  "violation": {
    "step": 0,
    "explanation": "entry 504 of morsel table frame 7 (level 1): the MMU reads a leaf mapping frame 6; the IOMMU reads NextLevel 4 in bits 9..11, set by Linux's soft-dirty (bit 11), as a pointer to a level-4 table at frame 6, which a level-1 table cannot hold (NextLevel must be below the table's level): the IOMMU faults where the CPU translates (since boot)"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "2:3:3:4:1:1:1:1:1:1:1:1:1:1:1",
    "runs": 3,
    "ms": 0,
    "swarm": {"weights": {"map": 1, "map-sg": 3, "alloc-coherent": 1, "unmap": 3, "resume": 1, "iommu": 3, "dma": 1, "kmalloc": 1, "kfree": 1, "tick": 1, "user-touch": 1, "user-unmap": 1}, "cpus": 2, "devices": 2}
  }
} as const;

test("morsel-naive-sharing violates pte-agreement at step 1", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("pte-agreement");
  expect(result.trace.violation?.step).toBe(0);
});
