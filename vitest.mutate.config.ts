import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.ts";

// The tests `npm run mutate` (stryker.config.json) runs against each mutant:
// the property unit tests only, so that a sample finishes in minutes. The
// score is thus a lower bound for the whole suite (docs/testing.md).
export default mergeConfig(base, defineConfig({
  test: {
    include: ["test/properties/**/*.test.ts"],
    reporters: ["default"],
    maxWorkers: 1,
  },
}));
