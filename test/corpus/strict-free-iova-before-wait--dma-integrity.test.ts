// dmacheck counterexample: strict-free-iova-before-wait violates dma-integrity (3 events).
// mappings #0 and #1 of device 0 are both live and share IOVA page 0x1f8: a device access there cannot reach both buffers
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "strict-free-iova-before-wait",
  "policyModule": null,
  "property": "dma-integrity",
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
    {"t": "alloc-coherent", "cpu": 0, "dev": 0, "order": 0},
    {"t": "unmap", "cpu": 1, "k": 0, "free": false},
    {"t": "map-sg", "cpu": 0, "dev": 0, "sizes": [64], "dir": "to-device"}
  ],
  "violation": {
    "step": 2,
    "explanation": "mappings #0 and #1 of device 0 are both live and share IOVA page 0x1f8: a device access there cannot reach both buffers"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "78:1:1:1:2:2:2:6:8:8:5:5",
    "runs": 79,
    "ms": 0
  }
} as const;

test("strict-free-iova-before-wait violates dma-integrity at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("dma-integrity");
  expect(result.trace.violation?.step).toBe(2);
});
