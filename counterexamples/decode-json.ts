/**
 * Decoding JSON input with an effect Schema into ONE-line errors that name
 * the source and the JSON path of the first problem, e.g.
 * `bad.json: $.events[2].cpu: expected a non-negative integer, got "x"`.
 * Shared by every file format dmacheck reads (counterexamples, scopes).
 */
import { readBoundedJson } from "./read-bounded.ts";
import { Result, Schema, SchemaAST, SchemaIssue } from "effect";

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Decodes `json` with `schema`, rejecting unknown fields; with `excess`
 * "ignore", fields the schema does not name are dropped instead (for another
 * command's output, which may grow fields this reader does not use).
 */
export function decodeJson<S extends Schema.Top>(schema: S, json: unknown, source: string, excess: "error" | "ignore" = "error"): DecodeResult<S["Type"]> {
  const r = Schema.decodeUnknownResult(schema as never, { onExcessProperty: excess, reportInput: true })(json);
  if (Result.isFailure(r)) {
    const p = firstProblem((r.failure as { issue: SchemaIssue.Issue }).issue, []);
    return { ok: false, error: `${source}: ${jsonPath(p.path)}: ${p.message}` };
  }
  return { ok: true, value: r.success as S["Type"] };
}

/** Reads and parses a JSON file within the input limits (read-bounded.ts); a one-line error when it cannot. */
export function readJsonFile(path: string): DecodeResult<unknown> {
  return readBoundedJson(path);
}

// ---- issue tree -> first problem --------------------------------------------

interface Problem {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** Follows the first branch of effect's issue tree down to a leaf, collecting the path. */
export function firstProblem(issue: SchemaIssue.Issue, path: readonly PropertyKey[]): Problem {
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
  // An optional field may be absent; "or Undefined" is not something JSON can say.
  expected = expected.replace(/ or Undefined$/, "").replace(/^Undefined or /, "");
  return SchemaIssue.hasInput(issue) ? `expected ${expected}, got ${show(issue.input)}` : `expected ${expected}`;
}

// ---- small helpers ------------------------------------------------------------

/** `$.events[2].cpu`; keys that are not identifiers are quoted: `$["a b"]`. */
export function jsonPath(path: readonly PropertyKey[]): string {
  return "$" + path.map((k) =>
    typeof k === "number" ? `[${k}]` : /^[A-Za-z_$][\w$]*$/.test(String(k)) ? `.${String(k)}` : `[${JSON.stringify(String(k))}]`,
  ).join("");
}

/** A value as JSON on one line, shortened so the message stays one readable line. */
export function show(v: unknown): string {
  const s = v === undefined ? "undefined" : JSON.stringify(v) ?? String(v);
  return s.length > 60 ? s.slice(0, 57) + "..." : s;
}

export { fsReason, oneLine } from "./read-bounded.ts";
