// The HTML report (cli/report.ts, docs/report.md) in headless Chromium
// (Debian's chromium at /usr/bin/chromium, driven by playwright-core; .ci/run
// installs it): a small check writes the page with `check --html`, `report`
// rewrites it from the `check --json` document byte for byte, and the page
// loads offline with no console error, has one matrix cell per policy and
// property, and its trace viewer steps to the violating step. Screenshots
// for a person to look at go to test-output/report/ (gitignored):
//   matrix.png          the top of the page: summary and the exhaustive engine's matrix
//   trace-first.png     the lazy x iotlb-coherence trace at step 1
//   trace-violation.png the same trace stepped to its violating step, with the decoded state's changes
//   costs.png           the three cost charts (fixtures in test/fixtures/report/)
//   page.png            the whole page
// The cost fixtures are `dmacheck cost --json`, `cost --experiment
// morsel-vs-vfio --json` and `cost --experiment metadata --json` as printed.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type Page } from "playwright-core";
import { runMain } from "../cli/in-process.ts";
import { REPO } from "../cli/helpers.ts";

const CHROMIUM = "/usr/bin/chromium";
const SHOTS = join(REPO, "test-output", "report");
const FIXTURES = join(REPO, "test", "fixtures", "report");
const COSTS = ["cost.json", "morsel-vs-vfio.json", "metadata.json"].flatMap((f) => ["--cost", join(FIXTURES, f)]);
const POLICIES = ["strict", "lazy"];
const PROPERTIES = ["page-confinement", "byte-confinement", "iotlb-coherence"];
// In CI the browser must be there (.ci/run installs it); elsewhere the browser part is skipped without it.
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);

let dir = "";
let html = "";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "dmacheck-report-"));
  html = join(dir, "check.html");
  const r = await runMain([
    "check", "--policy", POLICIES.join(","), "--property", PROPERTIES.join(","), "--engine", "exhaustive", "--no-timing", "--workers", "1",
    "--out", join(dir, "out"), "--json", "--html", html, ...COSTS,
  ]);
  expect(r.stderr).toBe(`HTML report: ${html} (6 cells, 4 counterexamples)\n`);
  writeFileSync(join(dir, "result.json"), r.stdout);
}, 120_000);

afterAll(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

describe("dmacheck report", () => {
  it("writes the same page from the check --json document as check --html", async () => {
    const again = join(dir, "report.html");
    const r = await runMain(["report", join(dir, "result.json"), "--html", again, ...COSTS]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(readFileSync(again, "utf8")).toBe(readFileSync(html, "utf8"));
  });

  it("is self-contained: no external script, style or link", () => {
    const page = readFileSync(html, "utf8");
    expect(page).not.toMatch(/<script[^>]+src=|<link[^>]+href=|<img[^>]+src=/);
    // The page forbids every fetch; the browser test checks that none is attempted.
    expect(page).toContain(`content="default-src 'none';`);
    expect(page).toContain("Chart.js v4.6.1");
  });

  it("rejects bad input in one line with exit status 2", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ tool: "dmacheck", engine: "both", device: [], results: [{ engine: "random", policy: "strict" }] }));
    for (const args of [
      ["report", bad, "--html", join(dir, "x.html")],
      ["report", join(dir, "missing.json"), "--html", join(dir, "x.html")],
      ["report", join(dir, "result.json")],
      ["report", join(dir, "result.json"), "--html", join(dir, "x.html"), "--cost", bad],
      ["report", join(dir, "result.json"), "--html", join(dir, "x.html"), "--cost", join(FIXTURES, "cost.json"), "--skip-costs"],
      ["check", "--policy", "strict", "--cost", join(FIXTURES, "cost.json")],
    ]) {
      const r = await runMain(args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(r.stderr).toMatch(/^dmacheck: /);
    }
    expect((await runMain(["report", bad, "--html", join(dir, "x.html")])).stderr).toBe(`dmacheck: ${bad}: $.results[0].property: missing field\n`);
  });
});

describe.skipIf(!haveBrowser)("the page in headless Chromium", () => {
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("request", (r) => { if (!r.url().startsWith("file:")) requests.push(r.url()); });
    await page.goto(`file://${html}`);
    await page.screenshot({ path: join(SHOTS, "matrix.png") });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it("loads with no console error and no request off the file", async () => {
    await page.screenshot({ path: join(SHOTS, "page.png"), fullPage: true });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
  });

  it("has one matrix cell per policy and property", async () => {
    const tables = page.locator("table.matrix");
    expect(await tables.count()).toBe(1);
    expect(await page.locator('table.matrix[data-engine="exhaustive"] td.cell').count()).toBe(POLICIES.length * PROPERTIES.length);
    for (const p of POLICIES) {
      for (const prop of PROPERTIES) {
        expect(await page.locator(`td.cell[data-policy="${p}"][data-property="${prop}"]`).count(), `${p} x ${prop}`).toBe(1);
      }
    }
    expect(await page.locator('td.cell[data-policy="lazy"][data-property="iotlb-coherence"] .label').textContent()).toBe("violated (4)");
    expect(await page.locator('td.cell[data-policy="strict"][data-property="byte-confinement"] .label').textContent()).toBe("violated (2)");
    expect(await page.locator('td.cell[data-policy="strict"][data-property="iotlb-coherence"] .label').textContent()).toBe("holds* (all)");
  });

  it("steps through a trace to the violating step", async () => {
    // The matrix cell links to its trace.
    const link = page.locator('td.cell[data-policy="lazy"][data-property="iotlb-coherence"] a');
    const id = (await link.getAttribute("href"))!.slice(1);
    const trace = page.locator(`article#${id}`);
    await link.click();
    await trace.screenshot({ path: join(SHOTS, "trace-first.png") });
    expect(await trace.getAttribute("data-current")).toBe("1");
    const violation = Number(await trace.getAttribute("data-violation-step"));
    expect(violation).toBe(4);
    for (let i = 1; i < violation; i++) {
      expect(await trace.locator(".violation-banner").isVisible()).toBe(false);
      await trace.locator("button.next").click();
    }
    expect(await trace.getAttribute("data-current")).toBe(String(violation));
    expect(await trace.locator(".position").textContent()).toBe(`step ${violation} of ${violation}`);
    const current = trace.locator(".step.current");
    expect(await current.getAttribute("data-violation")).not.toBeNull();
    expect(await trace.locator(".violation-banner").isVisible()).toBe(true);
    expect(await trace.locator(".violation-banner").textContent()).toMatch(/^VIOLATION of iotlb-coherence: device 0 read frame \d+ through a stale IOTLB entry/);
    await trace.screenshot({ path: join(SHOTS, "trace-violation.png") });
    // The step before: the unmap queued on the flush queue, as a decoded record.
    await trace.locator("button.prev").click();
    expect(await trace.locator(".step.current table.changes").textContent()).toContain("flush-queue cpu0 dom 0");
  });

  it("draws the three cost charts", async () => {
    for (const id of ["chart-workloads", "chart-morsel-vs-vfio", "chart-metadata"]) {
      // Runs in the page (no DOM types here): the viewer keeps each Chart instance on its canvas.
      const drawn = await page.evaluate((i) => {
        const doc = (globalThis as unknown as { document: { getElementById(x: string): { chart?: unknown } | null } }).document;
        return Boolean(doc.getElementById(i)?.chart);
      }, id);
      expect(drawn, id).toBe(true);
    }
    await page.locator("#costs").screenshot({ path: join(SHOTS, "costs.png") });
    expect(errors).toEqual([]);
  });
});
