// dmacheck counterexample: passthrough violates dma-integrity (2 events).
// mappings #0 and #1 of device 1 are both live and share IOVA page 0x4: a device access there cannot reach both buffers
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "passthrough",
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
    {"t": "map", "cpu": 0, "dev": 1, "src": "kmalloc", "size": 1500, "dir": "to-device"},
    {"t": "map", "cpu": 0, "dev": 1, "src": "kmalloc", "size": 2048, "dir": "to-device"}
  ],
  "violation": {
    "step": 1,
    "explanation": "mappings #0 and #1 of device 1 are both live and share IOVA page 0x4: a device access there cannot reach both buffers"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "223:2:1:4:9:9:6:6:6:6",
    "runs": 224,
    "ms": 0
  }
} as const;

test("passthrough violates dma-integrity at step 2", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("dma-integrity");
  expect(result.trace.violation?.step).toBe(1);
});
