/**
 * dmacheck command line: check, replay, cost, list. `main(argv, io)` runs it
 * in-process (bin/dmacheck.js with the process's streams; tests with captured
 * ones) and returns the exit status.
 * Bad input: one line on stderr, exit 2. See cli/errors.ts.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { guarded, UsageError } from "./errors.ts";
import { type Io } from "./io.ts";
import { FLAG_LIMITS } from "../checker/limits.ts";
// Each command's module (and with it the model) is imported when the command
// runs, so that `--help` and argument errors start without loading it.

/** A positive integer up to `max` (checker/limits.ts FLAG_LIMITS; docs/limits.md). */
function positiveInt(flag: string, max: number = 1e9) {
  return (v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max) throw new InvalidArgumentError(`${flag} must be an integer in 1..${max}, got ${JSON.stringify(v)}`);
    return Number(v);
  };
}
/** Seconds, a positive decimal up to the limit. */
function seconds(flag: keyof typeof FLAG_LIMITS) {
  return (v: string): number => {
    const max = FLAG_LIMITS[flag];
    if (!/^\d+(\.\d+)?$/.test(v) || !(Number(v) > 0) || Number(v) > max) throw new InvalidArgumentError(`${flag} must be a number of seconds in (0, ${max}], got ${JSON.stringify(v)}`);
    return Number(v);
  };
}
const limited = (flag: keyof typeof FLAG_LIMITS) => positiveInt(flag, FLAG_LIMITS[flag]);
function int32(flag: string) {
  return (v: string): number => {
    if (!/^-?\d+$/.test(v) || Math.abs(Number(v)) > 2 ** 31 - 1) throw new InvalidArgumentError(`${flag} must be an integer, got ${JSON.stringify(v)}`);
    return Number(v);
  };
}
function sizeList(flag: string) {
  return (v: string): number[] => {
    const parts = list(v);
    if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 8192)) {
      throw new InvalidArgumentError(`${flag} must be comma-separated sizes in 1..8192, got ${JSON.stringify(v)}`);
    }
    return parts.map(Number);
  };
}
/** A repeatable option's values, in the order given. */
function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}
function list(v: string): string[] {
  return v.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}

/** A fresh program per run (commander keeps parsed state on it); actions store their exit status in `status`. */
function buildProgram(io: Io, status: { code: number }): Command {
  const program = new Command()
    .name("dmacheck")
    .description("Model and property checker for how operating systems share memory with devices (IOMMU, DMA API, mapping policies).")
    .version("0.1.0")
    .exitOverride()
    .configureOutput({ outputError: () => {}, writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showSuggestionAfterError(false)
    .allowExcessArguments(false);

  program
    .command("check")
    .description("check policies against properties and print the policy x property matrix")
    .option("--policy <names>", "comma-separated policies (default: every built-in policy)", list)
    .option("--property <names>", "comma-separated properties (default: all)", list)
    .option("--device <attrs>", "device attributes: trusted or untrusted, ats, acs-tb (comma-separated; default trusted)", list)
    .option("--guest <policies>", "guest policies: the guest's own DMA policy, strict, lazy or passthrough, over each --viommu kind (comma-separated; default all three when --viommu is given)", list)
    .option("--viommu <kinds>", "vIOMMU kinds for the guest policies: emulated, nested, virtio (comma-separated; default all three when --guest is given)", list)
    .option("--guest-memory <kind>", "add a guest memory region: ordinary (in the direct map), devdax (pageless) or guest-memfd (no direct map)")
    .option("--iommu <kind>", "the IOMMU: amd-v1 (AMD IOMMU v1 tables, the default) or vtd (Intel VT-d); overrides a scope file's config.iommu")
    .addOption(new Option("--engine <engine>", "random (fast-check search), exhaustive (breadth-first search of a small scope) or both").default("both").choices(["random", "exhaustive", "both"]))
    .addOption(new Option("--runs <n>", "random event sequences per cell").default(10000).argParser(limited("--runs")))
    .addOption(new Option("--seed <s>", "random seed").default(42).argParser(int32("--seed")))
    .addOption(new Option("--max-events <n>", "longest generated event sequence").default(24).argParser(limited("--max-events")))
    .option("--path <path>", "fast-check replay path (with the same --seed), as recorded in a counterexample's found.path")
    .addOption(new Option("--depth <k>", "exhaustive: longest execution explored (default 40; each race search: 1000, so --race-states bounds it)").argParser(limited("--depth")))
    .addOption(new Option("--max-states <n>", "exhaustive: stop after this many distinct states (default 2000000)").argParser(limited("--max-states")))
    .option("--all-properties", "exhaustive: search until every property is decided, not only the claimed ones")
    .addOption(new Option("--max-memory <MiB>", "exhaustive: stop before the visited set and the search tree pass this many MiB").argParser(limited("--max-memory")))
    .addOption(new Option("--bitstate <bits>", "exhaustive: bitstate hashing (SPIN supertrace) in a 2^bits-bit array, 8..32, for scopes too large to exhaust").argParser(positiveInt("--bitstate")))
    .addOption(new Option("--bitstate-hashes <k>", "exhaustive: bits set per state with --bitstate (default 3)").argParser(positiveInt("--bitstate-hashes")))
    .option("--scope <file>", "a scope file (JSON: config, alphabet, depth, maxStates; see docs/exhaustive.md); its config is both engines' machine")
    .addOption(new Option("--frames <n>", "both engines' machine: physical frames").argParser(positiveInt("--frames")))
    .addOption(new Option("--cpus <n>", "both engines' machine: CPUs").argParser(positiveInt("--cpus")))
    .addOption(new Option("--devices <n>", "both engines' machine: devices").argParser(positiveInt("--devices")))
    .addOption(new Option("--iova-pages <n>", "both engines' machine: IOVA pages per domain").argParser(positiveInt("--iova-pages")))
    .addOption(new Option("--max-mappings <n>", "both engines' machine: live DMA mappings at once").argParser(positiveInt("--max-mappings")))
    .option("--no-swarm", "random engine: draw every sequence with the plain event weights, on every CPU and device (no swarm testing)")
    .addOption(new Option("--kmalloc-sizes <sizes>", "exhaustive scope: comma-separated kmalloc buffer sizes in the alphabet").argParser(sizeList("--kmalloc-sizes")))
    .option("--json", "print one JSON document on stdout")
    .option("--coverage", "also print what each search exercised: events applied and no-ops, policy handlers, each property's antecedent (docs/coverage.md)")
    .option("--out <dir>", "directory for counterexample files", "dmacheck-out")
    .option("--policy-module <path>", "check a policy of your own: the default export of a .js or .ts module")
    .option("--no-timing", "report 0 for wall-clock times, so output depends only on the seed")
    .addOption(new Option("--workers <n>", "worker threads for the cells, or with one policy for its exhaustive searches (default: the cores, at most 2; 1: no worker threads)").argParser(limited("--workers")))
    .addOption(new Option("--time-limit <seconds>", "stop with an error once the engines have run this long (wall clock; default: no limit)").argParser(seconds("--time-limit")))
    .option("--no-reduction", "exhaustive: no symmetry reduction (interchangeable mapping slots and CPUs; see docs/exhaustive.md)")
    .option("--race", "exhaustive: also search the race scope (2 CPUs, 2 unmappable mappings, multi-page buffers) after a scope of your own; on by default with the default scope")
    .option("--no-race", "exhaustive: no race-scope pass after the main search")
    .addOption(new Option("--race-states <n>", `exhaustive: distinct states of each policy's race-scope search (default ${"100000"})`).argParser(limited("--race-states")))
    .addOption(new Option("--counterexamples <n>", "keep up to N counterexamples per violated cell, distinct by their sequence of event kinds (default 1); the N-th is written as <name>.N.json").argParser(limited("--counterexamples")))
    .option("--html <file>", "also write a self-contained HTML report: matrix, step-through counterexamples, cost charts (docs/report.md)")
    .option("--cost <file>", "with --html: chart this `dmacheck cost --json` document (workloads, --experiment morsel-vs-vfio or metadata; repeatable) instead of computing the default tables", collect)
    .option("--skip-costs", "with --html: no cost charts")
    .action(async (opts) => {
      const { runCheck } = await import("./check.ts");
      status.code = await runCheck(opts, io);
    });

  program
    .command("replay")
    .description("re-execute a counterexample file and explain it; exit 0 if the violation reproduces, 1 if not")
    .argument("<file>", "counterexample file (dmacheck/counterexample@1)")
    .option("--json", "print the trace as JSON (with --diff: each step's changes, and the state at boot, as records)")
    .addOption(new Option("--diff", "print what each step changed in the decoded state: records added (+), removed (-) and changed (~), one line each (docs/state.md)").conflicts("vitest"))
    .addOption(new Option("--vitest", "print a vitest test that replays it").conflicts("json"))
    .option("--itf <out>", "also write the trace, a decoded state per step, to OUT in the Informal Trace Format (Apalache/Quint ITF JSON)")
    .action(async (file: string, opts) => {
      const { runReplay } = await import("./replay.ts");
      status.code = await runReplay(file, opts, io);
    });

  program
    .command("report")
    .description("write the HTML report of a `dmacheck check --json` document (docs/report.md)")
    .argument("<result>", "the JSON document `dmacheck check --json` printed")
    .option("--html <file>", "where to write the page (one self-contained file, works offline)")
    .option("--cost <file>", "chart this `dmacheck cost --json` document (workloads, --experiment morsel-vs-vfio or metadata; repeatable) instead of computing the default tables", collect)
    .option("--skip-costs", "no cost charts")
    .action(async (file: string, opts) => {
      const { runReport } = await import("./report.ts");
      status.code = await runReport(file, opts, io);
    });

  program
    .command("list")
    .description("list built-in policies or properties")
    .argument("[what]", "policies or properties", "all")
    .action(async (what: string) => {
      const { runList } = await import("./list.ts");
      status.code = runList(what, io);
    });

  program
    .command("cost")
    .description("counters and estimated nanoseconds per I/O of each policy on driver workloads (docs/costs.md)")
    .option("--workload <names>", "comma-separated workloads: net-rx, net-tx, nvme-read (default: all)", list)
    .option("--policy <names>", "comma-separated policies (default: every built-in policy)", list)
    .option("--costs <file>", "a cost table (JSON, dmacheck/costs@1) whose counters replace the defaults")
    .option("--iommu <kind>", "the IOMMU the workloads and the morsel-vs-vfio, net and vm experiments run on: amd-v1 (default) or vtd (Intel VT-d)")
    .addOption(new Option("--ios <n>", "I/Os per workload (default: 1000 for net-rx and net-tx, 250 for nvme-read)").argParser(limited("--ios")))
    .option("--json", "print one JSON document on stdout")
    .option("--experiment <name>", "run an experiment instead of the workloads: morsel-vs-vfio (docs/morsels.md), metadata (docs/memory-metadata.md), vm (docs/virtualisation.md), net (docs/costs.md)")
    .option("--host-size <size>", "--experiment metadata: host memory size, e.g. 1TiB (default), 512GiB, 4096")
    .action(async (opts) => {
      const { runCost } = await import("./cost.ts");
      status.code = runCost(opts, io);
    });
  return program;
}

/** Runs `dmacheck ARGV...` (the arguments after the program name); returns the exit status. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  return guarded(async () => {
    if (argv.length === 0) throw new UsageError("missing command: check, replay, report, cost or list (see dmacheck --help)");
    const status = { code: 0 };
    try {
      await buildProgram(io, status).parseAsync([...argv], { from: "user" });
    } catch (e) {
      if (e instanceof CommanderError) {
        if (e.exitCode === 0 || e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return 0;
        // Commander's messages start with "error: "; keep one line.
        throw new UsageError(e.message.replace(/^error: /, "").split("\n")[0]);
      }
      throw e;
    }
    return status.code;
  }, io);
}
