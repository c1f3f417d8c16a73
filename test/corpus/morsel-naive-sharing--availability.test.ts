// dmacheck counterexample: morsel-naive-sharing violates availability (3 events).
// device 1's read of 1 byte(s) at IOVA 0x1f8000, inside mapping #0 (segment 0, IOVA 0x1f8000..0x1f9000, mapped and not being unmapped), faulted: IO page fault (not present) at IOVA page 0x1f8
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "morsel-naive-sharing",
  "policyModule": null,
  "property": "availability",
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
    {"t": "alloc-coherent", "cpu": 0, "dev": 1, "order": 0},
    {"t": "resume", "cpu": 0},
    {"t": "dma", "dev": 1, "write": false, "page": 0, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 2,
    "explanation": "device 1's read of 1 byte(s) at IOVA 0x1f8000, inside mapping #0 (segment 0, IOVA 0x1f8000..0x1f9000, mapped and not being unmapped), faulted: IO page fault (not present) at IOVA page 0x1f8"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "38:2:0:1:5:5:5:5:2:4:4:4",
    "runs": 39,
    "ms": 0
  }
} as const;

test("morsel-naive-sharing violates availability at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("availability");
  expect(result.trace.violation?.step).toBe(2);
});
