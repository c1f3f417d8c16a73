/** `dmacheck check`: the policy x property matrix, from the random engine, the exhaustive engine, or both. */
import { dirname, join, relative, resolve } from "node:path";
import cliProgress from "cli-progress";
import {
  configProblem, DEFAULT_CONFIG, deviceAttributes, type ModelConfig, deviceList, GUEST_MEMORY_KINDS, parseDeviceList, type GuestMemoryKind,
  IOMMU_KINDS, iommuOf, type IommuKind, withIommu,
} from "../model/config.ts";
import { BROKEN_GUEST_POLICIES, findAnyPolicy, GUEST_POLICIES, NET_BROKEN_POLICIES, NET_POLICIES, POLICIES, VM_MORSEL_POLICIES } from "../model/policies/index.ts";
import { type Policy, runsOn } from "../model/policy.ts";
import { GUEST_KINDS, guestPolicyName, VIOMMU_KINDS, type GuestKind, type ViommuKind } from "../model/policies/guest.ts";
import { ALL_PROPERTIES, NET_PROPERTIES, PROPERTIES, VM_PROPERTIES, findProperty } from "../properties/index.ts";
import { type Property } from "../properties/property.ts";
import {
  checkPolicyRandom, checkPolicyExhaustively, type CellResult, type MatrixOptions, type PolicyEntry, type SearchSummary,
} from "../checker/matrix.ts";
import { describeThrown, loadPolicyModule, PolicyModuleError } from "../checker/policy-module.ts";
import { typecheckBeforeLoading } from "./typecheck.ts";
import { type SearchProgress } from "../checker/exhaustive.ts";
import { availableParallelism } from "node:os";
import { defaultWorkers, runCellTasks, type CellTask } from "../checker/cell-pool.ts";
import { SearchPool } from "../checker/split-search.ts";
import { DEFAULT_SCOPE, type Scope } from "../checker/scope.ts";
import { alphabetProblem, readScopeFile } from "../checker/scope-file.ts";
import { writeCounterexampleFile } from "../counterexamples/file.ts";
import { counterexampleFileName } from "../counterexamples/build.ts";
import { type Counterexample } from "../counterexamples/schema.ts";
import { EXIT_OK, EXIT_VIOLATION, fail, UsageError } from "./errors.ts";
import { knownPolicies, selectByName } from "./select.ts";
import { renderMatrix } from "./render-matrix.ts";
import { type Io } from "./io.ts";
import { DeadlineError, deadlineAfter } from "../checker/deadline.ts";
import { FLAG_LIMITS, scopeLimitProblem } from "../checker/limits.ts";

export type EngineChoice = "random" | "exhaustive" | "both";

export interface CheckFlags {
  readonly policy?: string[];
  readonly property?: string[];
  readonly engine: EngineChoice;
  readonly runs: number;
  readonly seed: number;
  readonly maxEvents: number;
  readonly path?: string;
  readonly depth?: number;
  readonly maxStates?: number;
  readonly allProperties?: boolean;
  readonly maxMemory?: number;
  readonly bitstate?: number;
  readonly bitstateHashes?: number;
  readonly scope?: string;
  readonly frames?: number;
  readonly cpus?: number;
  readonly devices?: number;
  readonly iovaPages?: number;
  readonly maxMappings?: number;
  readonly kmallocSizes?: number[];
  readonly json?: boolean;
  readonly coverage?: boolean;
  readonly out: string;
  readonly policyModule?: string;
  readonly timing: boolean;
  readonly device?: string[];
  readonly guestMemory?: string;
  /** Guest policies (model/policies/guest.ts): the guest's own DMA policies (--guest) over vIOMMU kinds (--viommu). */
  readonly guest?: string[];
  readonly viommu?: string[];
  /** `--iommu amd-v1|vtd`: both engines' IOMMU (over a scope file's config.iommu). */
  readonly iommu?: string;
  /** Worker threads for the cells (default: defaultWorkers of the cores). */
  readonly workers?: number;
  /** False with --no-reduction: no symmetry reduction in the exhaustive engine. */
  readonly reduction?: boolean;
  /** Random engine: swarm testing (checker/arbitraries.ts); --no-swarm turns it off. */
  readonly swarm?: boolean;
  /** Wall-clock bound on the engines, in seconds (--time-limit). */
  readonly timeLimit?: number;
  /** The race-scope pass (--race / --no-race); absent: on exactly when the scope is the default one. */
  readonly race?: boolean;
  /** Distinct states of each race-scope search (--race-states). */
  readonly raceStates?: number;
  /** Counterexamples kept per cell, distinct by their sequence of event kinds (--counterexamples N; absent: 1). */
  readonly counterexamples?: number;
  /** --html FILE, --cost FILE..., --skip-costs: the HTML report (cli/report.ts). */
  readonly html?: string;
  readonly cost?: string[];
  readonly skipCosts?: boolean;
}

export const DEFAULT_DEPTH = 40;
export const DEFAULT_MAX_STATES = 2_000_000;
/** States of each policy's race-scope search: the whole default run stays near a minute on two cores. */
export const DEFAULT_RACE_STATES = 100_000;
/**
 * Depth of each race-scope search unless --depth is given: as deep as --depth
 * may go, so that --race-states alone decides where it stops and a large one
 * exhausts the scope (strict's race scope is exhausted at depth 71).
 */
export const RACE_DEPTH = FLAG_LIMITS["--depth"];

export interface ResultRow {
  readonly cell: CellResult;
  readonly file: string | null;
  /** Files of the cell's further counterexamples (--counterexamples N > 1), in cell.more's order. */
  readonly more: readonly string[];
}

export async function runCheck(flags: CheckFlags, io: Io): Promise<number> {
  if (flags.html === undefined && (flags.cost !== undefined || flags.skipCosts === true)) fail("--cost and --skip-costs need --html FILE");
  const iommuFlag = parseIommuFlag(flags.iommu);
  const selected = await selectPolicies(flags, io);
  const props = selectProperties(flags.property, selected);
  if (flags.path !== undefined && !/^\d+(:\d+)*$/.test(flags.path)) fail(`--path must look like 12:0:3 (a fast-check path), got ${JSON.stringify(flags.path)}`);
  const useRandom = flags.engine !== "exhaustive";
  const useExhaustive = flags.engine !== "random";
  const devAttrs = flags.device === undefined ? undefined : parseDeviceList(flags.device);
  if (typeof devAttrs === "string") fail(`--device: ${devAttrs}`);
  const guest = guestMemoryFlag(flags.guestMemory);
  const attrs = devAttrs === undefined && guest === undefined ? undefined : { ...devAttrs, ...guest };
  const resolved = resolveScope(flags);
  const scoped: Scope = attrs === undefined ? resolved.scope : { ...resolved.scope, config: { ...resolved.scope.config, ...attrs } };
  const scope: Scope = iommuFlag === undefined ? scoped : { ...scoped, config: withIommu(scoped.config, iommuFlag) };
  const iommu = iommuOf(scope.config);
  const entries = selectForIommu(selected, iommu, flags.policy !== undefined);
  const tooBig = scopeLimitProblem(scope);
  if (tooBig !== null) fail(`scope: ${tooBig}`);
  const { depth, maxStates } = resolved;
  const withSeconds = (m: string) => m.replace(/^stopped: time limit/, `stopped: time limit of ${flags.timeLimit} s`);
  // From here on the engines run: --time-limit bounds them (checker/deadline.ts).
  const deadline = deadlineAfter(flags.timeLimit);
  const bitstate = bitstateFlags(flags);
  const randomBase = { ...randomMachine(flags, resolved.scope), ...attrs };
  const randomConfig = iommuFlag === undefined ? randomBase : withIommu(randomBase, iommuFlag);
  const cmBad = configProblem(randomConfig);
  if (cmBad !== null) fail(`--iommu: ${cmBad}`);
  const device = deviceList(deviceAttributes(randomConfig));
  const race = raceOption(flags, scope, bitstate !== undefined);
  const randomOpts: MatrixOptions = {
    config: randomConfig, runs: flags.runs, seed: flags.seed, maxEvents: flags.maxEvents, timing: flags.timing, path: flags.path, swarm: flags.swarm, deadline,
    counterexamples: flags.counterexamples, race: race === null || flags.path !== undefined ? null : { base: race.base },
  };
  const total = (useRandom ? entries.length * props.length : 0) + (useExhaustive ? entries.length : 0);
  const bar = io.progress !== null
    ? new cliProgress.SingleBar({ stream: io.progress, format: "checking {cell} [{bar}] {value}/{total}{detail}", clearOnComplete: true, hideCursor: true }, cliProgress.Presets.shades_classic)
    : null;
  bar?.start(total, 0, { cell: "", detail: "" });
  // The exhaustive search's own progress, only on a terminal and not with --json.
  const onProgress = bar !== null && io.outIsTTY && flags.json !== true ? progressReporter((detail) => bar.update({ detail })) : undefined;
  const rows: ResultRow[] = [];
  const searches: SearchSummary[] = [];
  const keep = (entry: PolicyEntry, cell: CellResult) => {
    const file = writeCell(entry, cell, flags.out, () => bar?.stop());
    rows.push({ cell, file, more: cell.more.map((cx, i) => writeCounterexample(entry, cell, cx, i + 2, flags.out, () => bar?.stop())) });
  };
  const exhaustiveOpts = {
    scope, depth, maxStates, timing: flags.timing, reduction: flags.reduction !== false, allProperties: flags.allProperties, maxMemoryMiB: flags.maxMemory, bitstate, deadline,
    counterexamples: flags.counterexamples, race,
  };
  const workers = flags.workers ?? defaultWorkers(availableParallelism());
  // One policy's exhaustive search with workers to spare: its levels are split
  // over worker threads and this one (checker/split-search.ts), and the random
  // rows, if any, run meanwhile on a cell worker. Several policies: cells on workers.
  const split = workers > 1 && useExhaustive && entries.length === 1;
  try {
    if (split) {
      const entry = entries[0];
      const tasks: CellTask[] = useRandom ? [{ kind: "random", policy: entry.policy.name, module: entry.module, properties: props.map((p) => p.name), opts: randomOpts }] : [];
      const randomRows = runCellTasks(tasks, 1);
      const pool = new SearchPool(workers - 1);
      let search: ReturnType<typeof checkPolicyExhaustively>;
      try {
        bar?.update({ cell: `${entry.policy.name} (exhaustive, ${workers} threads)`, detail: "" });
        search = guardPolicy(entry, () => checkPolicyExhaustively(entry, props, { ...exhaustiveOpts, onProgress, pool }));
      } finally {
        pool.close();
      }
      for (const r of await randomRows) {
        if (!r.ok) {
          if (r.usage) fail(withSeconds(r.message));
          throw new Error(r.message);
        }
        for (const cell of r.cells) keep(entry, cell);
        bar?.increment(props.length);
      }
      for (const cell of search.cells) keep(entry, cell);
      searches.push(search.summary);
      bar?.increment();
    } else if (workers > 1 && total > 1) {
      // The same cells in the same order, computed on worker threads (checker/cell-pool.ts).
      const tasks: CellTask[] = [];
      const owners: PolicyEntry[] = [];
      if (useRandom) {
        for (const entry of entries) {
          tasks.push({ kind: "random", policy: entry.policy.name, module: entry.module, properties: props.map((p) => p.name), opts: randomOpts });
          owners.push(entry);
        }
      }
      if (useExhaustive) {
        for (const entry of entries) {
          tasks.push({ kind: "exhaustive", policy: entry.policy.name, module: entry.module, properties: props.map((p) => p.name), opts: exhaustiveOpts });
          owners.push(entry);
        }
      }
      bar?.update({ cell: `${tasks.length} cells on ${Math.min(workers, tasks.length)} workers` });
      const results = await runCellTasks(tasks, workers, (i) => bar?.increment(tasks[i].kind === "random" ? props.length : 1));
      results.forEach((r, i) => {
        if (!r.ok) {
          if (r.usage) fail(withSeconds(r.message));
          throw new Error(r.message);
        }
        for (const cell of r.cells) keep(owners[i], cell);
        if (r.summary !== null) searches.push(r.summary);
      });
    } else {
      if (useRandom) {
        for (const entry of entries) {
          bar?.update({ cell: `${entry.policy.name} (random)` });
          for (const cell of guardPolicy(entry, () => checkPolicyRandom(entry, props, randomOpts))) keep(entry, cell);
          bar?.increment(props.length);
        }
      }
      if (useExhaustive) {
        for (const entry of entries) {
          bar?.update({ cell: `${entry.policy.name} (exhaustive)`, detail: "" });
          const r = guardPolicy(entry, () => checkPolicyExhaustively(entry, props, { ...exhaustiveOpts, onProgress }));
          for (const cell of r.cells) keep(entry, cell);
          searches.push(r.summary);
          bar?.increment();
        }
      }
    }
  } catch (e) {
    if (e instanceof DeadlineError) fail(withSeconds(e.message));
    throw e;
  } finally {
    bar?.stop();
  }
  const doc = flags.json || flags.html !== undefined ? {
      tool: "dmacheck",
      engine: flags.engine,
      device,
      ...(useRandom ? { random: { seed: flags.seed, runs: flags.runs, maxEvents: flags.maxEvents, swarm: flags.swarm !== false, config: randomConfig, race: randomOpts.race === null || randomOpts.race === undefined ? null : { runs: flags.runs } } } : {}),
      ...(useExhaustive ? { exhaustive: { depth, maxStates, maxMemory: flags.maxMemory ?? null, bitstate: bitstate ?? null, scope, race: race === null ? null : { maxStates: race.maxStates, depth: race.depth }, searches } } : {}),
      results: rows.map(({ cell, file, more }) => ({
        engine: cell.engine, device, policy: cell.policy, property: cell.property, claimed: cell.claimed, verdict: cell.verdict,
        runs: cell.runs, states: cell.states, depth: cell.depth, exhausted: cell.exhausted, bound: cell.bound, pass: cell.pass,
        counterexample: file, length: cell.length, ms: cell.ms, explanation: cell.explanation,
        vacuous: cell.vacuous, coverage: cell.coverage,
        // Only with --counterexamples (so that the default document is unchanged): every counterexample kept, the first one included.
        ...(flags.counterexamples === undefined ? {} : { counterexamples: counterexampleList(cell, file, more) }),
      })),
  } : null;
  if (flags.json) {
    io.out(JSON.stringify(doc, null, 2) + "\n");
  } else {
    io.out(renderMatrix(rows, searches, {
      runs: flags.runs, seed: flags.seed, maxEvents: flags.maxEvents, timing: flags.timing, out: flags.out, scope, depth, maxStates, device,
      coverage: flags.coverage,
      randomMachine: sameMachine(randomConfig, DEFAULT_CONFIG) ? undefined : randomConfig, swarm: flags.swarm !== false,
    }));
  }
  if (flags.html !== undefined) {
    // The page is built from the very document --json prints (cli/report.ts), so `check --html` and `report` agree.
    const { writeCheckHtml } = await import("./report.ts");
    io.err(`${await writeCheckHtml(doc, { html: flags.html, cost: flags.cost, skipCosts: flags.skipCosts })}\n`);
  }
  return rows.some((r) => r.cell.claimed && r.cell.verdict === "violated") ? EXIT_VIOLATION : EXIT_OK;
}

/** `--counterexamples`' list for a result: file, length, kinds and explanation of each counterexample kept. */
function counterexampleList(cell: CellResult, file: string | null, more: readonly string[]) {
  const all = cell.counterexample === null || file === null ? [] : [{ cx: cell.counterexample, file }, ...cell.more.map((cx, i) => ({ cx, file: more[i] }))];
  return all.map(({ cx, file }) => ({ file, length: cx.events.length, kinds: cx.events.map((e) => e.t), explanation: cx.violation.explanation }));
}

/** Writes a violated cell's counterexample; returns its path or null. */
function writeCell(entry: PolicyEntry, cell: CellResult, out: string, stopBar: () => void): string | null {
  if (!cell.counterexample) return null;
  return writeCounterexample(entry, cell, cell.counterexample, 1, out, stopBar);
}

/**
 * Writes the `n`-th counterexample of a cell: `<policy>--<property>.json`
 * (random engine) or `<policy>--<property>.exhaustive.json` for the first,
 * and `.N.json` in place of `.json` for the N-th (--counterexamples).
 */
function writeCounterexample(entry: PolicyEntry, cell: CellResult, counterexample: Counterexample, n: number, out: string, stopBar: () => void): string {
  const name = counterexampleFileName(cell.policy, cell.property);
  const first = join(out, cell.engine === "random" ? name : name.replace(/\.json$/, ".exhaustive.json"));
  const file = n === 1 ? first : first.replace(/\.json$/, `.${n}.json`);
  // A user's module is recorded relative to the counterexample file, so the two can move together.
  const cx = entry.module === null ? counterexample : { ...counterexample, policyModule: relative(dirname(file), resolve(entry.module)) };
  const w = writeCounterexampleFile(file, cx);
  if (!w.ok) {
    stopBar();
    fail(`--out: ${w.error}`);
  }
  return file;
}

/** The exhaustive engine's scope: defaults, then --scope FILE, then the scope flags. */
/**
 * The race pass (checker/matrix.ts racePass): on by default exactly when the
 * exhaustive scope is the default one (no --scope, machine flags or
 * --kmalloc-sizes: a scope of the user's own says what to search), and never
 * with --bitstate; --race and --no-race decide otherwise.
 */
function raceOption(flags: CheckFlags, scope: Scope, bitstate: boolean): { base: ModelConfig; maxStates: number; depth: number } | null {
  if (flags.race === false || bitstate) return null;
  const own = flags.scope !== undefined || flags.kmallocSizes !== undefined || flags.frames !== undefined || flags.cpus !== undefined
    || flags.devices !== undefined || flags.iovaPages !== undefined || flags.maxMappings !== undefined;
  if (flags.race !== true && own) return null;
  return { base: scope.config, maxStates: flags.raceStates ?? DEFAULT_RACE_STATES, depth: flags.depth ?? RACE_DEPTH };
}

function resolveScope(flags: CheckFlags): { scope: Scope; depth: number; maxStates: number } {
  let scope = DEFAULT_SCOPE;
  let depth = DEFAULT_DEPTH;
  let maxStates = DEFAULT_MAX_STATES;
  if (flags.scope !== undefined) {
    const r = readScopeFile(flags.scope);
    if (!r.ok) fail(`--scope ${r.error}`);
    scope = r.value.scope;
    depth = r.value.depth ?? depth;
    maxStates = r.value.maxStates ?? maxStates;
  }
  const config = withMachineFlags(scope.config, flags, "scope");
  // Every live mapping can be unmapped: --max-mappings N raises the unmap slots to N.
  const unmapSlots = flags.maxMappings === undefined ? scope.alphabet.unmapSlots : Math.max(scope.alphabet.unmapSlots, flags.maxMappings);
  // --kmalloc-sizes names the kmalloc buffers: the default alphabet's 64-byte ranges give way to them.
  const ownKmalloc = flags.kmallocSizes !== undefined && scope.alphabet.mapRanges === DEFAULT_SCOPE.alphabet.mapRanges;
  const alphabet = {
    ...scope.alphabet, unmapSlots, kmallocSizes: flags.kmallocSizes ?? scope.alphabet.kmallocSizes, ...(ownKmalloc ? { mapRanges: [] } : {}),
  };
  const ab = alphabetProblem(alphabet);
  if (ab !== null) fail(`scope: alphabet ${ab}`);
  return { scope: { config, alphabet }, depth: flags.depth ?? depth, maxStates: flags.maxStates ?? maxStates };
}

/**
 * A progress callback for the exhaustive engine that shows, at most 4 times
 * a second: depth, states, frontier, states/s and the estimated time left in
 * the current level (the total is unknown until a level adds nothing).
 */
export function progressReporter(show: (detail: string) => void, now: () => number = () => performance.now()): (p: SearchProgress) => void {
  let last = -Infinity;
  return (p) => {
    const t = now();
    if (t - last < 250) return;
    last = t;
    show(progressText(p));
  };
}

export function progressText(p: SearchProgress): string {
  const fmt = (n: number) => n.toLocaleString("en-US");
  const rate = p.ms > 0 ? p.states / (p.ms / 1000) : 0;
  // Time left in this level, at the rate states have been expanded so far.
  const left = p.expanded > 0 ? (p.ms / p.expanded) * (p.levelSize - p.levelDone) : 0;
  const pct = p.levelSize > 0 ? Math.floor((100 * p.levelDone) / p.levelSize) : 0;
  return ` | ${p.scope === undefined ? "" : `${p.scope}: `}depth ${p.depth}, ${fmt(p.states)} states, frontier ${fmt(p.frontier)}, ${fmt(Math.round(rate))} states/s, level ${pct}% (~${Math.ceil(left / 1000)} s left)`;
}

/** `--bitstate BITS` and `--bitstate-hashes K` (SPIN's supertrace; default 3 hashes, as SPIN's pan -k). */
function bitstateFlags(flags: CheckFlags): { bits: number; hashes: number } | undefined {
  if (flags.bitstate === undefined) {
    if (flags.bitstateHashes !== undefined) fail("--bitstate-hashes needs --bitstate BITS");
    return undefined;
  }
  if (flags.bitstate < 8 || flags.bitstate > 32) fail(`--bitstate must be in 8..32 (a bit array of 2^BITS bits), got ${flags.bitstate}`);
  const hashes = flags.bitstateHashes ?? 3;
  if (hashes > 16) fail(`--bitstate-hashes must be in 1..16, got ${hashes}`);
  return { bits: flags.bitstate, hashes };
}

/**
 * The random engine's machine: the scope file's config with --scope (the
 * same machine as the exhaustive engine's), else the random engine's default
 * (DEFAULT_CONFIG); then the machine flags, which `scope` already carries.
 */
function randomMachine(flags: CheckFlags, scope: Scope): ModelConfig {
  if (flags.scope !== undefined) return scope.config;
  return withMachineFlags(DEFAULT_CONFIG, flags, "random engine's machine");
}

/** `base` with the machine flags applied; a machine the model cannot build is a usage error naming `what`. */
function withMachineFlags(base: ModelConfig, flags: CheckFlags, what: string): ModelConfig {
  const config = {
    ...base,
    frames: flags.frames ?? base.frames,
    cpus: flags.cpus ?? base.cpus,
    devices: flags.devices ?? base.devices,
    iovaPages: flags.iovaPages ?? base.iovaPages,
    maxMappings: flags.maxMappings ?? base.maxMappings,
  };
  const bad = configProblem(config);
  if (bad !== null) fail(`${what}: ${bad} (see --frames, --cpus, --devices, --iova-pages, --max-mappings, --scope)`);
  return config;
}

/** Whether two configurations describe the same machine size (what the random engine's header names). */
function sameMachine(a: ModelConfig, b: ModelConfig): boolean {
  return a.frames === b.frames && a.cpus === b.cpus && a.devices === b.devices && a.iovaPages === b.iovaPages && a.maxMappings === b.maxMappings;
}

/** `--iommu KIND`, or undefined when not given. */
export function parseIommuFlag(v: string | undefined): IommuKind | undefined {
  if (v === undefined) return undefined;
  const kind = IOMMU_KINDS.find((k) => k === v);
  if (kind === undefined) fail(`--iommu must be one of ${IOMMU_KINDS.join(", ")}, got ${JSON.stringify(v)}`);
  return kind;
}

/**
 * The policies that run on `iommu` (Policy.iommus): a policy named with
 * --policy that does not is a usage error; from the default set it is left out.
 */
function selectForIommu(entries: PolicyEntry[], iommu: IommuKind, named: boolean): PolicyEntry[] {
  const off = entries.filter((e) => !runsOn(e.policy, iommu));
  if (named && off.length > 0) {
    const p = off[0].policy;
    fail(`--policy: ${p.name} does not run on iommu ${iommu} (it runs on ${(p.iommus ?? []).join(", ")}; see --iommu)`);
  }
  const out = entries.filter((e) => runsOn(e.policy, iommu));
  if (out.length === 0) fail("--policy: no policy selected");
  return out;
}

/** `--guest-memory KIND`: a guest memory region in both the random and the exhaustive configuration. */
function guestMemoryFlag(v: string | undefined): { guestMemory: GuestMemoryKind } | undefined {
  if (v === undefined) return undefined;
  const kind = GUEST_MEMORY_KINDS.find((k) => k === v);
  if (kind === undefined) fail(`--guest-memory must be one of ${GUEST_MEMORY_KINDS.join(", ")}, got ${JSON.stringify(v)}`);
  return { guestMemory: kind };
}

async function selectPolicies(flags: CheckFlags, io: Io): Promise<PolicyEntry[]> {
  const guests = selectGuestPolicies(flags);
  // With only a module, or only --guest/--viommu, given, check just those.
  const defaults = flags.policyModule || guests.length > 0 ? [] : POLICIES;
  const out: PolicyEntry[] = selectByName("--policy", "policy", flags.policy, defaults, findAnyPolicy, knownPolicies())
    .map((policy) => ({ policy, module: null }));
  for (const policy of guests) if (!out.some((e) => e.policy === policy)) out.push({ policy, module: null });
  if (flags.policyModule) {
    await typecheckBeforeLoading(flags.policyModule, "--policy-module", io);
    const loaded = await loadPolicyModule(flags.policyModule);
    if (!loaded.ok) fail(`--policy-module ${loaded.error}`);
    if (out.some((e) => e.policy.name === loaded.policy.name)) fail(`--policy-module ${flags.policyModule}: its name ${JSON.stringify(loaded.policy.name)} is already taken`);
    out.push({ policy: loaded.policy, module: flags.policyModule });
  }
  if (out.length === 0) fail("--policy: no policy selected");
  return out;
}

/**
 * The guest policies --guest and --viommu select: every named guest policy
 * over every named vIOMMU kind (a missing flag: all of its kinds); none when
 * both flags are absent.
 */
function selectGuestPolicies(flags: CheckFlags): Policy[] {
  if (flags.guest === undefined && flags.viommu === undefined) return [];
  const guests = selectByName<GuestKind>("--guest", "guest policy", flags.guest, GUEST_KINDS, (n) => GUEST_KINDS.find((g) => g === n), `known: ${GUEST_KINDS.join(", ")}`);
  const kinds = selectByName<ViommuKind>("--viommu", "vIOMMU kind", flags.viommu, VIOMMU_KINDS, (n) => VIOMMU_KINDS.find((v) => v === n), `known: ${VIOMMU_KINDS.join(", ")}`);
  return guests.flatMap((g) => kinds.map((v) => findAnyPolicy(guestPolicyName(g, v))!));
}

/** The properties --property names; by default every property of the default run, plus vm-confinement when a guest policy is checked. */
function selectProperties(names: string[] | undefined, entries: readonly PolicyEntry[]): Property[] {
  const guest = entries.some((e) => GUEST_POLICIES.includes(e.policy) || BROKEN_GUEST_POLICIES.includes(e.policy) || VM_MORSEL_POLICIES.includes(e.policy));
  // Networking policies (page_pool, MAIO) add the networking properties (consumed-data-integrity, user-confinement).
  const net = entries.some((e) => NET_POLICIES.includes(e.policy) || NET_BROKEN_POLICIES.includes(e.policy));
  const defaults = [...PROPERTIES, ...(guest ? VM_PROPERTIES : []), ...(net ? NET_PROPERTIES : [])];
  return selectByName("--property", "property", names, defaults, findProperty, `known: ${ALL_PROPERTIES.map((p) => p.name).join(", ")}`);
}

/** Runs `f`; an exception from a user's policy module is bad input that names the module. */
export function guardPolicy<T>(entry: PolicyEntry, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof PolicyModuleError) fail(e.message);
    if (entry.module === null || e instanceof DeadlineError || e instanceof UsageError) throw e;
    // The model failed on what the module's handlers did (say, a Kernel service given nonsense).
    fail(`policy module ${entry.module}: the model failed running it: ${describeThrown(e)} (handlers must return DONE, FAIL or a phase, never throw)`);
  }
}
