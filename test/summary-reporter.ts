/**
 * Prints one closing line, "N passed, N failed", after vitest's own report,
 * the plain form CI logs are read for, and the run's fast-check seed
 * (test/seed.ts) with the command that reruns the suite with it.
 */
import type { Reporter, TestModule } from "vitest/node";
import { SEED_VAR } from "./seed.ts";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0, failed = 0, skipped = 0;
    for (const m of testModules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else skipped++;
      }
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
    const seed = process.env[SEED_VAR];
    if (seed !== undefined) process.stdout.write(`fast-check seed ${seed} (rerun with ${SEED_VAR}=${seed} npm test)\n`);
  }
}
