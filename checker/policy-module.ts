/**
 * Loads a user's policy: the default export of a JavaScript or TypeScript
 * module (TypeScript through tsx), checked for the Policy shape.
 */
import { existsSync } from "node:fs";
import { isAbsolute, resolve, dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { type Policy } from "../model/policy.ts";
import { findProperty, PROPERTIES } from "../properties/index.ts";

export type Loaded = { ok: true; policy: Policy } | { ok: false; error: string };

/**
 * Resolves `path`: against the directory of `relativeTo` (a counterexample
 * file, which records its module relative to itself), then the working directory.
 */
export function resolveModulePath(path: string, relativeTo?: string): string | null {
  const candidates = isAbsolute(path) ? [path] : [...(relativeTo ? [resolve(dirname(relativeTo), path)] : []), resolve(path)];
  return candidates.find((p) => existsSync(p)) ?? null;
}

export async function loadPolicyModule(path: string, relativeTo?: string): Promise<Loaded> {
  const abs = resolveModulePath(path, relativeTo);
  if (abs === null) return { ok: false, error: `${path}: no such file` };
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(abs);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { ok: false, error: `${path}: cannot load: ${msg.split("\n")[0]}` };
  }
  const p = mod.default as Record<string, unknown> | undefined;
  const problem = policyShapeProblem(p);
  return problem ? { ok: false, error: `${path}: ${problem}` } : { ok: true, policy: p as unknown as Policy };
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

/** Why `p` is not a Policy, or null. */
export function policyShapeProblem(p: Record<string, unknown> | undefined): string | null {
  if (p === undefined || p === null || typeof p !== "object") return "the module has no default export (export default { name, claims, attach, map, unmap })";
  if (typeof p.name !== "string" || !/^[a-z0-9][a-z0-9@-]*$/.test(p.name)) return "the default export's name must be a lower-case string like \"my-policy\"";
  if (!Array.isArray(p.claims)) return "the default export has no claims array";
  for (const c of p.claims) {
    if (!findProperty(c)) return `claims: unknown property ${JSON.stringify(c)} (known: ${PROPERTIES.map((q) => q.name).join(", ")})`;
  }
  for (const f of ["attach", "map", "unmap"]) if (typeof p[f] !== "function") return `the default export has no ${f} function`;
  for (const f of ["timer", "boot", "allocBuffer", "freeBuffer", "held"]) if (p[f] !== undefined && typeof p[f] !== "function") return `${f} must be a function`;
  if ((p.allocBuffer === undefined) !== (p.freeBuffer === undefined)) return "allocBuffer and freeBuffer go together: give both or neither";
  for (const f of ["maxMappingBytes", "descriptorPages"]) {
    const v = p[f];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= 1)) return `${f} must be a positive integer`;
  }
  if (p.stateWords !== undefined && typeof p.stateWords !== "function" &&
    !(Number.isInteger(p.stateWords) && (p.stateWords as number) >= 0 && (p.stateWords as number) <= 4096)) {
    return "stateWords must be an integer in 0..4096, or a function of the configuration";
  }
  if (p.symmetric !== undefined && typeof p.symmetric !== "boolean") return "symmetric must be a boolean";
  const b = p.staleBound as Record<string, unknown> | undefined;
  if (b !== undefined && typeof b !== "function" &&
    !(typeof b === "object" && b !== null && Number.isInteger(b.ms) && (b.ms as number) >= 0 && Number.isInteger(b.unmaps) && (b.unmaps as number) >= 0)) {
    return "staleBound must be { ms, unmaps } (non-negative integers) or a function of the configuration";
  }
  if (typeof p.summary !== "string") return "the default export has no summary string";
  return null;
}
