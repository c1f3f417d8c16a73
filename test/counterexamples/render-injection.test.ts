// `replay --vitest` prints a test meant to be pasted into a user's suite, made
// from someone else's counterexample file: nothing in the file may escape its
// string literals and run (counterexamples/render.ts). The worst cases go into
// every string of a real counterexample; the generated test is compiled,
// written to disk and run, and must replay exactly the data it was given.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import { readCounterexampleFile } from "../../counterexamples/file.ts";
import { jsString, renderVitest } from "../../counterexamples/render.ts";
import { replayCounterexample } from "../../checker/replay.ts";
import { type Counterexample } from "../../counterexamples/schema.ts";

const dir = mkdtempSync(join(tmpdir(), "dmacheck-render-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Each payload tries to end the comment, string or template it lands in and set globalThis.pwned. */
const PAYLOADS = [
  "\nglobalThis.pwned = 1;\n",
  "*/ globalThis.pwned = 2; /*",
  "\u2028globalThis.pwned = 3;\u2029globalThis.pwned = 4;",
  "`; globalThis.pwned = 5; `",
  "${globalThis.pwned = 6}",
  "\"; globalThis.pwned = 7; \"",
  "'); globalThis.pwned = 8; ('",
  "\\\"); globalThis.pwned = 9; //",
  "\r\nglobalThis.pwned = 10; // </script><!--",
];
const EVIL = PAYLOADS.join(" ");

function base(): Counterexample {
  const r = readCounterexampleFile(join(import.meta.dirname, "..", "..", "counterexamples", "corpus", "lazy--leftover-data.json"));
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

/** Runs generated test source as CommonJS with stand-ins for its imports; returns the tests it registered, run. */
function runGenerated(source: string): { names: string[]; replayed: unknown[] } {
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 }, reportDiagnostics: true });
  expect(js.diagnostics ?? []).toEqual([]);
  const file = join(dir, `generated-${Math.random().toString(36).slice(2)}.cjs`);
  writeFileSync(file, js.outputText);
  const names: string[] = [];
  const bodies: (() => void)[] = [];
  const replayed: unknown[] = [];
  const modules: Record<string, unknown> = {
    vitest: { expect, test: (name: string, body: () => void) => (names.push(name), bodies.push(body)) },
    dmacheck: { replayCounterexample: (cx: Counterexample) => (replayed.push(cx), replayCounterexample(cx)) },
  };
  const require = (id: string) => {
    if (!(id in modules)) throw new Error(`the generated test imports ${id}`);
    return modules[id];
  };
  const module = { exports: {} };
  new Function("require", "module", "exports", readFileSync(file, "utf8"))(require, module, module.exports);
  for (const b of bodies) b();
  return { names, replayed };
}

describe("replay --vitest escapes everything taken from the file", () => {
  it("jsString gives a literal that evaluates back to the string, line terminators escaped", () => {
    for (const p of [...PAYLOADS, EVIL]) {
      const lit = jsString(p);
      expect(lit).not.toMatch(/[\n\r\u2028\u2029]/);
      expect(new Function(`return ${lit};`)()).toBe(p);
    }
  });

  it("a counterexample with the worst strings everywhere renders to a test that runs nothing of them", () => {
    delete (globalThis as { pwned?: unknown }).pwned;
    const cx0 = base();
    const cx: Counterexample = {
      ...cx0,
      policyModule: null,
      violation: { ...cx0.violation, explanation: EVIL },
      found: { ...cx0.found, path: EVIL },
    };
    const source = renderVitest(cx);
    // Nothing from the file inside a comment, and no raw line terminator anywhere but real line ends.
    for (const line of source.split("\n")) if (line.startsWith("//")) expect(line).not.toContain("pwned");
    expect(source).not.toMatch(/[\r\u2028\u2029]/);
    const { names, replayed } = runGenerated(source);
    expect((globalThis as { pwned?: unknown }).pwned).toBeUndefined();
    expect(names).toEqual([`lazy violates leftover-data at step ${cx.violation.step + 1}`]);
    // The test replayed exactly the counterexample it was made from, every string intact.
    expect(replayed).toEqual([JSON.parse(JSON.stringify(cx))]);
  });

  it("escapes the worst strings in the test's name too (the policy name comes from the file)", () => {
    delete (globalThis as { pwned?: unknown }).pwned;
    const cx: Counterexample = { ...base(), policy: EVIL };
    // Not replayable (no such policy), so only compile and register it: nothing may run at load time.
    const source = renderVitest(cx);
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
    const names: string[] = [];
    const require = (id: string) => (id === "vitest" ? { expect, test: (name: string) => names.push(name) } : { replayCounterexample: () => null });
    new Function("require", "module", "exports", js.outputText)(require, { exports: {} }, {});
    expect((globalThis as { pwned?: unknown }).pwned).toBeUndefined();
    expect(names).toEqual([`${EVIL} violates leftover-data at step ${cx.violation.step + 1}`]);
  });
});
