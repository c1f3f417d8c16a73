// `npm run mutate` (docs/testing.md): mutation testing of properties/ with
// Stryker, each mutant run against the property unit tests
// (vitest.mutate.config.ts). The default sample is three property files;
// `npm run mutate -- --mutate properties/grants.ts` picks others. Slow: not
// part of `npm test` or CI.
//
// `npm run mutation:model` (DMACHECK_MUTATE_SET=model) mutates the IOMMU core
// and the strict and lazy policies instead, tested by the model and property
// unit tests (vitest.mutate-model.config.ts); its report goes to
// reports/mutation/model.json.
const model = process.env.DMACHECK_MUTATE_SET === "model";

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner"],
  vitest: { configFile: model ? "vitest.mutate-model.config.ts" : "vitest.mutate.config.ts", related: false },
  mutate: model
    ? ["model/iotlb.ts", "model/command-queue.ts", "model/flush-queue.ts", "model/policies/strict.ts", "model/policies/lazy.ts", "model/iommu.ts", "model/iommu-page-table.ts"]
    : ["properties/iotlb-coherence.ts", "properties/pt-page-safety.ts", "properties/view-refinement.ts"],
  coverageAnalysis: "perTest",
  concurrency: 1,
  reporters: ["clear-text", "progress", "json"],
  // DMACHECK_MUTATE_REPORT names another report file (two runs at once).
  jsonReporter: { fileName: process.env.DMACHECK_MUTATE_REPORT ?? (model ? "reports/mutation/model.json" : "reports/mutation/mutation.json") },
  tempDirName: ".stryker-tmp",
  timeoutMS: 20000,
};
