/** `dmacheck replay FILE`: re-execute, explain, confirm; with --diff, what each step changed in the decoded state. */
import { readCounterexampleFile } from "../counterexamples/file.ts";
import { renderStepTable, renderVitest } from "../counterexamples/render.ts";
import { replayCounterexample } from "../checker/replay.ts";
import { findAnyPolicy } from "../model/policies/index.ts";
import { loadPolicyModule } from "../checker/policy-module.ts";
import { typecheckBeforeLoading } from "./typecheck.ts";
import { findProperty } from "../properties/index.ts";
import { EXIT_OK, EXIT_VIOLATION, fail } from "./errors.ts";
import { guardPolicy } from "./check.ts";
import { type Io } from "./io.ts";
import { writeFileSync, renameSync, rmSync } from "node:fs";
import { encodeItf, itfTrace } from "../counterexamples/itf.ts";
import { fsReason } from "../counterexamples/decode-json.ts";
import { makeSystem } from "../model/system.ts";
import { stateDiffs } from "../checker/state-diffs.ts";
import { changeLine } from "../model/decode/diff.ts";

export async function runReplay(file: string, opts: { json?: boolean; vitest?: boolean; itf?: string; diff?: boolean }, io: Io): Promise<number> {
  const read = readCounterexampleFile(file);
  if (!read.ok) fail(read.error);
  const cx = read.value;
  let policy = findAnyPolicy(cx.policy);
  if (cx.policyModule !== null) {
    await typecheckBeforeLoading(cx.policyModule, `${file}: $.policyModule:`, io, file);
    const loaded = await loadPolicyModule(cx.policyModule, file);
    if (!loaded.ok) fail(`${file}: $.policyModule: ${loaded.error}`);
    policy = loaded.policy;
  }
  if (!policy) fail(`${file}: $.policy: unknown policy ${JSON.stringify(cx.policy)}`);
  if (!findProperty(cx.property)) fail(`${file}: $.property: unknown property ${JSON.stringify(cx.property)}`);
  const r = guardPolicy({ policy, module: cx.policyModule }, () => replayCounterexample(cx, policy));
  if (opts.itf !== undefined) {
    const pol = policy;
    writeItf(opts.itf, encodeItf(guardPolicy({ policy, module: cx.policyModule }, () => itfTrace(cx, pol, r, file))));
  }
  // The same steps as the trace: up to the violation, or every event when it did not reproduce.
  const diffs = opts.diff ? guardPolicy({ policy, module: cx.policyModule }, () => stateDiffs(makeSystem(cx.config, policy), cx.events, r.trace.steps.length - 1)) : null;
  if (opts.vitest) {
    io.out(renderVitest(cx));
  } else if (opts.json) {
    const doc = {
      file, policy: cx.policy, property: cx.property, reproduced: r.reproduced, mismatch: r.mismatch,
      recordedStep: cx.violation.step, step: r.trace.violation?.step ?? null, explanation: r.trace.explanation,
      trace: r.trace.steps.map((s, i) => ({
        step: s.step, event: s.event, noop: s.noop, notes: s.notes, counters: s.counters, ...(diffs === null ? {} : { changes: diffs.steps[i] }),
      })),
      ...(diffs === null ? {} : { initial: diffs.initial }),
    };
    io.out(JSON.stringify(doc, null, 2) + "\n");
  } else if (diffs !== null) {
    const lines = [`${cx.policy} x ${cx.property}: ${cx.events.length} event${cx.events.length === 1 ? "" : "s"}; what each step changed in the decoded state (docs/state.md)`, ""];
    r.trace.steps.forEach((s, i) => {
      const violating = r.trace.violation !== null && r.trace.violation.step === i;
      lines.push(`step ${s.step}: ${s.text}${s.noop !== null ? ` (no-op: ${s.noop})` : ""}${violating ? `  <- violates ${cx.property}` : ""}`);
      const changes = diffs.steps[i];
      if (changes.length === 0) lines.push("  (no change)");
      for (const c of changes) lines.push(`  ${changeLine(c)}`);
    });
    lines.push("");
    if (r.trace.violation) lines.push(`VIOLATION of ${cx.property} at step ${r.trace.violation.step + 1}: ${r.trace.explanation}`);
    lines.push(r.reproduced ? "reproduced: yes" : `reproduced: NO (${r.mismatch})`);
    io.out(lines.join("\n") + "\n");
  } else {
    io.out(renderStepTable(cx, r));
  }
  return r.reproduced ? EXIT_OK : EXIT_VIOLATION;
}

/** `--itf OUT`: the trace in the Informal Trace Format (counterexamples/itf.ts), written aside and renamed so a crash leaves no half file. */
function writeItf(out: string, text: string): void {
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, out);
  } catch (e) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // Nothing was written (the directory itself is missing or not one).
    }
    fail(`--itf ${out}: cannot write: ${fsReason(e)}`);
  }
}
