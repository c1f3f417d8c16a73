// dmacheck counterexample: shadow-zero-copy violates page-confinement (3 events).
// device 0 read frame 18 through a page walk for IOVA 0x1fc000; frame 18 holds nothing granted to device 0: it is a kmalloc-8 slab holding a kmalloc-8 object of the driver of dev0 at +0x0 (the driver still holds its buffer, but its unmap has returned: the device may no longer touch it); frame 18 has held a kmalloc-8 object of the driver of dev0 at +0x0 since step 1
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "shadow-zero-copy",
  "policyModule": null,
  "property": "page-confinement",
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
    {"t": "unmap", "cpu": 0, "k": 0, "free": false},
    {"t": "dma", "dev": 0, "write": false, "page": 20, "offset": 0, "len": 1}
  ],
  "violation": {
    "step": 2,
    "explanation": "device 0 read frame 18 through a page walk for IOVA 0x1fc000; frame 18 holds nothing granted to device 0: it is a kmalloc-8 slab holding a kmalloc-8 object of the driver of dev0 at +0x0 (the driver still holds its buffer, but its unmap has returned: the device may no longer touch it); frame 18 has held a kmalloc-8 object of the driver of dev0 at +0x0 since step 1"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "303:2:1:4:4:2:2:4:3:4:6:6:7:7:8:8:3:11:2:2:2:7:7:7:5:5",
    "runs": 304,
    "ms": 0
  }
} as const;

test("shadow-zero-copy violates page-confinement at step 3", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("page-confinement");
  expect(result.trace.violation?.step).toBe(2);
});
