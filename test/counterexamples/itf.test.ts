// `dmacheck replay FILE --itf OUT` (counterexamples/itf.ts): the trace in the
// Informal Trace Format of Apalache and Quint. The output must parse, follow
// ADR-015's grammar exactly (checked by itfProblem below, written from the
// ADR, not from our writer), and say the right things about a known
// counterexample of the corpus.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readCounterexampleFile } from "../../counterexamples/file.ts";
import { encodeItf, itfTrace, ITF_VARS, type ItfTrace } from "../../counterexamples/itf.ts";
import { replayCounterexample } from "../../checker/replay.ts";
import { findAnyPolicy } from "../../model/policies/index.ts";
import { runMain } from "../cli/in-process.ts";

const CORPUS = join(import.meta.dirname, "../../counterexamples/corpus");
const LAZY = join(CORPUS, "lazy--iotlb-coherence.json");

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "dmacheck-itf-"));
  dirs.push(d);
  return d;
}

/**
 * The first departure of `v` from an ITF expression (ADR-015 "Expressions"),
 * or null. Stricter than the ADR where dmacheck promises more: no plain JSON
 * numbers (integers are {"#bigint"} only, as Quint writes them), no null,
 * and no record field `tag` (Quint would read the record as a variant).
 */
function itfProblem(v: unknown, at: string): string | null {
  if (typeof v === "boolean" || typeof v === "string") return null;
  if (typeof v === "number") return `${at}: a plain JSON number`;
  if (v === null || typeof v !== "object") return `${at}: not an ITF expression`;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = itfProblem(v[i], `${at}[${i}]`);
      if (p !== null) return p;
    }
    return null;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.some((k) => k.startsWith("#"))) {
    if (keys.length !== 1) return `${at}: a #-form with other keys`;
    const k = keys[0], x = o[k];
    if (k === "#bigint") return typeof x === "string" && /^-?[0-9]+$/.test(x) ? null : `${at}: bad #bigint`;
    if (k === "#tup" || k === "#set") return Array.isArray(x) ? itfProblem(x, `${at}.${k}`) : `${at}: ${k} is not an array`;
    if (k === "#map") {
      if (!Array.isArray(x)) return `${at}: #map is not an array`;
      for (let i = 0; i < x.length; i++) {
        const pair: unknown = x[i];
        if (!Array.isArray(pair) || pair.length !== 2) return `${at}.#map[${i}]: not a pair`;
        const p = itfProblem(pair[0], `${at}.#map[${i}][0]`) ?? itfProblem(pair[1], `${at}.#map[${i}][1]`);
        if (p !== null) return p;
      }
      return null;
    }
    return `${at}: unknown form ${k}`;
  }
  if (keys.includes("tag")) return `${at}: a record with a field "tag"`;
  for (const k of keys) {
    const p = itfProblem(o[k], `${at}.${k}`);
    if (p !== null) return p;
  }
  return null;
}

/** The first departure of a parsed document from an ITF trace, or null. */
function traceProblem(doc: unknown): string | null {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return "not an object";
  const t = doc as Record<string, unknown>;
  const allowed = ["#meta", "params", "vars", "states", "loop"];
  const stray = Object.keys(t).find((k) => !allowed.includes(k));
  if (stray !== undefined) return `unknown trace field ${stray}`;
  if (typeof t["#meta"] !== "object" || t["#meta"] === null) return "#meta is not an object";
  if (!Array.isArray(t.vars) || !t.vars.every((x) => typeof x === "string")) return "vars is not an array of strings";
  if (!Array.isArray(t.states) || t.states.length === 0) return "states is not a non-empty array";
  const vars = t.vars as string[];
  for (let i = 0; i < t.states.length; i++) {
    const s = t.states[i] as Record<string, unknown>;
    if (s === null || typeof s !== "object" || Array.isArray(s)) return `states[${i}]: not an object`;
    const meta = s["#meta"] as { index?: unknown } | undefined;
    if (meta?.index !== i) return `states[${i}].#meta.index is not ${i}`;
    for (const v of vars) if (!(v in s)) return `states[${i}]: no value for var ${v}`;
    for (const k of Object.keys(s)) {
      if (k === "#meta") continue;
      if (!vars.includes(k)) return `states[${i}]: ${k} is not in vars`;
      const p = itfProblem(s[k], `states[${i}].${k}`);
      if (p !== null) return p;
    }
  }
  return null;
}

function traceOf(file: string): ItfTrace {
  const read = readCounterexampleFile(file);
  if (!read.ok) throw new Error(read.error);
  const policy = findAnyPolicy(read.value.policy)!;
  return itfTrace(read.value, policy, replayCounterexample(read.value, policy), file);
}

type Rec = Record<string, unknown>;
const big = (n: number) => ({ "#bigint": String(n) });
/** The value at key `k` of an ITF map. */
function at(m: unknown, k: unknown): unknown {
  const pair = (m as { "#map": [unknown, unknown][] })["#map"].find(([key]) => JSON.stringify(key) === JSON.stringify(k));
  return pair?.[1];
}

describe("replay --itf", () => {
  it("known answer: lazy x iotlb-coherence from the corpus", () => {
    const doc = JSON.parse(encodeItf(traceOf(LAZY))) as { "#meta": Rec; vars: string[]; states: Rec[] };
    expect(traceProblem(doc)).toBeNull();
    expect(doc.vars).toEqual([...ITF_VARS]);
    expect(doc["#meta"]).toMatchObject({ format: "ITF", policy: "lazy", property: "iotlb-coherence", reproduced: true, violation: { step: 4 } });
    const s = doc.states;
    expect(s).toHaveLength(5); // the booted machine, then one state per event
    expect(s.map((x) => x.step)).toEqual([0, 1, 2, 3, 4].map(big));
    expect(s[0].event).toEqual({ t: "init" });
    expect(s[1].event).toEqual({ t: "map", cpu: big(0), dev: big(0), src: "kmalloc", size: big(1), dir: "to-device" });
    expect(s[3].event).toEqual({ t: "unmap", cpu: big(0), k: big(0), free: false });
    // Step 1: the buffer is a kmalloc object of the driver in slab frame 6, mapped at IOVA 0x207000 (the window's top: IOVAs are allocated top-down).
    expect(at(s[1].frames, big(6))).toEqual({ role: "slab", owners: { "#set": ["driver of dev0"] }, pins: big(0) });
    expect(at(s[1].mappings, big(0))).toEqual({
      status: "mapped", kind: "dma_map_single", dir: "to-device", dev: big(0), address: big(0x207000), pages: big(1),
      segments: [{ frame: big(6), offset: big(0), len: big(1), bounce: big(-1) }],
    });
    expect(s[1].iotlb).toEqual({ "#map": [] });
    // Step 2: the device's read through a page walk fills the IOTLB.
    const entry = { frame: big(6), read: true, write: false };
    expect(at(s[2].iotlb, { "#tup": [big(0), big(0x207000)] })).toEqual(entry);
    // The walk also filled the directory cache: the root's entry (level 3) and the level-2 one, covering IOVA 2..4 MiB.
    expect(s[2].pdec).toEqual({ "#map": [
      [{ "#tup": [big(0), big(2), big(0x200000)] }, { frame: big(8), nextLevel: big(1), read: true, write: true }],
      [{ "#tup": [big(0), big(3), big(0)] }, { frame: big(7), nextLevel: big(2), read: true, write: true }],
    ] });
    // Step 3: the unmap has returned (no mapping), yet lazy has not flushed: the entry stays.
    expect(s[3].mappings).toEqual({ "#map": [] });
    expect(at(s[3].iotlb, { "#tup": [big(0), big(0x207000)] })).toEqual(entry);
    // The violation is at the last state only.
    for (const x of s.slice(0, 4)) expect(x.violation).toEqual([]);
    expect(s[4].violation).toEqual([{
      property: "iotlb-coherence", step: big(4),
      message: expect.stringContaining("device 0 read frame 6 through a stale IOTLB entry for IOVA 0x207000") as unknown,
    }]);
    expect(s.every((x) => x.noop === "")).toBe(true);
    expect(s[0].atc).toEqual({ "#map": [] });
  });

  it("known answer: fns-never-pde x pt-page-safety, a cached directory entry outliving its table", () => {
    const doc = JSON.parse(encodeItf(traceOf(join(CORPUS, "fns-never-pde--pt-page-safety.json")))) as { states: Rec[] };
    const last = doc.states[doc.states.length - 1];
    // The root's entry (level 3, IOVA 0..1 GiB), cached by a walk that found no level-1 table for the accessed page.
    const entry = at(last.pdec, { "#tup": [big(0), big(3), big(0)] }) as Rec;
    expect(entry).toMatchObject({ nextLevel: big(2) });
    // The table frame the cached entry points at is free now.
    expect(at(last.frames, entry.frame)).toMatchObject({ role: "free" });
    expect((last.violation as Rec[])[0]).toMatchObject({ property: "pt-page-safety" });
  });

  it("every corpus counterexample gives a well-formed ITF trace ending in its violation", () => {
    const files = readdirSync(CORPUS).filter((f) => f.endsWith(".json"));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const t = traceOf(join(CORPUS, f));
      const doc = JSON.parse(encodeItf(t)) as { states: Rec[] };
      expect(traceProblem(doc), f).toBeNull();
      const last = doc.states[doc.states.length - 1].violation as Rec[];
      expect(last, f).toHaveLength(1);
    }
  });

  it("is deterministic, and the CLI writes the same bytes; stdout is the usual step table", async () => {
    const d = tmp();
    const out = join(d, "lazy.itf.json");
    const r = await runMain(["replay", LAZY, "--itf", out]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("reproduced: yes");
    expect(readFileSync(out, "utf8")).toBe(encodeItf(traceOf(LAZY)));
    expect(encodeItf(traceOf(LAZY))).toBe(encodeItf(traceOf(LAZY)));
  });

  it("an unwritable OUT is one line naming it, exit 2", async () => {
    const out = join(tmp(), "no-such-dir", "x.itf.json");
    const r = await runMain(["replay", LAZY, "--itf", out]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(`--itf ${out}: cannot write`);
  });
});
