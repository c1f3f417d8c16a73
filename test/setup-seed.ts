/**
 * vitest setup file (vitest.config.ts): gives fast-check the run's seed (and
 * replay path) from DMACHECK_SEED, and a reporter that ends every property
 * failure with the command that reruns it. A call that passes its own seed
 * (fc.sample(..., { seed })) keeps it. See test/seed.ts, docs/testing.md.
 */
import fc from "fast-check";
import { relative } from "node:path";
import { expect } from "vitest";
import { parseSeed, SEED_VAR } from "./seed.ts";
import { rerunHint } from "./seed.ts";

const text = process.env[SEED_VAR];
const spec = text === undefined ? null : parseSeed(text);
if (typeof spec === "string") throw new Error(spec);

fc.configureGlobal({
  ...fc.readConfigureGlobal(),
  ...(spec === null ? {} : { seed: spec.seed }),
  ...(spec?.path === undefined ? {} : { path: spec.path }),
  // Synchronous, so it serves fc.assert and the async runs of @fast-check/vitest alike.
  reporter(out) {
    if (!out.failed) return;
    const st = expect.getState();
    const file = st.testPath === undefined ? undefined : relative(process.cwd(), st.testPath);
    // The test's own name (after the suites), which -t matches as a regular expression.
    const name = st.currentTestName?.split(" > ").at(-1);
    const msg = `${fc.defaultReportMessage(out)}\n\n${rerunHint(out.seed, out.counterexamplePath, file, name)}`;
    throw new Error(msg, { cause: out.errorInstance });
  },
});
