// `npm run mutate` (docs/testing.md): mutation testing of properties/ with
// Stryker, each mutant run against the property unit tests
// (vitest.mutate.config.ts). The default sample is three property files;
// `npm run mutate -- --mutate properties/grants.ts` picks others. Slow: not
// part of `npm test` or CI.
/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner"],
  vitest: { configFile: "vitest.mutate.config.ts", related: false },
  mutate: ["properties/iotlb-coherence.ts", "properties/pt-page-safety.ts", "properties/view-refinement.ts"],
  coverageAnalysis: "perTest",
  concurrency: 1,
  reporters: ["clear-text", "progress", "json"],
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  tempDirName: ".stryker-tmp",
  timeoutMS: 20000,
};
