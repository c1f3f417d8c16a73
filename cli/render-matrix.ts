/** Text rendering of the check matrix: one table per engine, then the counterexamples. */
import pc from "picocolors";
import { match } from "ts-pattern";
import { type CellResult, type Engine, type SearchSummary } from "../checker/matrix.ts";
import { raceScopeName, type Scope } from "../checker/scope.ts";
import { type Coverage } from "../checker/coverage.ts";
import { type ModelConfig } from "../model/config.ts";

export interface MatrixInfo {
  readonly runs: number;
  readonly seed: number;
  readonly maxEvents: number;
  readonly timing: boolean;
  readonly out: string;
  readonly scope: Scope;
  readonly depth: number;
  readonly maxStates: number;
  /** Device attributes in force, as on the command line. */
  readonly device: readonly string[];
  /** Print each engine's coverage table (--coverage). */
  readonly coverage?: boolean;
  /** The random engine's machine when it is not the default one (--scope and the machine flags). */
  readonly randomMachine?: ModelConfig;
  /** Random engine: swarm testing on (the default) or off (--no-swarm). */
  readonly swarm?: boolean;
}

interface Row {
  readonly cell: CellResult;
  readonly file: string | null;
  /** Files of the further counterexamples (--counterexamples N > 1). */
  readonly more?: readonly string[];
}

const fmt = (n: number) => n.toLocaleString("en-US");
const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;

/** One search of the race pass, as the matrix's search lines and the HTML report word it (without its time). */
export function raceSearchText(r: {
  readonly cpus: number; readonly devices: number; readonly frames: number; readonly maxMappings: number;
  readonly states: number; readonly depth: number; readonly stopped: string; readonly exhausted: boolean;
}): string {
  const end = r.exhausted ? `exhausted at depth ${r.depth}` : r.stopped === "decided" || r.stopped === "all-violated" ? `every claim decided at depth ${r.depth}` : `${r.stopped === "states" ? "state bound" : "depth bound"}, depth ${r.depth} fully checked`;
  return `${raceScopeName(r)} (${plural(r.cpus, "CPU")}, ${plural(r.devices, "device")}, ${plural(r.frames, "frame")}, ${plural(r.maxMappings, "live mapping")}): ${fmt(r.states)} states, ${end}`;
}

function cellText(c: CellResult): { text: string; paint: (s: string) => string } {
  const mark = c.claimed ? "*" : "";
  return match(c)
    .with({ verdict: "holds", vacuous: true }, () => ({ text: `holds${mark} (vacuous)`, paint: pc.yellow }))
    .with({ verdict: "holds", engine: "exhaustive", exhausted: true }, () => ({ text: `holds${mark} (all)`, paint: pc.green }))
    .with({ verdict: "holds", engine: "exhaustive", bound: "bitstate" }, () => ({ text: `holds${mark} (bitstate)`, paint: pc.green }))
    .with({ verdict: "holds", engine: "exhaustive" }, (v) => ({ text: `holds${mark} (<=${v.depth})`, paint: pc.green }))
    .with({ verdict: "holds" }, () => ({ text: `holds${mark}`, paint: pc.green }))
    .with({ verdict: "violated", claimed: true }, (v) => ({ text: `VIOLATED${mark} (${v.length}${raceMark(v)})`, paint: (s: string) => pc.bold(pc.red(s)) }))
    .otherwise((v) => ({ text: `violated (${v.length}${raceMark(v)})`, paint: pc.yellow }));
}

/** A violation the race scope found (the main scope had none): ", race". */
function raceMark(c: CellResult): string {
  return c.pass === "race" ? ", race" : "";
}

function table(rows: readonly Row[]): string[] {
  const policies = [...new Set(rows.map((r) => r.cell.policy))];
  const props = [...new Set(rows.map((r) => r.cell.property))];
  const w0 = Math.max(6, ...policies.map((p) => p.length)) + 2;
  const widths = props.map((q) => Math.max(q.length, 18) + 2);
  const lines = ["policy".padEnd(w0) + props.map((q, i) => q.padEnd(widths[i])).join("").trimEnd()];
  for (const p of policies) {
    let line = p.padEnd(w0);
    props.forEach((q, i) => {
      const r = rows.find((x) => x.cell.policy === p && x.cell.property === q);
      if (!r) {
        line += "-".padEnd(widths[i]);
        return;
      }
      const { text, paint } = cellText(r.cell);
      line += paint(text) + " ".repeat(Math.max(1, widths[i] - text.length));
    });
    lines.push(line.trimEnd());
  }
  return lines;
}

function scopeLine(s: Scope): string {
  const c = s.config;
  return `${plural(c.frames, "frame")}, ${plural(c.cpus, "CPU")}, ${plural(c.devices, "device")}, ${plural(c.iovaPages, "IOVA page")}, ${plural(c.maxMappings, "live mapping")}`;
}

function stopText(s: SearchSummary): string {
  const text = stopReasonText(s);
  if (s.omission === null) return text;
  return `${text}; bitstate: holds within ${fmt(s.states)} states, probability of an omission about ${probabilityText(s.omission)}`;
}

/** A probability in a short, honest form: 2 significant digits, "1" when the estimate says an omission is likely. */
function probabilityText(p: number): string {
  if (p >= 0.995) return "1";
  if (p === 0) return "0";
  return p >= 0.01 ? p.toFixed(2) : p.toExponential(1);
}

function stopReasonText(s: SearchSummary): string {
  return match(s.stopped)
    .with("exhausted", () => (s.omission === null ? `exhausted at depth ${s.depth}` : `no new state after depth ${s.depth}`))
    .with("all-violated", () => `every property violated by depth ${s.depth}`)
    .with("decided", () => `every claimed property violated; stopped after depth ${s.depth}`)
    .with("depth", () => `depth bound ${s.depth} reached`)
    .with("states", () => `state bound reached at depth ${s.depth}`)
    .with("memory", () => `memory bound reached at depth ${s.depth}`)
    .exhaustive();
}

export function renderMatrix(rows: readonly Row[], searches: readonly SearchSummary[], info: MatrixInfo): string {
  const lines: string[] = [];
  const engines: Engine[] = (["random", "exhaustive"] as const).filter((e) => rows.some((r) => r.cell.engine === e));
  for (const engine of engines) {
    const mine = rows.filter((r) => r.cell.engine === engine);
    const dev = info.device.join(",") === "trusted" ? "" : ` [devices: ${info.device.join(", ")}]`;
    if (engine === "random") {
      const machine = info.randomMachine === undefined ? "" : `, on ${scopeLine({ ...info.scope, config: info.randomMachine })}`;
      const swarm = info.swarm === false ? ", no swarm" : "";
      lines.push(`dmacheck check: random engine, seed ${info.seed}, ${info.runs} runs of up to ${info.maxEvents} events per cell${machine}${swarm}${dev}`);
    } else {
      lines.push(`dmacheck check: exhaustive engine, scope ${scopeLine(info.scope)}; depth <= ${info.depth}, <= ${fmt(info.maxStates)} states${dev}`);
    }
    lines.push("");
    lines.push(...table(mine));
    lines.push("");
    if (engine === "random") {
      lines.push(`* claimed by the policy. holds: no violation in ${info.runs} runs. violated (n): counterexample of n events.`);
      if (mine.some((r) => r.cell.pass === "race")) lines.push(`violated (n, race): none in those runs; found when the same runs were made again on the race scope's machine (2 CPUs, 2 live mappings, 10 frames; docs/exhaustive.md).`);
      lines.push(VACUOUS_LEGEND);
    } else {
      lines.push("* claimed by the policy. holds (all): no violation in any execution of the scope (its space was exhausted);");
      lines.push("holds (<=k): none up to k events. violated (n): a shortest counterexample, of n events.");
      if (searches.some((s) => s.race !== null)) lines.push("violated (n, race): none in the scope, a shortest one of n events in a race scope searched after it (docs/exhaustive.md).");
      lines.push(VACUOUS_LEGEND);
      for (const s of searches) {
        const time = info.timing ? `, ${fmt(s.ms)} ms` : "";
        lines.push(`  ${s.policy}: ${fmt(s.states)} states, ${fmt(s.transitions)} transitions, ${stopText(s)}${time}`);
        for (const r of s.races) {
          const rtime = info.timing ? `, ${fmt(r.ms)} ms` : "";
          lines.push(`    ${raceSearchText(r)}${rtime}`);
        }
      }
    }
    lines.push(...vacuityWarnings(mine));
    if (info.coverage === true) lines.push("", ...renderCoverage(mine, engine));
    const violated = mine.filter((r) => r.cell.verdict === "violated");
    if (violated.length > 0) {
      lines.push("");
      lines.push(`Counterexamples (replay with: dmacheck replay FILE):`);
      for (const { cell, file, more } of violated) {
        const when = engine === "exhaustive"
          ? `, shortest, found after ${fmt(cell.states ?? 0)} states${info.timing ? ` in ${cell.ms} ms` : ""}`
          : info.timing ? `, found in run ${cell.runs} after ${cell.msToFind} ms (${cell.ms} ms with shrinking)` : `, found in run ${cell.runs}`;
        lines.push(`  ${cell.policy} x ${cell.property}${cell.claimed ? pc.bold(pc.red(" (CLAIMED)")) : ""}: ${cell.length} event${cell.length === 1 ? "" : "s"}${when}`);
        lines.push(`    ${file ?? ""}`);
        lines.push(`    ${cell.explanation}`);
        // --counterexamples N > 1: each further one, with another sequence of event kinds.
        (more ?? []).forEach((f, i) => {
          const m = cell.more[i];
          lines.push(`    also (${m.events.length} event${m.events.length === 1 ? "" : "s"}: ${m.events.map((e) => e.t).join(", ")}): ${f}`);
        });
      }
    }
    lines.push("");
  }
  const broken = rows.filter((r) => r.cell.claimed && r.cell.verdict === "violated");
  const vacuous = rows.filter((r) => r.cell.claimed && r.cell.vacuous).length;
  lines.push(broken.length === 0
    ? pc.green(`Every claimed property held (${rows.filter((r) => r.cell.claimed).length} claimed cells${vacuous > 0 ? `, ${vacuous} of them only vacuously` : ""}).`)
    : pc.bold(pc.red(`${broken.length} claimed cell${broken.length === 1 ? " was" : "s were"} violated.`)));
  return lines.join("\n") + "\n";
}

const VACUOUS_LEGEND = "holds (vacuous): no violation, but nothing in the search put the property to the test (see the warnings, --coverage).";

/**
 * One warning per property and reason, naming the policies whose cells hold
 * only vacuously (claimed ones marked *), and one per policy whose maps never
 * succeeded, saying which resource the scope left no room for.
 */
function vacuityWarnings(rows: readonly Row[]): string[] {
  const out: string[] = [];
  const groups = new Map<string, string[]>();
  for (const { cell } of rows) {
    const why = cell.vacuous ? cell.coverage?.antecedent?.vacuous : null;
    if (why === null || why === undefined) continue;
    const key = `${cell.property}: ${why}`;
    const g = groups.get(key) ?? [];
    g.push(`${cell.policy}${cell.claimed ? "*" : ""}`);
    groups.set(key, g);
  }
  for (const [key, policies] of groups) {
    const [prop, ...why] = key.split(": ");
    out.push(pc.yellow(`warning: ${prop} holds only vacuously for ${policies.join(", ")}: ${why.join(": ")}`));
  }
  const seen = new Set<string>();
  for (const { cell } of rows) {
    if (cell.verdict !== "holds") continue; // a violation needs no witness
    for (const m of cell.coverage?.missing ?? []) {
      const line = `warning: ${cell.policy}: ${m}`;
      if (seen.has(line)) continue;
      seen.add(line);
      out.push(pc.yellow(line));
    }
  }
  return out.length > 0 ? ["", ...out] : [];
}

/** The --coverage table of one engine: per policy, events, handlers, shortages and each property's antecedent. */
export function renderCoverage(rows: readonly Row[], engine: Engine): string[] {
  const lines = [`Coverage (${engine} engine): what the search exercised`];
  const policies = [...new Set(rows.map((r) => r.cell.policy))];
  for (const policy of policies) {
    const mine = rows.filter((r) => r.cell.policy === policy && r.cell.coverage !== null);
    if (mine.length === 0) continue;
    // The random engine runs each cell on its own; the widest run shows the most (they share one seed).
    const widest = mine.reduce((a, b) => ((b.cell.coverage as Coverage).transitions > (a.cell.coverage as Coverage).transitions ? b : a));
    const c = widest.cell.coverage as Coverage;
    lines.push("");
    lines.push(`${policy}: ${fmt(c.transitions)} ${engine === "exhaustive" ? "transitions" : "steps"}${engine === "random" ? ` (cell ${widest.cell.property})` : ""}; ${c.bootFreeFrames} of ${c.frames} frames free after boot`);
    lines.push(`  ${"event".padEnd(16)}${"applied".padStart(11)}${"no-op".padStart(11)}  why`);
    for (const [tag, ev] of Object.entries(c.events)) {
      const noop = Object.values(ev.noop).reduce((a, b) => a + b, 0);
      const why = Object.entries(ev.noop).map(([r, n]) => `${r} (${fmt(n)})`).join("; ");
      lines.push(`  ${tag.padEnd(16)}${fmt(ev.applied).padStart(11)}${fmt(noop).padStart(11)}  ${why}`.trimEnd());
    }
    for (const [name, h] of Object.entries(c.handlers)) {
      if (h.runs === 0) {
        lines.push(`  ${`${name} handler`.padEnd(16)} never ran`);
        continue;
      }
      const phases = Object.entries(h.phases).map(([ph, n]) => `${ph}: ${fmt(n)}`).join(", ");
      lines.push(`  ${`${name} handler`.padEnd(16)} ran ${fmt(h.runs)} (from phase ${phases}): returned ${fmt(h.returned)}, failed ${fmt(h.failed)}, blocked ${fmt(h.blocked)}`);
    }
    const short = Object.entries(c.shortages).map(([r, n]) => `${r} on ${fmt(n)} step${n === 1 ? "" : "s"}`).join(", ");
    if (short !== "") lines.push(`  ran out of: ${short}${c.bootShortages.length > 0 ? `; at boot: ${c.bootShortages.join(", ")}` : ""}`);
    for (const m of c.missing) lines.push(`  ${m}`);
    lines.push(`  ${"property".padEnd(22)}${"reached".padStart(11)}  cases`);
    for (const { cell } of mine) {
      const a = cell.coverage?.antecedent ?? null;
      if (a === null) {
        lines.push(`  ${cell.property.padEnd(22)}${"?".padStart(11)}  declares no antecedent`);
        continue;
      }
      const cases = Object.entries(a.cases).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${fmt(n)}`);
      const ctx = Object.entries(a.context).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${fmt(n)}`);
      const text = a.vacuous !== null && cell.verdict === "holds"
        ? `VACUOUS: ${a.vacuous}`
        : `${cases.join(", ")}${ctx.length > 0 ? `; context: ${ctx.join(", ")}` : ""}`;
      const own = cell.coverage !== null && cell.coverage.transitions !== c.transitions ? ` (in its ${fmt(cell.coverage.transitions)} steps)` : "";
      lines.push(`  ${cell.property.padEnd(22)}${fmt(a.reached).padStart(11)}  ${text}${own}`.trimEnd());
    }
  }
  return lines;
}
