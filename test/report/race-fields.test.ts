/**
 * The HTML report shows what the race pass found: a cell it violated reads
 * "(n, race)" as in the text matrix, and each search line gives the race
 * scope's machine and how far it was searched.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runMain } from "../cli/in-process.ts";
import { cellLabel } from "../../cli/report/data.ts";

const dir = mkdtempSync(join(tmpdir(), "dmacheck-report-race-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the report and the race pass", () => {
  it("marks a cell the race pass violated and describes the race search", async () => {
    // passthrough x dma-integrity holds in the default scope (one mapping) and is violated in 2 events in the race scope.
    const r = await runMain([
      "check", "--policy", "passthrough", "--property", "dma-integrity", "--engine", "exhaustive", "--no-timing", "--workers", "1",
      "--race-states", "2000", "--out", join(dir, "out"), "--json",
    ]);
    expect(r.status).toBe(0); // an unclaimed cell: no claimed violation
    const doc = JSON.parse(r.stdout) as { results: { pass: string | null }[] };
    expect(doc.results[0].pass).toBe("race");
    const json = join(dir, "result.json");
    writeFileSync(json, r.stdout);
    const html = join(dir, "report.html");
    const rep = await runMain(["report", json, "--html", html, "--skip-costs"]);
    expect(rep.status, rep.stderr).toBe(0);
    const page = readFileSync(html, "utf8");
    expect(page).toContain("violated (2, race)");
    expect(page).toMatch(/passthrough: [\d,]+ states, [\d,]+ transitions, [^;<]+; race scope \(2 CPUs, 1 device, 10 frames, 2 live mappings\): [\d,]+ states, /);
  }, 60_000);

  it("describes each search of the race pass, the device race scope after the race scope", async () => {
    const r = await runMain([
      "check", "--policy", "strict", "--property", "pt-page-safety", "--engine", "exhaustive", "--no-timing", "--workers", "1",
      "--race-states", "300", "--out", join(dir, "out2"), "--json",
    ]);
    expect(r.status, r.stderr).toBe(0);
    const json = join(dir, "result2.json");
    writeFileSync(json, r.stdout);
    const html = join(dir, "report2.html");
    const rep = await runMain(["report", json, "--html", html, "--skip-costs"]);
    expect(rep.status, rep.stderr).toBe(0);
    expect(readFileSync(html, "utf8")).toMatch(
      /; race scope \(2 CPUs, 1 device, 10 frames, 2 live mappings\): 300 states, state bound, depth \d+ fully checked; device race scope \(1 CPU, 2 devices, 10 frames, 2 live mappings\): 300 states, /,
    );
  }, 60_000);

  it("labels a main-pass or pre-race-pass row without the mark", () => {
    const row = {
      engine: "exhaustive", policy: "strict", property: "page-confinement", claimed: true, verdict: "violated", runs: null, states: 7, depth: 2,
      exhausted: false, bound: null, counterexample: null, length: 2, ms: 0, explanation: null, vacuous: false, coverage: null,
    } as const;
    expect(cellLabel(row)).toBe("VIOLATED* (2)");
    expect(cellLabel({ ...row, pass: "main" })).toBe("VIOLATED* (2)");
    expect(cellLabel({ ...row, pass: "race" })).toBe("VIOLATED* (2, race)");
  });
});
