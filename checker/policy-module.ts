/**
 * Loads a user's policy: the default export of a JavaScript or TypeScript
 * module (TypeScript through tsx), checked for the Policy shape.
 *
 * The module is untrusted code (a counterexample file names the module it was
 * found with, and files are shared), so it is read defensively: its default
 * export is copied field by field through property descriptors, never through
 * getters, and a Proxy anywhere in it is refused; the policy that runs is a
 * plain object whose handlers call the module's inside a try/catch and check
 * what they return. Whatever the module throws becomes a PolicyModuleError,
 * "policy module FILE: handler NAME threw: MESSAGE", one line (docs/limits.md).
 */
import { existsSync } from "node:fs";
import { isAbsolute, resolve, dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { types } from "node:util";
import { type Policy, type StaleBound } from "../model/policy.ts";
import { type ModelConfig } from "../model/config.ts";
import { ALL_PROPERTIES } from "../properties/index.ts";
import { MAX_STATE_WORDS } from "./limits.ts";
import { OPT_IN_KINDS } from "./arbitraries.ts";

export type Loaded = { ok: true; policy: Policy } | { ok: false; error: string };

/** Something a user's policy module did wrong while it ran: bad input, not a bug of dmacheck. */
export class PolicyModuleError extends Error {}

/** The fields of the Policy interface (model/policy.ts); nothing else is read from a module. */
const FIELDS = [
  "name", "summary", "claims", "maxMappingBytes", "descriptorPages", "stateWords", "symmetric", "cpuSymmetric", "perDeviceState",
  "attach", "map", "unmap", "timer", "allocBuffer", "freeBuffer", "staleBound", "held", "boot", "eptTable", "eptTlbWord", "iommus", "stateWordNames",
  "userGet", "userPut", "events", "fqTimer",
] as const;

/** The IOMMUs a module may name in `iommus` (model/config.ts IommuKind). */
const IOMMU_KINDS: readonly unknown[] = ["amd-v1", "vtd"];

/** A policy declares at most one claim per property. */
const MAX_CLAIMS = ALL_PROPERTIES.length;

/**
 * Resolves `path`: against the directory of `relativeTo` (a counterexample
 * file, which records its module relative to itself), then the working directory.
 */
export function resolveModulePath(path: string, relativeTo?: string): string | null {
  const candidates = isAbsolute(path) ? [path] : [...(relativeTo ? [resolve(dirname(relativeTo), path)] : []), resolve(path)];
  return candidates.find((p) => existsSync(p)) ?? null;
}

const loadedOnce = new Map<string, Promise<Loaded>>();

/**
 * loadPolicyModule of `path` once per thread: the worker threads
 * (checker/cell-worker.ts, checker/split-worker.ts) run many tasks of the same
 * module, and a module's import is not repeated.
 */
export function loadPolicyModuleOnce(path: string): Promise<Loaded> {
  let p = loadedOnce.get(path);
  if (p === undefined) loadedOnce.set(path, (p = loadPolicyModule(path)));
  return p;
}

export async function loadPolicyModule(path: string, relativeTo?: string): Promise<Loaded> {
  const abs = resolveModulePath(path, relativeTo);
  if (abs === null) return { ok: false, error: `${path}: no such file` };
  let def: unknown;
  try {
    const mod = await importModule(abs);
    def = mod.default;
  } catch (e) {
    return { ok: false, error: `${path}: cannot load: ${describeThrown(e)}` };
  }
  const copy = readShape(def);
  if (typeof copy === "string") return { ok: false, error: `${path}: ${copy}` };
  const problem = policyShapeProblem(copy);
  if (problem !== null) return { ok: false, error: `${path}: ${problem}` };
  return { ok: true, policy: guardedPolicy(copy, def as object, path) };
}

/** TypeScript module file names, which need a loader. */
export const TS_MODULE = /\.(ts|mts|cts)$/;

/**
 * Imports a module by path. Run from the TypeScript sources (bin/dmacheck.js
 * without dist/, or vitest), a loader is already in place; run compiled, a
 * TypeScript module goes through tsx's tsImport, which loads it without
 * registering a loader for the whole process.
 */
async function importModule(abs: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(abs).href;
  if (!TS_MODULE.test(abs) || import.meta.url.endsWith(".ts")) return (await import(url)) as Record<string, unknown>;
  const { tsImport } = await import("tsx/esm/api");
  return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
}

/**
 * The default export's Policy fields as a plain object, read through property
 * descriptors along the prototype chain (a class instance's methods are on its
 * prototype); or why it cannot be read safely.
 */
function readShape(def: unknown): Record<string, unknown> | string {
  try {
    if (def === undefined || def === null || (typeof def !== "object" && typeof def !== "function")) {
      return "the module has no default export (export default { name, claims, attach, map, unmap })";
    }
    if (types.isProxy(def)) return "the default export is a Proxy; export a plain object";
    const out: Record<string, unknown> = {};
    for (const f of FIELDS) {
      const v = field(def, f);
      if (!v.ok) return `${f}: ${v.why}`;
      if (v.value !== undefined) out[f] = v.value;
    }
    for (const [name, max] of [["claims", MAX_CLAIMS], ["iommus", IOMMU_KINDS.length], ["events", OPT_IN_KINDS.length]] as const) {
      const copied = plainArrayCopy(name, out[name], max);
      if (typeof copied === "string") return copied;
      if (copied !== null) out[name] = copied;
    }
    const b = out.staleBound;
    if (typeof b === "object" && b !== null) {
      if (types.isProxy(b)) return "staleBound: a Proxy; give a plain object";
      out.staleBound = { ms: ownValue(b, "ms"), unmaps: ownValue(b, "unmaps") };
      if (!field(b, "ms").ok || !field(b, "unmaps").ok) return "staleBound: a getter or a Proxy; give { ms, unmaps } as plain numbers";
    }
    return out;
  } catch (e) {
    return `the default export cannot be read: ${describeThrown(e)}`;
  }
}

/**
 * A copy of the module's array field `name` made of plain values, or why it
 * cannot be read safely (a Proxy, more than `max` entries, a getter or a
 * hole); null when the field is not an array (the shape check reports that).
 */
function plainArrayCopy(name: string, value: unknown, max: number): unknown[] | string | null {
  if (!Array.isArray(value)) return null;
  if (types.isProxy(value)) return `${name}: a Proxy; give a plain array`;
  if (value.length > max) return `${name}: at most ${max} entries, got ${value.length}`;
  const copy: unknown[] = [];
  for (let i = 0; i < value.length; i++) {
    const d = Object.getOwnPropertyDescriptor(value, i);
    if (d === undefined || !("value" in d)) return `${name}[${i}]: a getter or a hole; give a plain array`;
    copy.push(d.value);
  }
  return copy;
}

/** The plain value of field `f` of `o` or its prototypes; not ok if it is a getter or behind a Proxy. */
function field(o: object, f: string): { ok: true; value: unknown } | { ok: false; why: string } {
  try {
    for (let p: object | null = o, depth = 0; p !== null && p !== Object.prototype && p !== Function.prototype; p = Object.getPrototypeOf(p), depth++) {
      if (types.isProxy(p)) return { ok: false, why: "behind a Proxy; export a plain object" };
      if (depth > 16) return { ok: false, why: "the prototype chain is too long" };
      const d = Object.getOwnPropertyDescriptor(p, f);
      if (d === undefined) continue;
      if (!("value" in d)) return { ok: false, why: "a getter or setter; give a plain value" };
      return { ok: true, value: d.value };
    }
    return { ok: true, value: undefined };
  } catch (e) {
    return { ok: false, why: `cannot be read: ${describeThrown(e)}` };
  }
}

/** field's value, or undefined when it cannot be read safely. */
function ownValue(o: object, f: string): unknown {
  const v = field(o, f);
  return v.ok ? v.value : undefined;
}

/** Why `p` is not a Policy, or null. `p` must be plain data (as readShape makes it). */
export function policyShapeProblem(p: Record<string, unknown> | undefined): string | null {
  if (p === undefined || p === null || typeof p !== "object") return "the module has no default export (export default { name, claims, attach, map, unmap })";
  if (typeof p.name !== "string" || !/^[a-z0-9][a-z0-9@-]*$/.test(p.name) || p.name.length > 64) return "the default export's name must be a lower-case string like \"my-policy\" (at most 64 characters)";
  if (!Array.isArray(p.claims)) return "the default export has no claims array";
  for (const c of p.claims) {
    if (!ALL_PROPERTIES.some((q) => q.name === c)) return `claims: unknown property ${safeShow(c)} (known: ${ALL_PROPERTIES.map((q) => q.name).join(", ")})`;
  }
  for (const f of ["attach", "map", "unmap"]) if (typeof p[f] !== "function") return `the default export has no ${f} function`;
  for (const f of ["timer", "fqTimer", "boot", "allocBuffer", "freeBuffer", "held", "eptTable", "stateWordNames", "userGet", "userPut"]) if (p[f] !== undefined && typeof p[f] !== "function") return `${f} must be a function`;
  if (p.iommus !== undefined && (!Array.isArray(p.iommus) || p.iommus.length === 0 || !p.iommus.every((x) => IOMMU_KINDS.includes(x)))) {
    return "iommus must be a non-empty array of \"amd-v1\" and \"vtd\"";
  }
  if (p.events !== undefined && !(Array.isArray(p.events) && p.events.length <= OPT_IN_KINDS.length && p.events.every((t) => (OPT_IN_KINDS as readonly unknown[]).includes(t)))) {
    return `events must be an array of opt-in event kinds (${OPT_IN_KINDS.join(", ")})`;
  }
  if ((p.allocBuffer === undefined) !== (p.freeBuffer === undefined)) return "allocBuffer and freeBuffer go together: give both or neither";
  if ((p.eptTable === undefined) !== (p.eptTlbWord === undefined)) return "eptTable and eptTlbWord go together: give both or neither";
  if (p.eptTlbWord !== undefined && !(Number.isInteger(p.eptTlbWord) && (p.eptTlbWord as number) >= 0 && (p.eptTlbWord as number) < MAX_STATE_WORDS)) {
    return `eptTlbWord must be an integer in 0..${MAX_STATE_WORDS - 1}`;
  }
  for (const f of ["maxMappingBytes", "descriptorPages"]) {
    const v = p[f];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= 1)) return `${f} must be a positive integer`;
  }
  if (p.stateWords !== undefined && typeof p.stateWords !== "function" && stateWordsProblem(p.stateWords) !== null) {
    return `stateWords must be an integer in 0..${MAX_STATE_WORDS}, or a function of the configuration`;
  }
  if (p.symmetric !== undefined && typeof p.symmetric !== "boolean") return "symmetric must be a boolean";
  if (p.cpuSymmetric !== undefined && typeof p.cpuSymmetric !== "boolean") return "cpuSymmetric must be a boolean";
  if (p.perDeviceState !== undefined && typeof p.perDeviceState !== "boolean") return "perDeviceState must be a boolean";
  const b = p.staleBound as Record<string, unknown> | undefined;
  if (b !== undefined && typeof b !== "function" && staleBoundProblem(b) !== null) {
    return "staleBound must be { ms, unmaps } (non-negative integers) or a function of the configuration";
  }
  if (typeof p.summary !== "string") return "the default export has no summary string";
  return null;
}

function stateWordsProblem(v: unknown): string | null {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_STATE_WORDS ? null : `expected an integer in 0..${MAX_STATE_WORDS}`;
}

function staleBoundProblem(b: unknown): string | null {
  if (typeof b !== "object" || b === null || types.isProxy(b)) return "expected { ms, unmaps }";
  const ms = ownValue(b, "ms");
  const unmaps = ownValue(b, "unmaps");
  return Number.isInteger(ms) && (ms as number) >= 0 && Number.isInteger(unmaps) && (unmaps as number) >= 0 ? null : "expected { ms, unmaps } (non-negative integers)";
}

const ATTACH_MODES: readonly unknown[] = ["translate", "passthrough", "blocked"];
/** Phases are stored in int32 call records. */
const MAX_PHASE = 0x7fffffff;

const isStep = (r: unknown): string | null =>
  Number.isInteger(r) && (r as number) >= -2 && (r as number) <= MAX_PHASE ? null : "expected DONE, FAIL or a phase (an integer)";

/**
 * The policy that runs: the copied data, and each function of the module
 * called with the module's default export as `this`, inside a try/catch, with
 * its result checked. The Policy contract says handlers never throw; a module
 * that does is reported as that module's problem.
 */
function guardedPolicy(p: Record<string, unknown>, self: object, file: string): Policy {
  const wrap = (name: string, check: (r: unknown) => string | null) => {
    const f = p[name];
    if (typeof f !== "function") return undefined;
    return (...args: unknown[]): unknown => {
      let r: unknown;
      try {
        r = Reflect.apply(f, self, args);
      } catch (e) {
        if (isModuleError(e)) throw e;
        throw new PolicyModuleError(`policy module ${file}: handler ${name} threw: ${describeThrown(e)}`);
      }
      const bad = check(r);
      if (bad !== null) throw new PolicyModuleError(`policy module ${file}: handler ${name} returned ${safeShow(r)}, ${bad}`);
      return r;
    };
  };
  const any = () => null;
  const policy: Record<string, unknown> = {
    name: p.name,
    summary: p.summary,
    claims: Object.freeze([...(p.claims as unknown[])]),
    attach: wrap("attach", (r) => (ATTACH_MODES.includes(r) ? null : "expected \"translate\", \"passthrough\" or \"blocked\"")),
    map: wrap("map", isStep),
    unmap: wrap("unmap", isStep),
  };
  for (const f of ["maxMappingBytes", "descriptorPages", "symmetric", "perDeviceState"]) if (p[f] !== undefined) policy[f] = p[f];
  // CPU symmetry only when the module asks for it: the checker cannot see whether a handler branches on k.ctx,
  // and a module that did would have its CPU-dependent behaviour merged away (checker/cpu-symmetry.ts).
  policy.cpuSymmetric = p.cpuSymmetric === true;
  if (p.timer !== undefined) policy.timer = wrap("timer", isStep);
  if (p.fqTimer !== undefined) policy.fqTimer = wrap("fqTimer", isStep);
  if (p.boot !== undefined) policy.boot = wrap("boot", any);
  if (p.allocBuffer !== undefined) policy.allocBuffer = wrap("allocBuffer", (r) => (typeof r === "boolean" ? null : "expected a boolean"));
  if (p.freeBuffer !== undefined) policy.freeBuffer = wrap("freeBuffer", any);
  if (p.eptTable !== undefined) policy.eptTable = wrap("eptTable", (r) => (Number.isInteger(r) && (r as number) >= -1 ? null : "expected a frame number or -1"));
  if (p.eptTlbWord !== undefined) policy.eptTlbWord = p.eptTlbWord;
  if (p.iommus !== undefined) policy.iommus = Object.freeze([...(p.iommus as unknown[])]);
  if (p.stateWordNames !== undefined) {
    const names = wrap("stateWordNames", (r) => (Array.isArray(r) && !types.isProxy(r) && r.length <= MAX_STATE_WORDS && r.every((x) => typeof x === "string") ? null : "expected an array of strings"))!;
    policy.stateWordNames = (cfg: ModelConfig): readonly string[] => Object.freeze([...(names(cfg) as string[])]);
  }
  if (p.held !== undefined) policy.held = wrap("held", (r) => (r === null || (typeof r === "string" && r.length <= 1000) ? null : "expected a string or null"));
  const reason = (r: unknown) => (r === null || (typeof r === "string" && r.length <= 1000) ? null : "expected a string (why the event does not apply) or null");
  if (p.userGet !== undefined) policy.userGet = wrap("userGet", reason);
  if (p.userPut !== undefined) policy.userPut = wrap("userPut", reason);
  if (p.events !== undefined) policy.events = Object.freeze([...(p.events as unknown[])]);
  if (typeof p.stateWords === "function") policy.stateWords = wrap("stateWords", stateWordsProblem) as (cfg: ModelConfig) => number;
  else if (p.stateWords !== undefined) policy.stateWords = p.stateWords;
  if (typeof p.staleBound === "function") {
    const g = wrap("staleBound", staleBoundProblem)!;
    // A plain copy of what the function returns, so nothing reads a getter of the module's later.
    policy.staleBound = (cfg: ModelConfig): StaleBound => {
      const b = g(cfg) as object;
      return { ms: ownValue(b, "ms") as number, unmaps: ownValue(b, "unmaps") as number };
    };
  } else if (p.staleBound !== undefined) policy.staleBound = p.staleBound;
  return Object.freeze(policy) as unknown as Policy;
}

/** Whether `e` is our own error (from a nested handler call), asked without running the module's Proxy traps. */
function isModuleError(e: unknown): boolean {
  try {
    return typeof e === "object" && e !== null && !types.isProxy(e) && e instanceof PolicyModuleError;
  } catch {
    return false;
  }
}

/** What a module threw, on one short line, without trusting it (a Proxy, a throwing getter, a symbol). */
export function describeThrown(e: unknown): string {
  try {
    let msg: string;
    if (typeof e === "object" && e !== null) {
      if (types.isProxy(e)) return "a Proxy";
      const d = Object.getOwnPropertyDescriptor(e, "message");
      msg = d !== undefined && typeof d.value === "string" ? d.value : "a non-Error value";
    } else msg = typeof e === "string" ? e : String(e);
    const line = msg.replace(/\s*[\r\n\u2028\u2029]+\s*/g, " ").trim();
    return line.length > 300 ? line.slice(0, 297) + "..." : line;
  } catch {
    return "an unprintable value";
  }
}

function safeShow(v: unknown): string {
  try {
    if (typeof v === "object" && v !== null) return types.isProxy(v) ? "a Proxy" : Array.isArray(v) ? "an array" : "an object";
    if (typeof v === "function") return "a function";
    const s = typeof v === "string" ? JSON.stringify(v) : String(v);
    return s.length > 60 ? s.slice(0, 57) + "..." : s;
  } catch {
    return "an unprintable value";
  }
}
