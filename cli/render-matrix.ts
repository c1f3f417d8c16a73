/** Text rendering of the check matrix. */
import pc from "picocolors";
import { match } from "ts-pattern";
import { type CellResult } from "../checker/matrix.ts";

export interface MatrixInfo {
  readonly runs: number;
  readonly seed: number;
  readonly maxEvents: number;
  readonly timing: boolean;
  readonly out: string;
}

function cellText(c: CellResult): { text: string; paint: (s: string) => string } {
  const mark = c.claimed ? "*" : "";
  return match(c)
    .with({ verdict: "holds" }, () => ({ text: `holds${mark}`, paint: pc.green }))
    .with({ verdict: "violated", claimed: true }, (v) => ({ text: `VIOLATED${mark} (${v.length})`, paint: (s: string) => pc.bold(pc.red(s)) }))
    .otherwise((v) => ({ text: `violated (${v.length})`, paint: pc.yellow }));
}

export function renderMatrix(results: readonly { cell: CellResult; file: string | null }[], info: MatrixInfo): string {
  const policies = [...new Set(results.map((r) => r.cell.policy))];
  const props = [...new Set(results.map((r) => r.cell.property))];
  const get = (p: string, q: string) => results.find((r) => r.cell.policy === p && r.cell.property === q);
  const w0 = Math.max(6, ...policies.map((p) => p.length)) + 2;
  const widths = props.map((q) => Math.max(q.length, 16) + 2);
  const lines: string[] = [];
  lines.push(`dmacheck check: random engine, seed ${info.seed}, ${info.runs} runs of up to ${info.maxEvents} events per cell`);
  lines.push("");
  lines.push("policy".padEnd(w0) + props.map((q, i) => q.padEnd(widths[i])).join("").trimEnd());
  for (const p of policies) {
    let row = p.padEnd(w0);
    props.forEach((q, i) => {
      const r = get(p, q);
      if (!r) {
        row += "-".padEnd(widths[i]);
        return;
      }
      const { text, paint } = cellText(r.cell);
      row += paint(text) + " ".repeat(Math.max(1, widths[i] - text.length));
    });
    lines.push(row.trimEnd());
  }
  lines.push("");
  lines.push(`* claimed by the policy. holds: no violation in ${info.runs} runs. violated (n): counterexample of n events.`);
  const violated = results.filter((r) => r.cell.verdict === "violated");
  if (violated.length > 0) {
    lines.push("");
    lines.push(`Counterexamples (replay with: dmacheck replay FILE):`);
    for (const { cell, file } of violated) {
      const when = info.timing ? `, found in run ${cell.runs} after ${cell.msToFind} ms (${cell.ms} ms with shrinking)` : `, found in run ${cell.runs}`;
      lines.push(`  ${cell.policy} x ${cell.property}${cell.claimed ? pc.bold(pc.red(" (CLAIMED)")) : ""}: ${cell.length} event${cell.length === 1 ? "" : "s"}${when}`);
      lines.push(`    ${file ?? ""}`);
      lines.push(`    ${cell.explanation}`);
    }
  }
  const broken = results.filter((r) => r.cell.claimed && r.cell.verdict === "violated");
  lines.push("");
  lines.push(broken.length === 0
    ? pc.green(`Every claimed property held (${results.filter((r) => r.cell.claimed).length} claimed cells).`)
    : pc.bold(pc.red(`${broken.length} claimed propert${broken.length === 1 ? "y was" : "ies were"} violated.`)));
  return lines.join("\n") + "\n";
}
