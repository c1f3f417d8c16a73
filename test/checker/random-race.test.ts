/**
 * The random engine's race pass (checker/matrix.ts checkPolicyRandom with
 * `race`): the runs the main machine left holding are made again on the race
 * scope's machine (2 CPUs, 2 live mappings, 10 frames), where frames are
 * scarce enough for a map to fail part-way. An error path that undoes its
 * entries without invalidating, missed on the 32-frame machine, is caught
 * there (pt-page-safety, 4 events with seed 42), with a counterexample that
 * carries the race machine and replays.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../model/config.ts";
import { strict } from "../../model/policies/strict.ts";
import { PROPERTIES, findProperty } from "../../properties/index.ts";
import { checkPolicyRandom, type MatrixOptions } from "../../checker/matrix.ts";
import { loadPolicyModule } from "../../checker/policy-module.ts";
import { replayCounterexample } from "../../checker/replay.ts";
import { DEFAULT_SCOPE } from "../../checker/scope.ts";
import { REPO } from "../cli/helpers.ts";
import { join } from "node:path";

const base: MatrixOptions = { config: DEFAULT_CONFIG, runs: 10_000, seed: 42, maxEvents: 24, timing: false };
const race = { base: DEFAULT_SCOPE.config };

describe("the random engine's race pass", () => {
  it("catches an undo without invalidation that the main machine misses, on the race machine", async () => {
    const loaded = await loadPolicyModule(join(REPO, "test", "fixtures", "outside", "out-undo-no-invalidate.ts"));
    if (!loaded.ok) throw new Error(loaded.error);
    const entry = { policy: loaded.policy, module: null };
    const props = [findProperty("pt-page-safety")!, findProperty("page-confinement")!];
    const main = checkPolicyRandom(entry, props, base);
    expect(main.map((c) => c.verdict)).toEqual(["holds", "holds"]);
    const withRace = checkPolicyRandom(entry, props, { ...base, race });
    const cell = withRace[0];
    expect(cell.verdict).toBe("violated");
    expect(cell.pass).toBe("race");
    expect(cell.length).toBe(4);
    const cx = cell.counterexample!;
    expect([cx.config.cpus, cx.config.frames, cx.config.maxMappings]).toEqual([2, 10, 2]);
    const replay = replayCounterexample(cx, loaded.policy);
    expect(replay.reproduced).toBe(true);
  }, 120_000);

  it("leaves the cells of the main runs as they were, and does nothing without race", () => {
    const entry = { policy: strict, module: null };
    const opts = { ...base, runs: 300 };
    const plain = checkPolicyRandom(entry, PROPERTIES, opts);
    const raced = checkPolicyRandom(entry, PROPERTIES, { ...opts, race });
    raced.forEach((c, i) => {
      if (c.pass !== "race") expect(JSON.stringify(c)).toBe(JSON.stringify(plain[i]));
      else expect(plain[i].verdict).toBe("holds");
    });
    expect(plain.every((c) => c.pass === null)).toBe(true);
  }, 120_000);
});
