import { defineConfig } from "vitest/config";
import base from "./vitest.config.ts";

// The tests `npm run mutate` (stryker.config.mjs) runs against each mutant:
// the property unit tests only, so that a sample finishes in minutes. The
// score is thus a lower bound for the whole suite (docs/testing.md). Spread,
// not mergeConfig: mergeConfig would append to the base's include list.
export default defineConfig({
  ...base,
  test: { ...base.test, include: ["test/properties/**/*.test.ts"], reporters: ["default"], maxWorkers: 1, isolate: true },
});
