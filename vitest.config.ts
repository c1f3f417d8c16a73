import { defineConfig } from "vitest/config";
import { drawSeed, parseSeed, SEED_VAR } from "./test/seed.ts";

// One fast-check seed per run (test/seed.ts, docs/testing.md): DMACHECK_SEED
// if given, else a fresh one, exported so that every worker uses it and the
// summary reporter prints it.
const given = process.env[SEED_VAR];
if (given === undefined) process.env[SEED_VAR] = String(drawSeed());
else {
  const spec = parseSeed(given);
  if (typeof spec === "string") {
    process.stderr.write(`dmacheck tests: ${spec}\n`);
    process.exit(2);
  }
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 300_000,
    // Two workers: the CI machine has two cores, and the slow files (the
    // exhaustive searches) are independent of each other.
    maxWorkers: 2,
    // The test files of a worker share one module graph instead of each
    // importing the model afresh: the suite's import time was about a
    // third of its CPU time, and the whole suite ran in 360 s instead of
    // 470 to 530 s. What the model and the checker keep at module level is
    // a step's scratch, constant tables, or caches keyed by their System,
    // configuration or module path, so no file can leave another a state;
    // every file passes either way.
    // The mutation configurations keep isolation (vitest.mutate*.config.ts).
    isolate: false,
    reporters: ["default", "./test/summary-reporter.ts"],
    setupFiles: ["./test/setup-seed.ts"],
    // `npm run coverage` (docs/testing.md): V8 coverage of the property
    // checks, the policies and the IOMMU core; the report goes to coverage/.
    coverage: {
      provider: "v8",
      include: [
        "properties/**/*.ts", "model/policies/**/*.ts", "model/iommu*.ts", "model/iotlb.ts", "model/command-queue.ts", "model/flush-queue.ts",
      ],
      reporter: ["text", "json-summary"],
      reportsDirectory: "coverage",
      reportOnFailure: true,
    },
  },
});
