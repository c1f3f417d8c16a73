/**
 * The report as one self-contained HTML page: the matrix and every trace are
 * rendered here as static HTML (readable without the script), the inlined
 * script steps through traces and draws the cost charts with the inlined
 * Chart.js. A Content-Security-Policy forbids every fetch, so the page
 * works offline and cannot leak. Same data, same bytes.
 */
import { type ReportCell, type ReportData, type ReportTrace } from "./data.ts";
import { REPORT_CSS } from "./style.ts";
import { VIEWER_SCRIPT } from "./viewer-script.ts";

/** Text as HTML (element content and double-quoted attribute values). */
export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** JSON inside <script type="application/json">: no "<" at all, so nothing can end the element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, "\\u003c");
}

function cellClass(c: ReportCell): string {
  return ["cell", c.verdict, c.claimed ? "claimed" : "", c.vacuous ? "vacuous" : ""].filter((x) => x !== "").join(" ");
}

function matrix(d: ReportData, engine: "random" | "exhaustive"): string {
  const cells = new Map(d.cells.filter((c) => c.engine === engine).map((c) => [`${c.policy}\u0000${c.property}`, c]));
  const head = `<tr><th>policy</th>${d.properties.map((p) => `<th scope="col">${esc(p)}</th>`).join("")}</tr>`;
  const body = d.policies.map((p) => {
    const tds = d.properties.map((prop) => {
      const c = cells.get(`${p}\u0000${prop}`);
      if (c === undefined) return `<td class="cell none" data-policy="${esc(p)}" data-property="${esc(prop)}">-</td>`;
      const title = [c.explanation, c.coverage].filter((x) => x !== null).join("\n");
      const label = c.trace === null ? esc(c.label) : `<a href="#trace-${c.trace}">${esc(c.label)}</a>`;
      return `<td class="${cellClass(c)}" data-policy="${esc(p)}" data-property="${esc(prop)}"${title === "" ? "" : ` title="${esc(title)}"`}>`
        + `<div class="label">${label}</div><div class="effort">${esc(c.effort)}</div>${c.reached === null ? "" : `<div class="cov">antecedent reached ${esc(c.reached)}</div>`}</td>`;
    });
    return `<tr><th scope="row">${esc(p)}</th>${tds.join("")}</tr>`;
  });
  return `<h3>${engine === "random" ? "Random engine" : "Exhaustive engine"}</h3>`
    + `<div class="matrix-wrap"><table class="matrix" data-engine="${engine}"><thead>${head}</thead><tbody>${body.join("")}</tbody></table></div>`;
}

function trace(t: ReportTrace, i: number): string {
  const title = `${esc(t.policy)} &times; ${esc(t.property)} <span class="muted">(${esc(t.engine)} engine, ${t.steps.length} step${t.steps.length === 1 ? "" : "s"})</span>`;
  const head = `<h3>${title}</h3><div class="violation-text"><strong>Violation${t.violationStep === null ? "" : ` at step ${t.violationStep}`}:</strong> ${esc(t.explanation)}</div>`
    + `<div class="muted mono">${esc(t.file)}</div>${t.problem === null ? "" : `<div class="problem">${esc(t.problem)}</div>`}`;
  if (t.steps.length === 0) return `<article class="trace" id="trace-${i}">${head}</article>`;
  const controls = `<div class="controls"><button class="first" type="button">first</button><button class="prev" type="button">&larr; previous</button>`
    + `<span class="position">step 1 of ${t.steps.length}</span><button class="next" type="button">next &rarr;</button>`
    + `<button class="violation" type="button">violating step</button></div>`;
  const timeline = `<ol class="timeline">${t.steps.map((s) => `<li data-step="${s.step}"${s.step === t.violationStep ? ' class="violating"' : ""}>${s.step}. ${esc(s.text)}</li>`).join("")}</ol>`;
  const steps = t.steps.map((s) => {
    const notes = s.notes.length === 0 && s.noop === null ? "" : `<ul class="notes">${s.noop === null ? "" : `<li>no-op: ${esc(s.noop)}</li>`}${s.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>`;
    const rows = s.changes.map((c) => `<tr class="${c.sign === "+" ? "added" : c.sign === "-" ? "removed" : "changed"}"><td class="sign">${esc(c.sign)}</td><td>${esc(c.text)}</td></tr>`);
    const changes = rows.length === 0 ? `<p class="muted">No change to the decoded state.</p>` : `<table class="changes">${rows.join("")}</table>`;
    const banner = s.step === t.violationStep ? `<div class="violation-banner">VIOLATION of ${esc(t.property)}: ${esc(t.explanation)}</div>` : "";
    return `<div class="step" data-step="${s.step}"${s.step === t.violationStep ? " data-violation" : ""}><h4>Step ${s.step}: ${esc(s.text)}</h4>${notes}`
      + `<div class="muted">What the step changed in the decoded state (${s.changes.length} record${s.changes.length === 1 ? "" : "s"}):</div>${changes}${banner}</div>`;
  });
  return `<article class="trace" id="trace-${i}" tabindex="0" data-violation-step="${t.violationStep ?? t.steps.length}">${head}${controls}`
    + `<div class="trace-body">${timeline}<div class="steps">${steps.join("")}</div></div></article>`;
}

function numbers(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return `<details><summary>numbers</summary><table><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>`
    + rows.map((r) => `<tr>${r.map((v) => `<td>${esc(String(v))}</td>`).join("")}</tr>`).join("") + `</table></details>`;
}

function costs(d: ReportData): string {
  const c = d.costs;
  if (c === null) return `<p class="muted">No cost tables (--no-cost).</p>`;
  const out: string[] = [`<p class="muted">Estimates: model counters &times; a cost table; ${esc(c.source)}. See docs/costs.md.</p><div class="charts">`];
  if (c.workloads !== null) {
    out.push(`<div class="chart"><h3>Policies per workload: estimated ns per I/O</h3><div style="height:340px"><canvas id="chart-workloads"></canvas></div>`
      + numbers(["workload", "policy", "ns per I/O", "vs passthrough"], c.workloads.map((r) => [r.workload, r.policy, r.nsPerIo, r.vsPassthrough ?? "-"])) + `</div>`);
  }
  if (c.morselVsVfio !== null) {
    out.push(`<div class="chart"><h3>morsel vs vfio: map and unmap cost by buffer size</h3><div style="height:340px"><canvas id="chart-morsel-vs-vfio"></canvas></div>`
      + `<p class="muted">Dashed: unmap. Small points: sizes beyond the model, extrapolated (docs/morsels.md).</p>`
      + numbers(["policy", "op", "bytes", "ns", "measured"], c.morselVsVfio.map((r) => [r.policy, r.op, r.bytes, r.nsEstimate, r.measured ? "yes" : "no"])) + `</div>`);
  }
  if (c.metadata !== null) {
    out.push(`<div class="chart"><h3>struct page metadata per backing scheme</h3><div style="height:340px"><canvas id="chart-metadata"></canvas></div>`
      + numbers(["scheme", "host bytes", "metadata bytes", "%"], c.metadata.map((r) => [r.scheme, r.hostBytes, r.metadataBytes, r.percent])) + `</div>`);
  }
  out.push(`</div>`);
  return out.join("");
}

export function renderReportPage(d: ReportData, chartLibrary: string): string {
  const violated = d.claimedViolations === 0 ? "no claimed property violated" : `${d.claimedViolations} claimed propert${d.claimedViolations === 1 ? "y" : "ies"} violated`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(d.title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header>
<h1>${esc(d.title)}</h1>
<p>${esc(violated)}; devices: ${esc(d.device.join(", "))}.</p>
<ul class="muted">${[...d.runs, ...d.searches].map((r) => `<li>${esc(r)}</li>`).join("")}</ul>
<nav><a href="#matrix">Verdict matrix</a><a href="#counterexamples">Counterexamples (${d.traces.length})</a><a href="#costs">Costs</a></nav>
</header>
<section id="matrix">
<h2>Verdict matrix</h2>
<p class="muted">* claimed by the policy. holds (all): no violation in any execution of the scope; holds (&lt;=k): none up to k events; holds (vacuous): the property's antecedent was never reached; VIOLATED / violated (n): a counterexample of n events (click it); (n, race): found by the race pass, in the race scope searched after the main one (docs/exhaustive.md). Under each verdict: the search's effort and exhaustion, then the antecedent and how often it was reached (docs/coverage.md).</p>
${d.engines.map((e) => matrix(d, e)).join("\n")}
</section>
<section id="counterexamples">
<h2>Counterexamples</h2>
${d.traces.length === 0 ? `<p class="muted">None.</p>` : d.traces.map(trace).join("\n")}
</section>
<section id="costs">
<h2>Costs</h2>
${costs(d)}
</section>
<script type="application/json" id="report-data">${scriptJson({ costs: d.costs })}</script>
<script>${chartLibrary}</script>
<script>${VIEWER_SCRIPT}</script>
</body>
</html>
`;
}
