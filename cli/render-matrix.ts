/** Text rendering of the check matrix: one table per engine, then the counterexamples. */
import pc from "picocolors";
import { match } from "ts-pattern";
import { type CellResult, type Engine, type SearchSummary } from "../checker/matrix.ts";
import { type Scope } from "../checker/scope.ts";
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
  /** The random engine's machine when it is not the default one (--scope and the machine flags). */
  readonly randomMachine?: ModelConfig;
  /** Random engine: swarm testing on (the default) or off (--no-swarm). */
  readonly swarm?: boolean;
}

interface Row {
  readonly cell: CellResult;
  readonly file: string | null;
}

const fmt = (n: number) => n.toLocaleString("en-US");

function cellText(c: CellResult): { text: string; paint: (s: string) => string } {
  const mark = c.claimed ? "*" : "";
  return match(c)
    .with({ verdict: "holds", engine: "exhaustive", exhausted: true }, () => ({ text: `holds${mark} (all)`, paint: pc.green }))
    .with({ verdict: "holds", engine: "exhaustive" }, (v) => ({ text: `holds${mark} (<=${v.depth})`, paint: pc.green }))
    .with({ verdict: "holds" }, () => ({ text: `holds${mark}`, paint: pc.green }))
    .with({ verdict: "violated", claimed: true }, (v) => ({ text: `VIOLATED${mark} (${v.length})`, paint: (s: string) => pc.bold(pc.red(s)) }))
    .otherwise((v) => ({ text: `violated (${v.length})`, paint: pc.yellow }));
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
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
  return `${plural(c.frames, "frame")}, ${plural(c.cpus, "CPU")}, ${plural(c.devices, "device")}, ${plural(c.iovaPages, "IOVA page")}, ${plural(c.maxMappings, "live mapping")}`;
}

function stopText(s: SearchSummary): string {
  return match(s.stopped)
    .with("exhausted", () => `exhausted at depth ${s.depth}`)
    .with("all-violated", () => `every property violated by depth ${s.depth}`)
    .with("depth", () => `depth bound ${s.depth} reached`)
    .with("states", () => `state bound reached at depth ${s.depth}`)
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
    } else {
      lines.push("* claimed by the policy. holds (all): no violation in any execution of the scope (its space was exhausted);");
      lines.push("holds (<=k): none up to k events. violated (n): a shortest counterexample, of n events.");
      for (const s of searches) {
        const time = info.timing ? `, ${fmt(s.ms)} ms` : "";
        lines.push(`  ${s.policy}: ${fmt(s.states)} states, ${fmt(s.transitions)} transitions, ${stopText(s)}${time}`);
      }
    }
    const violated = mine.filter((r) => r.cell.verdict === "violated");
    if (violated.length > 0) {
      lines.push("");
      lines.push(`Counterexamples (replay with: dmacheck replay FILE):`);
      for (const { cell, file } of violated) {
        const when = engine === "exhaustive"
          ? `, shortest, found after ${fmt(cell.states ?? 0)} states${info.timing ? ` in ${cell.ms} ms` : ""}`
          : info.timing ? `, found in run ${cell.runs} after ${cell.msToFind} ms (${cell.ms} ms with shrinking)` : `, found in run ${cell.runs}`;
        lines.push(`  ${cell.policy} x ${cell.property}${cell.claimed ? pc.bold(pc.red(" (CLAIMED)")) : ""}: ${cell.length} event${cell.length === 1 ? "" : "s"}${when}`);
        lines.push(`    ${file ?? ""}`);
        lines.push(`    ${cell.explanation}`);
      }
    }
    lines.push("");
  }
  const broken = rows.filter((r) => r.cell.claimed && r.cell.verdict === "violated");
  lines.push(broken.length === 0
    ? pc.green(`Every claimed property held (${rows.filter((r) => r.cell.claimed).length} claimed cells).`)
    : pc.bold(pc.red(`${broken.length} claimed cell${broken.length === 1 ? " was" : "s were"} violated.`)));
  return lines.join("\n") + "\n";
}
