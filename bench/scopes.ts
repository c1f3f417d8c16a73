/**
 * Scopes of `npm run bench`'s exhaustive table, fixed here so the figures stay
 * comparable when the CLI's default scope changes:
 * - "default": the exhaustive engine's default scope before the race scope
 *   (1 CPU, 1 device, 10 frames, one live mapping, 26 events), on which the
 *   issue's per-state speed and memory targets are stated;
 * - "race": the race pass's scope (2 CPUs, 2 live mappings both
 *   unmappable, a sub-page, a one-page and a page-crossing two-page buffer);
 *   searched up to a state bound;
 * - "device": the race pass's device race scope (the same buffers on 1 CPU
 *   and 2 devices); searched up to a state bound.
 */
import { DEVICE_RACE_SCOPE, RACE_SCOPE, type Scope } from "../checker/scope.ts";

export const OLD_DEFAULT_SCOPE: Scope = {
  config: {
    frames: 10, cpus: 1, devices: 1, iovaPages: 4, iovaBasePfn: 512 - 2, iommuLevels: 3, fqSize: 2, fqTimeoutMs: 10,
    maxMappings: 1, maxObjects: 4, cmdQueueEntries: 8, maxOrder: 2, userPages: 0, reclaimEmptyTables: true,
  },
  alphabet: {
    kmallocSizes: [64], pageSizes: [], directions: ["to-device", "from-device"], dmaPages: [0, 1, 2, 3], dmaOffsets: [0, 64],
    dmaLens: [1], unmapSlots: 1, kernelSizes: [64], tickMs: [10], forgedFrames: [0],
  },
};

/** The race pass's scope of `dmacheck check` (checker/scope.ts RACE_SCOPE). */
export const RACE_BENCH_SCOPE: Scope = RACE_SCOPE;

export const BENCH_SCOPES: Record<string, Scope> = { default: OLD_DEFAULT_SCOPE, race: RACE_BENCH_SCOPE, device: DEVICE_RACE_SCOPE };
