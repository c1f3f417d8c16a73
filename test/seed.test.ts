// The test run's fast-check seed (test/seed.ts, test/setup-seed.ts, docs/testing.md).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseSeed, rerunHint, SEED_VAR } from "./seed.ts";

describe("DMACHECK_SEED", () => {
  it("parses a seed, and a seed with a replay path", () => {
    expect(parseSeed("42")).toEqual({ seed: 42 });
    expect(parseSeed("-7")).toEqual({ seed: -7 });
    expect(parseSeed("949039671:0:1:0:6")).toEqual({ seed: 949039671, path: "0:1:0:6" });
    expect(parseSeed("3:12")).toEqual({ seed: 3, path: "12" });
  });

  it.each(["", "abc", "4.5", "42:", "42:a", "1:2::3", "99999999999"])("rejects %j with one line naming the variable", (bad) => {
    const r = parseSeed(bad);
    expect(typeof r).toBe("string");
    expect(r).toMatch(new RegExp(`^${SEED_VAR}=`));
    expect(r).not.toMatch(/\n/);
  });

  it("the rerun hint is a command carrying the seed, the path and the test name escaped for -t", () => {
    expect(rerunHint(5, "1:2", "test/a.test.ts", "sums (x+y) don't overflow")).toBe(
      `Rerun: ${SEED_VAR}=5:1:2 npx vitest run test/a.test.ts -t 'sums \\(x\\+y\\) don'\\''t overflow'`,
    );
    expect(rerunHint(5, null, undefined, undefined)).toBe(`Rerun: ${SEED_VAR}=5 npx vitest run`);
  });

  it("is what fast-check runs with in this process", () => {
    const spec = parseSeed(process.env[SEED_VAR] ?? "");
    expect(typeof spec).toBe("object");
    if (typeof spec === "object") expect(fc.readConfigureGlobal().seed).toBe(spec.seed);
  });

  it("a failure report names the seed and path and ends with the rerun command", () => {
    let msg = "";
    try {
      fc.assert(fc.property(fc.nat(1000), (n) => n < 900));
    } catch (e) {
      msg = String(e);
    }
    const seed = fc.readConfigureGlobal().seed;
    expect(msg).toMatch(new RegExp(`seed: ${seed}, path: "([0-9:]+)"`));
    const path = /path: "([0-9:]+)"/.exec(msg)![1];
    expect(msg).toContain(`Rerun: ${SEED_VAR}=${seed}:${path} npx vitest run test/seed.test.ts -t `);
    // Replaying that path finds the same shrunk counterexample at once.
    const again = fc.check(fc.property(fc.nat(1000), (n) => n < 900), { seed, path });
    expect(again.failed).toBe(true);
    expect(again.counterexample).toEqual([900]);
  });
});
