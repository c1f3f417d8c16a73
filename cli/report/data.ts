/**
 * What the HTML report shows, as plain data embedded in the page: the
 * verdict matrix of each engine, each counterexample replayed with the
 * decoded state's changes at every step (checker/state-diffs.ts), and the
 * cost tables. Built from a `check --json` document (check-result.ts);
 * counterexample files are read from where the document says they were
 * written. Same input, same data: nothing here reads a clock.
 */
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { readCounterexampleFile } from "../../counterexamples/file.ts";
import { replayCounterexample } from "../../checker/replay.ts";
import { stateDiffs } from "../../checker/state-diffs.ts";
import { loadPolicyModule } from "../../checker/policy-module.ts";
import { changeLine } from "../../model/decode/diff.ts";
import { findAnyPolicy } from "../../model/policies/index.ts";
import { type Policy } from "../../model/policy.ts";
import { makeSystem } from "../../model/system.ts";
import { findProperty } from "../../properties/index.ts";
import { raceSearchText } from "../render-matrix.ts";
import { type CheckResult, type CheckResultRow, type CheckSearch } from "../check-result.ts";
import { type ReportCosts } from "./cost-data.ts";

export interface ReportCell {
  readonly engine: "random" | "exhaustive";
  readonly policy: string;
  readonly property: string;
  readonly claimed: boolean;
  readonly verdict: "holds" | "violated";
  /** As the terminal matrix prints it: "holds* (all)", "VIOLATED* (4)", "holds (vacuous)". */
  readonly label: string;
  readonly vacuous: boolean;
  /** Search effort and exhaustion, in words: "10,000 runs", "7,074 states, exhausted at depth 27". */
  readonly effort: string;
  /** The property's antecedent and how often the search reached it, or null. */
  readonly coverage: string | null;
  /** How often, in short ("5,184 times", "never"), or null. */
  readonly reached: string | null;
  readonly explanation: string | null;
  /** Index into ReportData.traces, or null. */
  readonly trace: number | null;
}

export interface ReportChange {
  /** "+", "-" or "~". */
  readonly sign: string;
  readonly kind: string;
  readonly text: string;
}

export interface ReportStep {
  readonly step: number;
  readonly text: string;
  readonly noop: string | null;
  readonly notes: readonly string[];
  readonly changes: readonly ReportChange[];
}

export interface ReportTrace {
  readonly engine: string;
  readonly policy: string;
  readonly property: string;
  readonly file: string;
  /** The violation in plain words, with the frame's history. */
  readonly explanation: string;
  /** 1-based step of the violation, or null when the replay did not reproduce it. */
  readonly violationStep: number | null;
  readonly reproduced: boolean;
  /** Why the trace could not be shown or did not reproduce, or null. */
  readonly problem: string | null;
  readonly steps: readonly ReportStep[];
}

export interface ReportData {
  readonly title: string;
  readonly engines: readonly ("random" | "exhaustive")[];
  readonly policies: readonly string[];
  readonly properties: readonly string[];
  readonly device: readonly string[];
  /** One line per engine: what it ran. */
  readonly runs: readonly string[];
  readonly searches: readonly string[];
  readonly cells: readonly ReportCell[];
  readonly traces: readonly ReportTrace[];
  readonly claimedViolations: number;
  readonly costs: ReportCosts | null;
}

const fmt = (n: number) => n.toLocaleString("en-US");

/** The matrix cell text, as cli/render-matrix.ts prints it. */
export function cellLabel(c: CheckResultRow): string {
  const mark = c.claimed ? "*" : "";
  const race = c.pass === "race" ? ", race" : "";
  if (c.verdict === "violated") return c.claimed ? `VIOLATED${mark} (${c.length}${race})` : `violated (${c.length}${race})`;
  if (c.vacuous) return `holds${mark} (vacuous)`;
  if (c.engine === "exhaustive") return c.exhausted === true ? `holds${mark} (all)` : c.bound === "bitstate" ? `holds${mark} (bitstate)` : `holds${mark} (<=${c.depth})`;
  return `holds${mark}`;
}

function effort(c: CheckResultRow): string {
  if (c.engine === "random") return c.runs === null ? "" : `${fmt(c.runs)} runs`;
  const states = c.states === null ? "" : `${fmt(c.states)} states`;
  if (c.verdict === "violated") return `${states}, a shortest counterexample${c.pass === "race" ? " in the race scope (2 CPUs, 2 live mappings)" : ""}`;
  if (c.exhausted === true) return `${states}, exhausted at depth ${c.depth}`;
  return `${states}, stopped (${c.bound ?? "bound"}) at depth ${c.depth}`;
}

function coverageText(c: CheckResultRow): string | null {
  const a = c.coverage?.antecedent;
  if (a === null || a === undefined) return null;
  return `${a.summary}: reached ${fmt(a.reached)} time${a.reached === 1 ? "" : "s"}${a.vacuous === null ? "" : ` (${a.vacuous})`}`;
}

function reachedText(c: CheckResultRow): string | null {
  const a = c.coverage?.antecedent;
  if (a === null || a === undefined) return null;
  return a.reached === 0 ? "never" : `${fmt(a.reached)} time${a.reached === 1 ? "" : "s"}`;
}

function searchText(s: CheckSearch): string {
  // As cli/render-matrix.ts words them.
  const stop = ({
    exhausted: `exhausted at depth ${s.depth}`, "all-violated": `every property violated by depth ${s.depth}`,
    decided: `every claimed property violated; stopped after depth ${s.depth}`, depth: `depth bound ${s.depth} reached`,
    states: `state bound reached at depth ${s.depth}`, memory: `memory bound reached at depth ${s.depth}`,
  } as Record<string, string>)[s.stopped] ?? `stopped (${s.stopped}) at depth ${s.depth}`;
  const main = `${s.policy}: ${fmt(s.states)} states, ${fmt(s.transitions)} transitions, ${stop}${s.symmetry ? ", slot symmetry" : ""}`;
  // Documents from before the device race scope have `race` only.
  const races = s.races ?? (s.race === null || s.race === undefined ? [] : [s.race]);
  return main + races.map((r) => `; ${raceSearchText(r)}`).join("");
}

/** Where a counterexample path in the document is: as written (relative to the working directory), else beside the document. */
function locate(file: string, doc: string): string {
  if (existsSync(file)) return file;
  const beside = resolve(dirname(doc), file);
  return existsSync(beside) ? beside : file;
}

async function traceOf(row: CheckResultRow, file: string, docPath: string): Promise<ReportTrace> {
  const base = { engine: row.engine, policy: row.policy, property: row.property, file, explanation: row.explanation ?? "" };
  const failed = (problem: string): ReportTrace => ({ ...base, violationStep: null, reproduced: false, problem, steps: [] });
  const read = readCounterexampleFile(locate(file, docPath));
  if (!read.ok) return failed(read.error);
  const cx = read.value;
  let policy: Policy | undefined = findAnyPolicy(cx.policy);
  if (cx.policyModule !== null) {
    const loaded = await loadPolicyModule(cx.policyModule, locate(file, docPath));
    if (!loaded.ok) return failed(`${file}: $.policyModule: ${loaded.error}`);
    policy = loaded.policy;
  }
  if (policy === undefined) return failed(`${file}: $.policy: unknown policy ${JSON.stringify(cx.policy)}`);
  if (findProperty(cx.property) === undefined) return failed(`${file}: $.property: unknown property ${JSON.stringify(cx.property)}`);
  try {
    const r = replayCounterexample(cx, policy);
    const diffs = stateDiffs(makeSystem(cx.config, policy), cx.events, r.trace.steps.length - 1);
    const steps = r.trace.steps.map((s, i): ReportStep => ({
      step: s.step, text: s.text, noop: s.noop, notes: s.notes,
      changes: diffs.steps[i].map((c) => {
        const line = changeLine(c);
        return { sign: line[0], kind: c.kind, text: line.slice(2) };
      }),
    }));
    return {
      ...base, explanation: r.trace.explanation ?? base.explanation, violationStep: r.trace.violation === null ? null : r.trace.violation.step + 1,
      reproduced: r.reproduced, problem: r.mismatch, steps,
    };
  } catch (e) {
    return failed(`${file}: replay failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Everything the page shows. `docPath` is where the check document was read from (for relative counterexample paths). */
export async function buildReportData(doc: CheckResult, docPath: string, costs: ReportCosts | null): Promise<ReportData> {
  const rows = doc.results;
  const engines = (["random", "exhaustive"] as const).filter((e) => rows.some((r) => r.engine === e));
  const policies = [...new Set(rows.map((r) => r.policy))];
  const properties = [...new Set(rows.map((r) => r.property))];
  const traces: ReportTrace[] = [];
  const cells: ReportCell[] = [];
  for (const r of rows) {
    let trace: number | null = null;
    if (r.verdict === "violated" && r.counterexample !== null) {
      traces.push(await traceOf(r, r.counterexample, docPath));
      trace = traces.length - 1;
    }
    cells.push({
      engine: r.engine, policy: r.policy, property: r.property, claimed: r.claimed, verdict: r.verdict, label: cellLabel(r), vacuous: r.vacuous,
      effort: effort(r), coverage: coverageText(r), reached: reachedText(r), explanation: r.explanation, trace,
    });
  }
  const runs: string[] = [];
  if (doc.random !== undefined) runs.push(`random engine: seed ${doc.random.seed}, ${fmt(doc.random.runs)} runs of up to ${doc.random.maxEvents} events per cell`);
  if (doc.exhaustive !== undefined) runs.push(`exhaustive engine: depth <= ${doc.exhaustive.depth}, <= ${fmt(doc.exhaustive.maxStates)} states`);
  return {
    title: `dmacheck: ${policies.length} polic${policies.length === 1 ? "y" : "ies"} x ${properties.length} propert${properties.length === 1 ? "y" : "ies"}`,
    engines, policies, properties, device: doc.device, runs, searches: (doc.exhaustive?.searches ?? []).map(searchText), cells, traces,
    claimedViolations: rows.filter((r) => r.claimed && r.verdict === "violated").length, costs,
  };
}
