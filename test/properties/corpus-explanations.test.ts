/**
 * Every counterexample of the corpus (counterexamples/corpus/*.json), replayed
 * with its property only, ends with exactly the explanation it records: the
 * property's message (which device, frame, IOVA, source, what the frame is)
 * plus the frame's history. test/corpus/ checks only the property and the
 * step; this pins the wording and every value in it, so that a property
 * naming the wrong frame, source or role fails here (issue 15 part 7:
 * Stryker's message mutants of properties/). `npm run corpus` rewrites both
 * sides when a message changes on purpose.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { replayCounterexample } from "../../checker/replay.ts";
import { type Counterexample } from "../../counterexamples/schema.ts";

const dir = new URL("../../counterexamples/corpus/", import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();

describe("corpus counterexamples replay with their recorded explanation", () => {
  it("the corpus is there", () => {
    expect(files.length).toBeGreaterThan(50);
  });
  for (const f of files) {
    it(f, () => {
      const cx = JSON.parse(readFileSync(new URL(f, dir), "utf8")) as Counterexample;
      const r = replayCounterexample(cx);
      expect(r.mismatch).toBeNull();
      expect(r.trace.violation?.property).toBe(cx.property);
      expect(r.trace.explanation).toBe(cx.violation.explanation);
    });
  }
});
