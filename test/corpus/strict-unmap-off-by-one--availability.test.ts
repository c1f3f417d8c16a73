// dmacheck counterexample: strict-unmap-off-by-one violates availability (4 events).
// device 1's read of 1 byte(s) at IOVA 0x1f9000, inside mapping #1 (segment 0, IOVA 0x1f9000..0x1fa000, mapped and not being unmapped), faulted: IO page fault (not present) at IOVA page 0x1f9
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-unmap-off-by-one",
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
    {"t": "map", "cpu": 0, "dev": 1, "src": "kmalloc", "size": 1, "dir": "to-device"},
    {"t": "alloc-coherent", "cpu": 0, "dev": 1, "order": 0},
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "dma", "dev": 1, "write": false, "page": 1, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 3,
    "explanation": "device 1's read of 1 byte(s) at IOVA 0x1f9000, inside mapping #1 (segment 0, IOVA 0x1f9000..0x1fa000, mapped and not being unmapped), faulted: IO page fault (not present) at IOVA page 0x1f9"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "2015:2:0:2:3:3:7:10:11:11:11:11:11:11:11",
    "runs": 2016,
    "ms": 0
  }
} as const;

test("strict-unmap-off-by-one violates availability at step 4", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("availability");
  expect(result.trace.violation?.step).toBe(3);
});
