/** `dmacheck replay FILE`: re-execute, explain, confirm. */
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

export async function runReplay(file: string, opts: { json?: boolean; vitest?: boolean; itf?: string }, io: Io): Promise<number> {
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
  if (opts.vitest) {
    io.out(renderVitest(cx));
  } else if (opts.json) {
    const doc = {
      file, policy: cx.policy, property: cx.property, reproduced: r.reproduced, mismatch: r.mismatch,
      recordedStep: cx.violation.step, step: r.trace.violation?.step ?? null, explanation: r.trace.explanation,
      trace: r.trace.steps.map((s) => ({ step: s.step, event: s.event, noop: s.noop, notes: s.notes, counters: s.counters })),
    };
    io.out(JSON.stringify(doc, null, 2) + "\n");
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
