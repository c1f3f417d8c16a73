/**
 * Reading and writing counterexample files (format: schema.ts).
 *
 * Every failure is ONE line that names the file and the JSON path of the first
 * problem, e.g. `bad.json: $.events[2].cpu: expected a non-negative integer, got "x"`,
 * so that it reads well on a terminal and in CI logs.
 */
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { Result, Schema } from "effect";
import { configProblem } from "../model/config.ts";
import { MAX_FILE_EVENTS } from "../checker/limits.ts";
import { CounterexampleSchema, type Counterexample } from "./schema.ts";
import { decodeJson, firstProblem, fsReason, jsonPath, readJsonFile, type DecodeResult } from "./decode-json.ts";

export type Decoded = DecodeResult<Counterexample>;

export function decodeCounterexample(json: unknown, source: string): Decoded {
  const r = decodeJson(CounterexampleSchema, json, source);
  if (!r.ok) return r;
  const cx = r.value;
  // The schema only knows "integer"; the usable ranges live in configProblem.
  const bad = configProblem(cx.config);
  if (bad !== null) return { ok: false, error: `${source}: $.config: ${bad}` };
  const sw = cx.found.swarm;
  if (sw !== undefined && (sw.cpus > cx.config.cpus || sw.devices > cx.config.devices))
    return { ok: false, error: `${source}: $.found.swarm: uses ${sw.cpus} CPU(s) and ${sw.devices} device(s), more than the config's ${cx.config.cpus} and ${cx.config.devices}` };
  const n = cx.events.length;
  if (n > MAX_FILE_EVENTS) return { ok: false, error: `${source}: $.events: at most ${MAX_FILE_EVENTS} events, got ${n}` };
  if (cx.violation.step >= n)
    return { ok: false, error: `${source}: $.violation.step: step ${cx.violation.step} is beyond the ${n} event${n === 1 ? "" : "s"}` };
  return { ok: true, value: cx };
}

export function readCounterexampleFile(path: string): Decoded {
  const r = readJsonFile(path);
  return r.ok ? decodeCounterexample(r.value, path) : r;
}

/**
 * Deterministic pretty JSON: 2-space indent, keys in schema order (encoding
 * through the schema rebuilds every object in field order and drops stray
 * keys), one event per line so a trace reads top to bottom, trailing newline.
 * Throws if `cx` does not fit the schema (a programming error).
 */
export function encodeCounterexample(cx: Counterexample): string {
  const r = encodeChecked(cx);
  if (!r.ok) throw new Error(`not a valid counterexample: ${r.error}`);
  return r.text;
}

/**
 * Writes `cx` to `path`, creating parent directories. Only ever replaces an
 * existing counterexample file: anything else at `path` is the user's and is
 * left untouched.
 */
export function writeCounterexampleFile(path: string, cx: Counterexample): { ok: true } | { ok: false; error: string } {
  const r = encodeChecked(cx);
  if (!r.ok) return { ok: false, error: `${path}: cannot write: ${r.error}` };
  // Never write a file we could not read back (bad config, step beyond the events).
  const check = decodeCounterexample(JSON.parse(r.text), `${path}: cannot write`);
  if (!check.ok) return check;
  if (exists(path) && !readCounterexampleFile(path).ok)
    return { ok: false, error: `${path}: refusing to overwrite: the existing file is not a dmacheck counterexample` };
  // Write aside and rename so a crash never leaves a half-written file.
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, r.text);
    renameSync(tmp, path);
  } catch (e) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // Nothing to clean up (the directory itself could not be made).
    }
    return { ok: false, error: `${path}: cannot write: ${fsReason(e)}` };
  }
  return { ok: true };
}

const encode = Schema.encodeUnknownResult(CounterexampleSchema, { reportInput: true });

function encodeChecked(cx: Counterexample): { ok: true; text: string } | { ok: false; error: string } {
  const r = encode(cx);
  if (Result.isFailure(r)) {
    const p = firstProblem(r.failure.issue, []);
    return { ok: false, error: `${jsonPath(p.path)}: ${p.message}` };
  }
  return { ok: true, text: pretty(r.success, "") + "\n" };
}

/** JSON.stringify(v, null, 2), except that the items of `events` are one line each. */
function pretty(v: unknown, indent: string, itemsInline = false): string {
  if (typeof v !== "object" || v === null) return JSON.stringify(v);
  const pad = indent + "  ";
  const isArray = Array.isArray(v);
  const parts = isArray
    ? v.map((x) => pad + (itemsInline ? inline(x) : pretty(x, pad)))
    : Object.entries(v).map(([k, x]) => `${pad}${JSON.stringify(k)}: ${k === "swarm" ? inline(x) : pretty(x, pad, k === "events")}`);
  if (parts.length === 0) return isArray ? "[]" : "{}";
  return `${isArray ? "[" : "{"}\n${parts.join(",\n")}\n${indent}${isArray ? "]" : "}"}`;
}

function inline(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(inline).join(", ")}]`;
  if (typeof v === "object" && v !== null)
    return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${inline(x)}`).join(", ")}}`;
  return JSON.stringify(v);
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
