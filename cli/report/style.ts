/** The report's style sheet (inlined in the page). */
export const REPORT_CSS = `
:root { --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --muted: #57606a; --line: #d0d7de; --bg2: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; padding: 16px 24px 48px; max-width: 1600px; color: #1f2328; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 0 0 6px; }
nav a { margin-right: 14px; }
.muted { color: var(--muted); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.matrix-wrap { overflow-x: auto; margin-bottom: 16px; }
table.matrix { border-collapse: collapse; font-size: 12px; }
table.matrix th, table.matrix td { border: 1px solid var(--line); padding: 3px 6px; vertical-align: top; }
table.matrix thead th { background: var(--bg2); writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; font-weight: 600; }
table.matrix tbody th { text-align: left; background: var(--bg2); white-space: nowrap; }
td.cell { min-width: 92px; }
td.cell .label { font-weight: 600; white-space: nowrap; }
td.cell .effort, td.cell .cov { color: var(--muted); font-size: 11px; }
td.holds .label { color: var(--ok); }
td.vacuous .label { color: var(--warn); }
td.violated .label { color: var(--warn); }
td.violated.claimed { background: #ffebe9; }
td.violated.claimed .label { color: var(--bad); }
td.cell a { color: inherit; }
.trace { border: 1px solid var(--line); border-radius: 6px; padding: 12px; margin: 12px 0; }
.trace .violation-text { background: #ffebe9; border-left: 4px solid var(--bad); padding: 6px 8px; margin: 6px 0; }
.trace .problem { background: #fff8c5; border-left: 4px solid var(--warn); padding: 6px 8px; }
.controls { display: flex; gap: 6px; align-items: center; margin: 8px 0; }
.controls button { font: inherit; padding: 2px 10px; cursor: pointer; }
.controls .position { min-width: 110px; text-align: center; font-weight: 600; }
.trace-body { display: grid; grid-template-columns: minmax(220px, 320px) 1fr; gap: 12px; }
ol.timeline { margin: 0; padding-left: 0; list-style: none; font-size: 12px; }
ol.timeline li { padding: 2px 6px; border-radius: 4px; cursor: pointer; }
ol.timeline li.current { background: #ddf4ff; font-weight: 600; }
ol.timeline li.violating { color: var(--bad); }
.step h4 { margin: 0 0 4px; font-size: 14px; }
.step ul.notes { margin: 4px 0 8px; padding-left: 18px; font-size: 12px; }
table.changes { border-collapse: collapse; width: 100%; }
table.changes td { padding: 1px 6px; border-bottom: 1px solid #eaeef2; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; vertical-align: top; }
table.changes td.sign { width: 1.5em; font-weight: 700; }
table.changes td.kind { white-space: nowrap; color: var(--muted); }
tr.added td.sign { color: var(--ok); } tr.removed td.sign { color: var(--bad); } tr.changed td.sign { color: var(--warn); }
.violation-banner { margin-top: 8px; padding: 6px 8px; background: var(--bad); color: #fff; border-radius: 4px; font-weight: 600; }
.js .step:not(.current) { display: none; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 18px; }
.chart { border: 1px solid var(--line); border-radius: 6px; padding: 10px; }
.chart canvas { width: 100%; height: 340px; }
.chart table { font-size: 11px; border-collapse: collapse; }
.chart table td, .chart table th { border: 1px solid var(--line); padding: 1px 5px; text-align: right; }
`;
