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
 *
 * The file is meant to be pasted into a user's suite, and a counterexample
 * file is someone else's data: everything taken from it is emitted as a JSON
 * string literal (jsString), never inside a comment or a template literal,
 * so no explanation or name can end a comment or a string and become code.
 */
export function renderVitest(cx: Counterexample, importFrom = "dmacheck"): string {
  const json = escapeLineTerminators(encodeCounterexample(cx).trimEnd());
  return [
    `// dmacheck counterexample: the test replays the trace below and expects its violation`,
    `// (what was violated and why: counterexample.violation.explanation).`,
    `import { expect, test } from "vitest";`,
    `import { replayCounterexample } from ${jsString(importFrom)};`,
    ``,
    `const counterexample = ${json} as const;`,
    ``,
    `test(${jsString(`${cx.policy} violates ${cx.property} at step ${cx.violation.step + 1}`)}, () => {`,
    `  const result = replayCounterexample(counterexample);`,
    `  expect(result.mismatch).toBeNull();`,
    `  expect(result.trace.violation?.property).toBe(${jsString(cx.property)});`,
    `  expect(result.trace.violation?.step).toBe(${cx.violation.step});`,
    `});`,
    ``,
  ].join("\n");
}

/**
 * `s` as a JavaScript string literal: JSON's, with U+2028 and U+2029 escaped
 * too (JSON allows them raw in strings; older JavaScript ends a line at them).
 */
export function jsString(s: string): string {
  return escapeLineTerminators(JSON.stringify(s));
}

/** JSON text with U+2028 and U+2029 escaped; they can only occur inside its strings, where \uXXXX means the same. */
function escapeLineTerminators(json: string): string {
  return json.replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}
