// A user's policy module is untrusted code (checker/policy-module.ts): a Proxy
// or a getter in its shape, and anything it throws at import or from a
// handler, is reported as that module's problem in one line with exit 2,
// never as an internal error.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runMain, type MainResult } from "./in-process.ts";
import { REPO } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "dmacheck-module-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** Writes a module whose default export is `body` (JavaScript), after `pre`. */
function mod(body: string, pre = ""): string {
  const p = join(dir, `m${n++}.mjs`);
  writeFileSync(p, `${pre}\nexport default ${body};\n`);
  return p;
}

const FIELDS = `name: "mine", summary: "s", claims: ["page-confinement"], attach: () => "translate", unmap: () => -1`;
const policy = (extra: string) => `{ ${FIELDS}, ${extra} }`;

function expectModuleError(r: MainResult, file: string, mention: string): void {
  expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: "" });
  expect(r.stderr).toMatch(/^dmacheck: [^\n]+\n$/);
  expect(r.stderr).not.toContain("internal error");
  expect(r.stderr).toContain(file);
  expect(r.stderr).toContain(mention);
}

const check = (file: string, ...more: string[]) =>
  runMain(["check", "--engine", "random", "--property", "page-confinement", "--runs", "20", "--workers", "1", "--out", join(dir, "out"), "--policy-module", file, ...more]);

describe("hostile policy modules", () => {
  it("refuses a Proxy default export, a Proxy claims array and throwing getters, without running them", async () => {
    const cases: [string, string, string][] = [
      [`new Proxy(${policy("map: () => -1")}, {})`, "", "the default export is a Proxy"],
      [`new Proxy({}, { get() { throw new Error("trap") }, getOwnPropertyDescriptor() { throw new Error("trap") }, getPrototypeOf() { throw new Error("trap") } })`, "", "the default export is a Proxy"],
      [`{ ${FIELDS.replace('claims: ["page-confinement"]', 'claims: new Proxy(["page-confinement"], {})')}, map: () => -1 }`, "", "claims: a Proxy"],
      [`{ get name() { throw new Error("getter") }, summary: "s", claims: [], attach: () => "translate", map: () => -1, unmap: () => -1 }`, "", "name: a getter or setter"],
      [`{ ${FIELDS}, get map() { throw new Error("getter") } }`, "", "map: a getter or setter"],
      [`{ ${FIELDS.replace('claims: ["page-confinement"]', "claims: c")}, map: () => -1 }`, `const c = []; Object.defineProperty(c, 0, { get() { throw new Error("x") }, enumerable: true });`, "claims[0]: a getter or a hole"],
      [`{ ${FIELDS}, map: () => -1, staleBound: { get ms() { throw new Error("x") }, unmaps: 0 } }`, "", "staleBound: a getter or a Proxy"],
      [`{ ${FIELDS}, map: () => -1, stateWords: 1e9 }`, "", "stateWords must be an integer in 0..4096"],
    ];
    for (const [body, pre, mention] of cases) {
      const file = mod(body, pre);
      expectModuleError(await check(file), file, mention);
    }
  });

  it("reports a module that throws at import", async () => {
    const file = mod("{}", `throw new Error("boom at import\\nsecond line");`);
    expectModuleError(await check(file), file, "cannot load: boom at import second line");
  });

  it("reports what a handler throws or returns wrongly as that module's, naming the handler", async () => {
    const cases: [string, string, string][] = [
      [policy(`map() { throw new Error("bad map\\nline two\\u2028three") }`), "", "policy module FILE: handler map threw: bad map line two three"],
      [policy(`map() { throw new Proxy({}, { get() { throw new Error("trap") }, getPrototypeOf() { throw new Error("trap") } }) }`), "", "handler map threw: a Proxy"],
      [policy(`map() { throw { get message() { throw new Error("x") } } }`), "", "handler map threw: a non-Error value"],
      [policy(`map() { throw Symbol("s") }`), "", "handler map threw: Symbol(s)"],
      [policy(`map() { return "x" }`), "", `handler map returned "x", expected DONE, FAIL or a phase`],
      [policy(`map() { return 1e12 }`), "", "handler map returned 1000000000000"],
      [`{ ${FIELDS.replace('attach: () => "translate"', 'attach() { throw new Error("no attach") }')}, map: () => -1 }`, "", "handler attach threw: no attach"],
      [policy(`map: () => -1, stateWords: () => 1e9`), "", "handler stateWords returned 1000000000, expected an integer in 0..4096"],
      [policy(`map: () => -1, stateWords() { throw new RangeError("Maximum call stack size exceeded") }`), "", "handler stateWords threw: Maximum call stack size exceeded"],
      [policy(`map: () => -1, held: () => 5`), "no-leak", "handler held returned 5, expected a string or null"],
    ];
    for (const [body, property, mention] of cases) {
      const file = mod(body);
      expectModuleError(await check(file, ...(property === "" ? [] : ["--property", property])), file, mention.replace("FILE", file));
    }
  });

  it("reports a throwing handler the same way from worker threads", async () => {
    const file = mod(policy(`map() { throw new Error("in a worker") }`));
    expectModuleError(await check(file, "--workers", "2", "--engine", "both"), file, `policy module ${file}: handler map threw: in a worker`);
  });

  it("reports a throwing handler when replaying a counterexample that names the module", async () => {
    const file = mod(policy(`map() { throw new Error("in replay") }`));
    const cx = JSON.parse(readFileSync(join(REPO, "counterexamples/corpus/lazy--leftover-data.json"), "utf8"));
    const cxFile = join(dir, "cx.json");
    writeFileSync(cxFile, JSON.stringify({ ...cx, policy: "mine", policyModule: file }));
    expectModuleError(await runMain(["replay", cxFile]), file, "handler map threw: in replay");
  });
});
