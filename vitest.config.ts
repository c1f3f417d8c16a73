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
