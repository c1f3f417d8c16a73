/**
 * Reading and writing counterexample files (format: schema.ts).
 *
 * Every failure is ONE line that names the file and the JSON path of the first
 * problem, e.g. `bad.json: $.events[2].cpu: expected a non-negative integer, got "x"`,
 * so that it reads well on a terminal and in CI logs.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { Result, Schema, SchemaAST, SchemaIssue } from "effect";
import { configProblem } from "../model/config.ts";
import { CounterexampleSchema, type Counterexample } from "./schema.ts";

export type Decoded = { ok: true; value: Counterexample } | { ok: false; error: string };

// Reject unknown fields (a misspelt field would otherwise be silently dropped)
// and keep the rejected input on issues for the "got ..." part of messages.
const decode = Schema.decodeUnknownResult(CounterexampleSchema, { onExcessProperty: "error", reportInput: true });

export function decodeCounterexample(json: unknown, source: string): Decoded {
  const r = decode(json);
  if (Result.isFailure(r)) {
    const p = firstProblem(r.failure.issue, []);
    return { ok: false, error: `${source}: ${jsonPath(p.path)}: ${p.message}` };
  }
  const cx = r.success;
  // The schema only knows "integer"; the usable ranges live in configProblem.
  const bad = configProblem(cx.config);
  if (bad !== null) return { ok: false, error: `${source}: $.config: ${bad}` };
  const n = cx.events.length;
  if (cx.violation.step >= n)
    return { ok: false, error: `${source}: $.violation.step: step ${cx.violation.step} is beyond the ${n} event${n === 1 ? "" : "s"}` };
  return { ok: true, value: cx };
}

export function readCounterexampleFile(path: string): Decoded {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    return { ok: false, error: `${path}: cannot read: ${fsReason(e)}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `${path}: not valid JSON: ${oneLine(e instanceof Error ? e.message : String(e))}` };
  }
  return decodeCounterexample(json, path);
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
    : Object.entries(v).map(([k, x]) => `${pad}${JSON.stringify(k)}: ${pretty(x, pad, k === "events")}`);
  if (parts.length === 0) return isArray ? "[]" : "{}";
  return `${isArray ? "[" : "{"}\n${parts.join(",\n")}\n${indent}${isArray ? "]" : "}"}`;
}

// ---- issue tree -> first problem --------------------------------------------

interface Problem {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** Follows the first branch of effect's issue tree down to a leaf, collecting the path. */
function firstProblem(issue: SchemaIssue.Issue, path: readonly PropertyKey[]): Problem {
  switch (issue._tag) {
    case "Pointer":
      return firstProblem(issue.issue, [...path, ...issue.path]);
    case "Composite":
      return firstProblem(issue.issues[0], path);
    case "Encoding":
      return firstProblem(issue.issue, path);
    case "AnyOf":
      // Union members are chosen by their literal fields (the event tag `t`),
      // so an AnyOf without inner issues means no member was even a candidate.
      return issue.issues.length > 0 ? firstProblem(issue.issues[0], path) : noMember(issue, path);
    case "Filter":
      return { path, message: expectedGot(issue.filter.annotations?.expected ?? "a valid value", issue) };
    case "InvalidType":
      return { path, message: expectedGot(describe(issue.ast), issue) };
    case "MissingKey":
      return { path, message: "missing field" };
    case "UnexpectedKey":
      return { path, message: "unknown field" };
    case "InvalidValue":
    case "Forbidden":
      return { path, message: issue.annotations?.message ?? "invalid value" };
    case "OneOf":
      return { path, message: "ambiguous value" };
  }
}

/** No union member applies: name the bad tag (`unknown event "x"`) when the union is tagged. */
function noMember(issue: SchemaIssue.AnyOf, path: readonly PropertyKey[]): Problem {
  const input: unknown = issue.input;
  const tag = discriminator(issue.ast);
  if (tag !== undefined && typeof input === "object" && input !== null && !Array.isArray(input)) {
    const at = [...path, tag.key];
    if (!(tag.key in input)) return { path: at, message: "missing field" };
    const noun = typeof issue.ast.annotations?.title === "string" ? issue.ast.annotations.title : "variant";
    const got = show((input as Record<PropertyKey, unknown>)[tag.key]);
    return { path: at, message: `unknown ${noun} ${got} (expected one of ${tag.values.join(", ")})` };
  }
  return { path, message: expectedGot(describe(issue.ast), issue) };
}

/** The field that is a literal in every member of a union of structs, with its values. */
function discriminator(u: SchemaAST.Union): { key: PropertyKey; values: string[] } | undefined {
  const first = u.types[0];
  if (first === undefined || !SchemaAST.isObjects(first)) return undefined;
  for (const ps of first.propertySignatures) {
    const values = u.types.map((m) => {
      const f = SchemaAST.isObjects(m) ? m.propertySignatures.find((p) => p.name === ps.name) : undefined;
      return f !== undefined && SchemaAST.isLiteral(f.type) ? String(f.type.literal) : undefined;
    });
    if (values.every((v) => v !== undefined)) return { key: ps.name, values: values as string[] };
  }
  return undefined;
}

/** What a schema accepts, in words: its `title`, else its last check's `expected`, else its type. */
function describe(ast: SchemaAST.AST): string {
  const title = ast.annotations?.title;
  if (typeof title === "string") return (/^[aeiou]/i.test(title) ? "an " : "a ") + title;
  const expected = ast.checks?.[ast.checks.length - 1]?.annotations?.expected;
  if (typeof expected === "string") return expected;
  switch (ast._tag) {
    case "Literal":
      return JSON.stringify(ast.literal);
    case "Union":
      if (ast.types.every(SchemaAST.isLiteral)) return `one of ${ast.types.map(describe).join(", ")}`;
      return [...new Set(ast.types.map(describe))].join(" or ");
    case "String":
      return "a string";
    case "Number":
      return "a number";
    case "Boolean":
      return "a boolean";
    case "Null":
      return "null";
    case "Objects":
      return "an object";
    case "Arrays":
      return "an array";
    default:
      return ast._tag;
  }
}

function expectedGot(expected: string, issue: SchemaIssue.Issue): string {
  return SchemaIssue.hasInput(issue) ? `expected ${expected}, got ${show(issue.input)}` : `expected ${expected}`;
}

// ---- small helpers ------------------------------------------------------------

/** `$.events[2].cpu`; keys that are not identifiers are quoted: `$["a b"]`. */
function jsonPath(path: readonly PropertyKey[]): string {
  return "$" + path.map((k) =>
    typeof k === "number" ? `[${k}]` : /^[A-Za-z_$][\w$]*$/.test(String(k)) ? `.${String(k)}` : `[${JSON.stringify(String(k))}]`,
  ).join("");
}

/** A value as JSON on one line, shortened so the message stays one readable line. */
function show(v: unknown): string {
  const s = v === undefined ? "undefined" : JSON.stringify(v) ?? String(v);
  return s.length > 60 ? s.slice(0, 57) + "..." : s;
}

/** One JSON object on one line with a space after `:` and `,` (events and their `sizes`). */
function inline(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(inline).join(", ")}]`;
  if (typeof v === "object" && v !== null)
    return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${inline(x)}`).join(", ")}}`;
  return JSON.stringify(v);
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ").trim();
}

/** `no such file or directory (ENOENT)` from Node's `ENOENT: no such file or directory, open 'x'`. */
function fsReason(e: unknown): string {
  if (!(e instanceof Error)) return oneLine(String(e));
  const code = (e as NodeJS.ErrnoException).code;
  const m = /^[A-Z]+: ([^,]*)/.exec(e.message);
  return oneLine(code !== undefined && m !== null ? `${m[1]} (${code})` : e.message);
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
