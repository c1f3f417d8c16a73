/**
 * `dmacheck report RESULT.json --html FILE` and `dmacheck check --html FILE`:
 * one self-contained HTML page with the verdict matrix of both engines, a
 * step-through viewer for each counterexample (the decoded state's changes
 * at each step), and the cost charts (docs/report.md).
 */
import { writeFileSync } from "node:fs";
import { readCheckResultFile, decodeCheckResult, type CheckResult } from "./check-result.ts";
import { buildReportData } from "./report/data.ts";
import { defaultCostData, readCostFiles, type ReportCosts } from "./report/cost-data.ts";
import { renderReportPage } from "./report/page.ts";
import { chartLibrarySource } from "./report/chart-library.ts";
import { EXIT_OK, fail } from "./errors.ts";
import { type Io } from "./io.ts";

export interface HtmlFlags {
  readonly html?: string;
  /** `--cost FILE`, repeatable: `dmacheck cost --json` documents (cost-data.ts). */
  readonly cost?: string[];
  /** `--skip-costs`: no cost charts. */
  readonly skipCosts?: boolean;
}

function costsFor(doc: CheckResult, flags: HtmlFlags): ReportCosts | null {
  if (flags.skipCosts === true) {
    if (flags.cost !== undefined && flags.cost.length > 0) fail("--cost and --skip-costs cannot be used together");
    return null;
  }
  if (flags.cost !== undefined && flags.cost.length > 0) return readCostFiles(flags.cost);
  return defaultCostData(doc.results.map((r) => r.policy));
}

/** Writes the report of `doc` (read from `docPath`) to flags.html; returns a one-line summary. */
export async function writeHtmlReport(doc: CheckResult, docPath: string, flags: HtmlFlags & { html: string }): Promise<string> {
  const costs = costsFor(doc, flags);
  const data = await buildReportData(doc, docPath, costs);
  const page = renderReportPage(data, chartLibrarySource());
  try {
    writeFileSync(flags.html, page);
  } catch (e) {
    fail(`--html ${flags.html}: cannot write: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
  }
  const n = data.cells.length, t = data.traces.length;
  return `HTML report: ${flags.html} (${n} cell${n === 1 ? "" : "s"}, ${t} counterexample${t === 1 ? "" : "s"})`;
}

/** `check --html`: the document check --json prints, validated like a file so the report reads one format. */
export async function writeCheckHtml(doc: unknown, flags: HtmlFlags & { html: string }): Promise<string> {
  const r = decodeCheckResult(doc, "check");
  if (!r.ok) throw new Error(`check's own JSON does not fit its schema: ${r.error}`);
  return writeHtmlReport(r.value, ".", flags);
}

export async function runReport(file: string, flags: HtmlFlags, io: Io): Promise<number> {
  if (flags.html === undefined) fail("report needs --html FILE (where to write the page)");
  const r = readCheckResultFile(file);
  if (!r.ok) fail(r.error);
  io.out(`${await writeHtmlReport(r.value, file, { ...flags, html: flags.html })}\n`);
  return EXIT_OK;
}
