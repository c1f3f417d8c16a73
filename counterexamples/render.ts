/**
 * Renderings of a replayed counterexample: a step table for people, and a
 * vitest test a user can paste into their suite.
 */
import { type Counterexample } from "./schema.ts";
import { type ReplayResult } from "../checker/replay.ts";
import { encodeCounterexample } from "./file.ts";

/** A plain-text step table: step, event, what the model did; then the verdict. */
export function renderStepTable(cx: Counterexample, r: ReplayResult): string {
  const lines: string[] = [];
  lines.push(`${cx.policy} x ${cx.property}: ${cx.events.length} event${cx.events.length === 1 ? "" : "s"}`);
  lines.push("");
  const width = Math.max(5, ...r.trace.steps.map((s) => s.text.length));
  lines.push(`step  ${"event".padEnd(width)}  what happened`);
  for (const s of r.trace.steps) {
    const what = s.noop !== null ? `no-op: ${s.noop}` : s.notes.length > 0 ? s.notes.join("; ") : "-";
    lines.push(`${String(s.step).padStart(4)}  ${s.text.padEnd(width)}  ${what}`);
  }
  lines.push("");
  if (r.trace.violation) lines.push(`VIOLATION of ${cx.property} at step ${r.trace.violation.step + 1}: ${r.trace.explanation}`);
  lines.push(r.reproduced ? "reproduced: yes" : `reproduced: NO (${r.mismatch})`);
  return lines.join("\n") + "\n";
}

/**
 * A self-contained vitest test that replays the counterexample. `importFrom`
 * is where replayCounterexample comes from ("dmacheck" for a user's project,
 * which imports the package's compiled dist/).
 */
export function renderVitest(cx: Counterexample, importFrom = "dmacheck"): string {
  const json = encodeCounterexample(cx).trimEnd();
  return [
    `// dmacheck counterexample: ${cx.policy} violates ${cx.property} (${cx.events.length} events).`,
    `// ${cx.violation.explanation}`,
    `import { expect, test } from "vitest";`,
    `import { replayCounterexample } from ${JSON.stringify(importFrom)};`,
    ``,
    `const counterexample = ${json} as const;`,
    ``,
    `test(${JSON.stringify(`${cx.policy} violates ${cx.property} at step ${cx.violation.step + 1}`)}, () => {`,
    `  const result = replayCounterexample(counterexample);`,
    `  expect(result.mismatch).toBeNull();`,
    `  expect(result.trace.violation?.property).toBe(${JSON.stringify(cx.property)});`,
    `  expect(result.trace.violation?.step).toBe(${cx.violation.step});`,
    `});`,
    ``,
  ].join("\n");
}
