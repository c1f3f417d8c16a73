/**
 * Type-checks a user's TypeScript policy module before it runs
 * (`check --policy-module`, `replay` of a file that records one), against
 * the types it imports: the package's declarations (`dmacheck`, dist/*.d.ts)
 * or, in a checkout, the sources. Each error is one line,
 * `FILE:LINE:COL: TSnnnn: message`; any error is bad input (exit 2).
 *
 * The compiler is the `typescript` package the user has installed (resolved
 * from the module's folder), else the one beside dmacheck (a checkout's
 * devDependency). dmacheck does not depend on it: without it the module runs
 * unchecked, as tsx strips its types, and the caller prints a note saying so.
 */
import { createRequire } from "node:module";
import { relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { resolveModulePath, TS_MODULE } from "../checker/policy-module.ts";
import { UsageErrors } from "./errors.ts";
import { type Io } from "./io.ts";

export type TypecheckResult =
  | { readonly checked: true; readonly errors: readonly string[] }
  | { readonly checked: false; readonly reason: string };

/** The part of the TypeScript compiler API used here. */
interface TsApi {
  readonly ScriptTarget: { readonly ES2022: number };
  readonly ModuleKind: { readonly NodeNext: number };
  readonly ModuleResolutionKind: { readonly NodeNext: number };
  createProgram(files: readonly string[], options: Record<string, unknown>): TsProgram;
  flattenDiagnosticMessageText(text: unknown, newLine: string): string;
}
interface TsSourceFile {
  readonly fileName: string;
}
interface TsProgram {
  getSourceFiles(): readonly TsSourceFile[];
  getOptionsDiagnostics(): readonly TsDiagnostic[];
  getGlobalDiagnostics(): readonly TsDiagnostic[];
  getSyntacticDiagnostics(file: TsSourceFile): readonly TsDiagnostic[];
  getSemanticDiagnostics(file: TsSourceFile): readonly TsDiagnostic[];
}
interface TsDiagnostic {
  readonly file?: { readonly fileName: string; getLineAndCharacterOfPosition(pos: number): { line: number; character: number } };
  readonly start?: number;
  readonly code: number;
  readonly category: number;
  readonly messageText: unknown;
}

/** dmacheck's own folder (the package root, whether this runs from dist/ or the sources). */
const PACKAGE_ROOT = fileURLToPath(new URL("../", import.meta.url)).replace(/[\\/]dist[\\/]$/, sep);
/** dmacheck's own code: its errors are not the user's (a checkout's sources are checked by its own build). */
const OWN_CODE = ["model", "properties", "checker", "counterexamples", "costs", "cli", "dist"].map((d) => `${PACKAGE_ROOT}${d}${sep}`);

function isUsers(file: string, abs: string): boolean {
  if (file === abs) return true;
  if (file.includes(`${sep}node_modules${sep}`)) return false;
  return file !== `${PACKAGE_ROOT}index.ts` && file !== `${PACKAGE_ROOT}vitest.ts` && !OWN_CODE.some((d) => file.startsWith(d));
}

async function loadTypescript(modulePath: string): Promise<TsApi | null> {
  for (const base of [modulePath, fileURLToPath(import.meta.url)]) {
    let resolved: string;
    try {
      resolved = createRequire(base).resolve("typescript");
    } catch {
      continue;
    }
    const mod = (await import(pathToFileURL(resolved).href)) as { default?: TsApi } & TsApi;
    return mod.default ?? mod;
  }
  return null;
}

/** Type-checks `abs` (an absolute path) if it is a TypeScript module; `shown` is how errors name it. */
export async function typecheckPolicyModule(abs: string, shown: string): Promise<TypecheckResult> {
  if (!TS_MODULE.test(abs)) return { checked: true, errors: [] };
  const ts = await loadTypescript(abs);
  if (ts === null) return { checked: false, reason: "the typescript package is not installed" };
  const program = ts.createProgram([abs], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    allowImportingTsExtensions: true,
    lib: ["lib.es2022.d.ts"],
  });
  const errors: string[] = [];
  // Only the user's files are checked (the checker resolves what they import
  // lazily); dmacheck's own code and node_modules are not the user's to fix.
  const users = program.getSourceFiles().filter((f) => isUsers(resolve(f.fileName), abs));
  const diagnostics = [
    ...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics(),
    ...users.flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)]),
  ];
  for (const d of diagnostics) {
    if (d.category !== 1) continue; // 1: DiagnosticCategory.Error
    const message = ts.flattenDiagnosticMessageText(d.messageText, " ").replace(/\s+/g, " ").trim();
    if (d.file === undefined || d.start === undefined) {
      errors.push(`${shown}: TS${d.code}: ${message}`);
      continue;
    }
    const file = resolve(d.file.fileName);
    if (!isUsers(file, abs)) continue;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    const name = file === abs ? shown : relative(process.cwd(), file);
    errors.push(`${name}:${line + 1}:${character + 1}: TS${d.code}: ${message}`);
  }
  return { checked: true, errors };
}

/**
 * Type-checks the policy module `path` (resolved as loadPolicyModule does)
 * before it is loaded: type errors are bad input, one line each after
 * `where` (the flag or file that named the module). Without a TypeScript
 * compiler, one note on stderr says the module runs unchecked.
 */
export async function typecheckBeforeLoading(path: string, where: string, io: Io, relativeTo?: string): Promise<void> {
  const abs = resolveModulePath(path, relativeTo);
  if (abs === null || !TS_MODULE.test(abs)) return; // loadPolicyModule reports a missing file
  const r = await typecheckPolicyModule(abs, path);
  if (!r.checked) {
    io.err(`dmacheck: note: ${where} ${path} runs without a type check: ${r.reason}\n`);
    return;
  }
  if (r.errors.length > 0) throw new UsageErrors(r.errors.map((e) => `${where} ${e}`));
}
