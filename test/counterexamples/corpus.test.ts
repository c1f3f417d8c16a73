/**
 * The canonical counterexample corpus replays, covers exactly the violated
 * cells the expected verdicts (docs/properties.md) predict, and its rendered
 * vitest tests are up to date.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readCounterexampleFile } from "../../counterexamples/file.ts";
import { replayCounterexample } from "../../checker/replay.ts";
import { renderVitest } from "../../counterexamples/render.ts";
import { counterexampleFileName } from "../../counterexamples/build.ts";
import { CORPUS_DIR, RENDERED_DIR } from "../../counterexamples/corpus.ts";
import { BROKEN_POLICIES, POLICIES } from "../../model/policies/index.ts";
import { PROPERTIES } from "../../properties/index.ts";
import { EXPECTED } from "../checker/expected.ts";

const root = join(import.meta.dirname, "..", "..");
const files = readdirSync(join(root, CORPUS_DIR)).filter((f) => f.endsWith(".json")).sort();

/** Known longer cells and their lengths today (a longer trace fails). */
const LONGER: Record<string, number> = { "lazy-free-tables-at-unmap--no-leak": 24, "morsel-leaf-only-unmount--availability": 12 };

describe("counterexample corpus", () => {
  for (const f of files) {
    it(`${f} replays and reproduces its violation`, () => {
      const read = readCounterexampleFile(join(root, CORPUS_DIR, f));
      if (!read.ok) throw new Error(read.error);
      const cx = read.value;
      expect(counterexampleFileName(cx.policy, cx.property)).toBe(f);
      const r = replayCounterexample(cx);
      expect(r.mismatch).toBeNull();
      expect(r.trace.violation?.property).toBe(cx.property);
      expect(r.trace.explanation).toBe(cx.violation.explanation);
      // Short: at most 8 events, 10 for morsel policies, whose map and unmap each take one more
      // resume (population and release are steps of their own; docs/morsels.md). The 10-event
      // morsel-leaf-only-unmount traces are the shortest there are: the exhaustive engine finds
      // no shorter one on the default scope.
      // Two cells are longer: the exhaustive engine finds no shorter trace on its default scope (one mapping
      // slot), so the corpus keeps the random engine's minimised one (counterexamples/corpus.ts).
      const long = LONGER[`${cx.policy}--${cx.property}`];
      expect(cx.events.length).toBeLessThanOrEqual(long ?? (cx.policy.startsWith("morsel") ? 10 : 8));
    });
  }

  it("has one file per violated cell of the built-in policies, as the expected verdicts predict", () => {
    const builtIn = files.filter((f) => POLICIES.some((p) => f.startsWith(`${p.name}--`)));
    const expected = POLICIES.flatMap((p) =>
      PROPERTIES.filter((q) => EXPECTED[p.name][q.name] === "violated").map((q) => counterexampleFileName(p.name, q.name)));
    expect(builtIn.sort()).toEqual(expected.sort());
  });

  it("has a counterexample for every broken variant", () => {
    for (const p of BROKEN_POLICIES) expect(files.some((f) => f.startsWith(`${p.name}--`)), p.name).toBe(true);
  });

  it("rendered vitest tests in test/corpus are up to date (run `npm run corpus`)", () => {
    for (const f of files) {
      const read = readCounterexampleFile(join(root, CORPUS_DIR, f));
      if (!read.ok) throw new Error(read.error);
      const rendered = readFileSync(join(root, RENDERED_DIR, f.replace(/\.json$/, ".test.ts")), "utf8");
      expect(rendered).toBe(renderVitest(read.value, "../../index.ts"));
    }
    expect(readdirSync(join(root, RENDERED_DIR)).filter((f) => f.endsWith(".test.ts")).length).toBe(files.length);
  });
});
