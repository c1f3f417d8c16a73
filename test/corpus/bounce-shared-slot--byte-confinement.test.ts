// dmacheck counterexample: bounce-shared-slot violates byte-confinement (3 events).
// device 1 wrote bytes 0x0..0x0 of frame 8 through a page walk for IOVA 0x1f8000; byte 0x0 is not granted to device 1 for writing: it is a bounce slot owned now by mapping #1; frame 8 has held mapping #1's bounce slot since step 2
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "bounce-shared-slot",
  "policyModule": null,
  "property": "byte-confinement",
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
    {"t": "map", "cpu": 0, "dev": 1, "src": "kmalloc", "size": 1, "dir": "from-device"},
    {"t": "map-sg", "cpu": 0, "dev": 0, "sizes": [64], "dir": "to-device"},
    {"t": "dma", "dev": 1, "write": true, "page": 0, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 2,
    "explanation": "device 1 wrote bytes 0x0..0x0 of frame 8 through a page walk for IOVA 0x1f8000; byte 0x0 is not granted to device 1 for writing: it is a bounce slot owned now by mapping #1; frame 8 has held mapping #1's bounce slot since step 2"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "626:2:2:5:7:6:7:7:8:10:10:10:10:8:8:8",
    "runs": 627,
    "ms": 0
  }
} as const;

test("bounce-shared-slot violates byte-confinement at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("byte-confinement");
  expect(result.trace.violation?.step).toBe(2);
});
