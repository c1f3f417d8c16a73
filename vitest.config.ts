import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 300_000,
    // Two workers: the CI machine has two cores, and the slow files (the
    // exhaustive searches) are independent of each other.
    maxWorkers: 2,
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
