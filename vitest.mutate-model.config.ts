import { defineConfig } from "vitest/config";
import base from "./vitest.config.ts";

// The tests `npm run mutation:model` (stryker.config.mjs with
// DMACHECK_MUTATE_SET=model) runs against each mutant of the IOMMU core and
// the strict and lazy policies: the model unit tests that drive them
// directly, and the property unit tests, which step strict and lazy through
// scenarios. The checker tests (exhaustive searches, broken variants) are
// left out so that a run finishes in tens of minutes; the score is thus a
// lower bound for the whole suite (docs/testing.md).
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    isolate: true,
    include: [
      "test/model/iotlb.test.ts", "test/model/command-queue.test.ts", "test/model/flush-queue.test.ts", "test/model/strict.test.ts",
      "test/model/iommu.test.ts", "test/model/fidelity.test.ts", "test/model/kernel-services.test.ts", "test/model/map-range.test.ts",
      "test/model/iommu-access.test.ts", "test/model/iommu-page-table.test.ts", "test/model/morsel.test.ts", "test/model/morsel-view.test.ts", "test/model/segregated-pool.test.ts", "test/model/decode/decode-state.test.ts",
      "test/properties/**/*.test.ts",
    ],
    reporters: ["default"],
    maxWorkers: 1,
  },
});
