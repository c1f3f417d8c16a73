// dmacheck used from outside (issue 17): `npm pack`, install the tarball in
// an empty folder, and use it as a user would: `npx dmacheck` runs the
// compiled CLI; a TypeScript file importing the package type-checks against
// its declarations; a policy module importing only from "dmacheck" runs with
// --policy-module, is type-checked first (errors one line each, exit 2), and
// runs unchecked with a note when no TypeScript compiler is installed;
// dmacheck/vitest's helpers work from the package.
//
// The tarball is packed from dist/ as it is when it is current (CI's `npm ci`
// builds it through `prepare`), else after `npm run build`. Dependencies come
// from npm's cache when it has them (--prefer-offline).

import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../cli/helpers.ts";
// @ts-expect-error: a plain JavaScript module of bin/, without declarations.
import { compiledEntry } from "../../bin/compiled.js";

const dir = mkdtempSync(join(tmpdir(), "dmacheck-pack-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }), 120_000);

function run(cmd: string, args: readonly string[], cwd: string, timeout = 240_000): SpawnSyncReturns<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" };
  delete env.DMACHECK_DEBUG;
  // Not the repository's own vitest/npm context: the folder is a user's project.
  delete env.NODE_OPTIONS;
  delete env.VITEST;
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", timeout });
  if (r.error) throw r.error;
  return r;
}
const ok = (r: SpawnSyncReturns<string>) => expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);

const USE_TS = `import { makeSystem, DONE, type Policy, type Kernel } from "dmacheck";
import { expectHolds } from "dmacheck/vitest";

export const done: number = DONE;
export function build(p: Policy) { return makeSystem; }
export const mapped = (k: Kernel, m: number): number => k.dev(m);
export const check: typeof expectHolds = expectHolds;
`;

// A user's strict policy: map an IOVA range; unmap clears, invalidates with
// PDE, waits, then frees (as test/fixtures/my-strict.ts, but importing only
// from "dmacheck").
const POLICY_TS = `import { DONE, FAIL, type Kernel, type Policy } from "dmacheck";

const policy: Policy = {
  name: "outside-strict",
  summary: "a user's strict policy, from the installed package",
  claims: ["page-confinement", "iotlb-coherence"],
  attach: () => "translate",
  map(k: Kernel, m: number): number {
    const iova = k.allocIova(k.dev(m), k.pages(m));
    if (iova < 0) return FAIL;
    k.setIova(m, iova);
    return k.mapSegments(m) ? DONE : FAIL;
  },
  unmap(k: Kernel, m: number, phase: number): number {
    const dev = k.dev(m);
    if (phase === 0) {
      if (k.cmdSpace() < 2) return 0;
      k.unmapPages(dev, k.iova(m), k.pages(m));
      k.invalidatePages(dev, k.iova(m), k.pages(m), true);
      k.completionWait();
      return 1;
    }
    if (!k.completionDone()) return 1;
    k.freeDetachedTables();
    k.freeIova(dev, k.iova(m), k.pages(m));
    return DONE;
  },
};
export default policy;
`;

const BAD_TS = `import { DONE, type Policy } from "dmacheck";

const policy: Policy = {
  name: "bad",
  summary: 7,
  claims: ["page-confinement"],
  attach: () => "translate",
  map: () => DONE,
  unmap: () => "done",
};
export default policy;
`;

/** The complete example policy of docs/policies.md, which imports from "dmacheck". */
function docsExample(): string {
  const text = readFileSync(join(REPO, "docs", "policies.md"), "utf8");
  const m = /```ts\n(\/\*\*\n \* strict-leaf-only:[\s\S]*?)```/.exec(text);
  expect(m, "docs/policies.md: the strict-leaf-only example").not.toBeNull();
  expect(m![1]).toContain(`from "dmacheck"`);
  return m![1];
}

const SMALL = ["--engine", "random", "--runs", "30", "--workers", "1", "--no-timing"];

/** The installed command, as npx runs it (node_modules/.bin/dmacheck), without npx's own start-up. */
const dmacheck = (project: string, args: readonly string[]) => run(join(project, "node_modules", ".bin", "dmacheck"), args, project);

describe("the packed package, installed in an empty folder", () => {
  const project = join(dir, "project");

  beforeAll(() => {
    if (compiledEntry("cli/main.js") === null) ok(run(process.execPath, ["bin/build.js"], REPO));
    ok(run("npm", ["pack", "--ignore-scripts", "--pack-destination", dir], REPO));
    const tgz = readdirSync(dir).find((f) => /^dmacheck-.*\.tgz$/.test(f));
    expect(tgz).toBeDefined();
    rmSync(project, { recursive: true, force: true });
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "user-project", private: true, type: "module" }, null, 2));
    writeFileSync(join(project, "tsconfig.json"), JSON.stringify({
      compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: true },
      files: ["use.ts", "wrong.ts", "strict-leaf-only.ts"],
    }, null, 2));
    writeFileSync(join(project, "use.ts"), USE_TS);
    writeFileSync(join(project, "strict-leaf-only.ts"), docsExample());
    writeFileSync(join(project, "wrong.ts"), `import { DONE } from "dmacheck";\nexport const s: string = DONE;\n`);
    writeFileSync(join(project, "policy.ts"), POLICY_TS);
    writeFileSync(join(project, "bad-policy.ts"), BAD_TS);
    // The compiler the user has installed: the version this repository builds with.
    const typescript = `typescript@${JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).devDependencies.typescript}`;
    ok(run("npm", ["install", "--prefer-offline", "--no-package-lock", join(dir, tgz!), typescript], project));
  }, 600_000);

  it("ships dist/ and no TypeScript sources", () => {
    const files = readdirSync(join(project, "node_modules", "dmacheck"));
    expect(files.sort()).toEqual(["README.md", "bin", "dist", "docs", "package.json"]);
  });

  it("npx dmacheck check runs the compiled CLI", () => {
    const r = run("npx", ["dmacheck", "check", ...SMALL, "--policy", "strict", "--property", "page-confinement", "--out", join(dir, "out")], project);
    ok(r);
    expect(r.stdout).toMatch(/^strict\s+holds\*/m);
    expect(r.stderr).toBe("");
  });

  it("a TypeScript file importing { makeSystem, DONE, type Policy, type Kernel } from \"dmacheck\" type-checks, and so does docs/policies.md's example", () => {
    // One compiler run over use.ts, docs/policies.md's example module and
    // wrong.ts: the only error is the wrong type in wrong.ts, so the others
    // type-check and the check is real.
    const r = run(process.execPath, [join("node_modules", "typescript", "bin", "tsc"), "-p", "."], project);
    expect(r.stdout.trimEnd().split("\n")).toEqual([expect.stringMatching(/^wrong\.ts\(2,14\): error TS2322: Type 'number' is not assignable to type 'string'\.$/)]);
    expect(r.status).not.toBe(0);
  });

  it("a policy module importing only from \"dmacheck\" runs with --policy-module", () => {
    const r = dmacheck(project, ["check", ...SMALL, "--policy-module", "policy.ts", "--property", "page-confinement,byte-confinement", "--out", join(dir, "out")]);
    ok(r);
    expect(r.stdout).toMatch(/^outside-strict\s+holds\*\s+violated \(\d+\)/m);
  });

  it("a policy module with type errors is refused before it runs: one line per error, exit 2", () => {
    const r = dmacheck(project, ["check", ...SMALL, "--policy-module", "bad-policy.ts", "--out", join(dir, "out")]);
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: "" });
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^dmacheck: --policy-module bad-policy\.ts:5:3: TS2322: Type 'number' is not assignable to type 'string'\.$/);
    expect(lines[1]).toMatch(/^dmacheck: --policy-module bad-policy\.ts:9:\d+: TS2322: /);
  });

  it("without a TypeScript compiler the module runs unchecked, with a note", () => {
    const ts = join(project, "node_modules", "typescript");
    renameSync(ts, `${ts}.away`);
    try {
      const r = dmacheck(project, ["check", ...SMALL, "--policy-module", "policy.ts", "--property", "page-confinement", "--out", join(dir, "out")]);
      ok(r);
      expect(r.stderr).toBe("dmacheck: note: --policy-module policy.ts runs without a type check: the typescript package is not installed\n");
      expect(r.stdout).toMatch(/^outside-strict\s+holds\*/m);
    } finally {
      renameSync(`${ts}.away`, ts);
    }
  });

  it("check --html writes the report, Chart.js inlined from the package's own dependency", () => {
    const page = join(dir, "report.html");
    const r = dmacheck(project, ["check", ...SMALL, "--policy", "strict", "--property", "byte-confinement", "--out", join(dir, "out"), "--html", page, "--skip-costs"]);
    ok(r);
    expect(r.stderr).toBe(`HTML report: ${page} (1 cell, 1 counterexample)\n`);
    const html = readFileSync(page, "utf8");
    expect(html).toContain("Chart.js v4.6.1");
    expect(html).toContain('<article class="trace" id="trace-0"');
  });

  it("dmacheck/vitest's helpers work from the package", () => {
    const script = `import { POLICIES } from "dmacheck";
import { expectHolds, expectViolates } from "dmacheck/vitest";
const strict = POLICIES.find((p) => p.name === "strict");
const cx = expectViolates(strict, "byte-confinement", { depth: 4 });
const held = expectHolds(strict, "page-confinement", { depth: 4, allowBounded: true });
console.log(JSON.stringify({ events: cx.events.length, property: cx.property, held: held[0].property }));`;
    const r = run(process.execPath, ["--input-type=module", "-e", script], project);
    ok(r);
    expect(JSON.parse(r.stdout)).toEqual({ events: 2, property: "byte-confinement", held: "page-confinement" });
  });
});
