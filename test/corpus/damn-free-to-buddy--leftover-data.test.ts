// dmacheck counterexample: damn-free-to-buddy violates leftover-data (4 events).
// device 0 read bytes 0x5d3..0xfff of frame 8 through a page walk for IOVA 0x1f85d3; byte 0xfff of frame 8 holds data of the driver of dev1: a live 1-byte I/O pool buffer of the driver of dev1; frame 8 has held a 1-byte I/O pool buffer of the driver of dev1 at +0xfff since step 3
import { expect, test } from "vitest";
import { replayCounterexample } from "../../index.ts";

const counterexample = {
  "format": "dmacheck/counterexample@1",
  "policy": "damn-free-to-buddy",
  "policyModule": null,
  "property": "leftover-data",
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
    {"t": "unmap", "cpu": 0, "k": 0, "free": true},
    {"t": "map", "cpu": 0, "dev": 1, "src": "kmalloc", "size": 1, "dir": "to-device"},
    {"t": "dma", "dev": 0, "write": false, "page": 0, "offset": 1491, "len": 2605}
  ],
  "violation": {
    "step": 3,
    "explanation": "device 0 read bytes 0x5d3..0xfff of frame 8 through a page walk for IOVA 0x1f85d3; byte 0xfff of frame 8 holds data of the driver of dev1: a live 1-byte I/O pool buffer of the driver of dev1; frame 8 has held a 1-byte I/O pool buffer of the driver of dev1 at +0xfff since step 3"
  },
  "found": {
    "engine": "random",
    "seed": 42,
    "path": "525:4:3:3:5:5:6:8:9:10:11:10:10:10:9:10:10:24:24:24:8:9:8:6:6:6",
    "runs": 526,
    "ms": 0
  }
} as const;

test("damn-free-to-buddy violates leftover-data at step 4", () => {
  const result = replayCounterexample(counterexample);
  expect(result.mismatch).toBeNull();
  expect(result.trace.violation?.property).toBe("leftover-data");
  expect(result.trace.violation?.step).toBe(3);
});
