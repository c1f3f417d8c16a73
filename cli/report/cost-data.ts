/**
 * The cost tables the report draws as charts: ns per I/O of each policy on
 * each workload, the morsel-vs-vfio map and unmap costs by buffer size, and
 * the struct-page metadata of each backing scheme (docs/costs.md,
 * docs/morsels.md, docs/memory-metadata.md).
 *
 * From `--cost FILE` (repeatable): documents `dmacheck cost --json`, `cost
 * --experiment morsel-vs-vfio --json` and `cost --experiment metadata --json`
 * print, each validated (one-line error, exit 2). Without `--cost`, computed
 * here with the default cost table (costs/default-costs.json): the workloads
 * for the checked built-in policies on the AMD v1 cost machine, and both
 * experiments. Charts for a table that is not given are left out.
 */
import { Schema } from "effect";
import { decodeJson, readJsonFile } from "../../counterexamples/decode-json.ts";
import { defaultCosts, DEFAULT_COSTS_FILE } from "../../costs/cost-table.ts";
import { costReport } from "../../checker/cost-report.ts";
import { morselVsVfio } from "../../checker/morsel-vs-vfio.ts";
import { DEFAULT_HOST_BYTES, metadataReport } from "../../checker/experiments/metadata.ts";
import { COST_CONFIG, WORKLOADS } from "../../checker/workloads.ts";
import { POLICIES } from "../../model/policies/index.ts";
import { fail } from "../errors.ts";

const num = (expected: string, ok: (n: number) => boolean) => Schema.Number.check(Schema.makeFilter((n: number) => ok(n), { expected }));
const NonNegative = num("a non-negative number", (n) => Number.isFinite(n) && n >= 0);

const WorkloadRow = Schema.Struct({ policy: Schema.String, workload: Schema.String, nsPerIo: NonNegative, vsPassthrough: Schema.NullOr(NonNegative) });
const ExperimentRow = Schema.Struct({ policy: Schema.String, bytes: NonNegative, op: Schema.Literals(["map", "unmap"]), nsEstimate: NonNegative, measured: Schema.Boolean });
const MetadataRow = Schema.Struct({ scheme: Schema.String, hostBytes: NonNegative, metadataBytes: NonNegative, percent: NonNegative });

const WorkloadsDoc = Schema.Struct({ rows: Schema.Array(WorkloadRow) });
const ExperimentDoc = Schema.Struct({ experiment: Schema.Literal("morsel-vs-vfio"), rows: Schema.Array(ExperimentRow) });
const MetadataDoc = Schema.Struct({ experiment: Schema.Literal("metadata"), rows: Schema.Array(MetadataRow) });

export interface ReportCosts {
  /** Where the numbers come from, in words. */
  readonly source: string;
  readonly workloads: readonly (typeof WorkloadRow.Type)[] | null;
  readonly morselVsVfio: readonly (typeof ExperimentRow.Type)[] | null;
  readonly metadata: readonly (typeof MetadataRow.Type)[] | null;
}

/** Reads `--cost` files; each is one of the three documents, told apart by its `experiment` field. */
export function readCostFiles(files: readonly string[]): ReportCosts {
  let workloads: ReportCosts["workloads"] = null, mvv: ReportCosts["morselVsVfio"] = null, metadata: ReportCosts["metadata"] = null;
  for (const f of files) {
    const r = readJsonFile(f);
    if (!r.ok) fail(`--cost ${r.error}`);
    const v = r.value;
    const experiment = typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>).experiment : undefined;
    const decode = <S extends Schema.Top>(s: S) => {
      const d = decodeJson(s, v, f, "ignore");
      if (!d.ok) fail(`--cost ${d.error}`);
      return d.value as S["Type"];
    };
    if (experiment === undefined) workloads = decode(WorkloadsDoc).rows;
    else if (experiment === "morsel-vs-vfio") mvv = decode(ExperimentDoc).rows;
    else if (experiment === "metadata") metadata = decode(MetadataDoc).rows;
    else fail(`--cost ${f}: $.experiment: the report draws the workloads, morsel-vs-vfio and metadata tables, got ${JSON.stringify(experiment)}`);
  }
  return { source: `--cost ${files.join(", ")}`, workloads, morselVsVfio: mvv, metadata };
}

/** The default tables, computed: the workloads for `policyNames` that are built-in cost policies, and both experiments. */
export function defaultCostData(policyNames: readonly string[]): ReportCosts {
  const costs = defaultCosts();
  const policies = POLICIES.filter((p) => policyNames.includes(p.name));
  return {
    source: `computed with ${DEFAULT_COSTS_FILE} (dmacheck cost; AMD v1 cost machine)`,
    workloads: policies.length === 0 ? null : costReport(policies, WORKLOADS, costs, undefined, COST_CONFIG),
    morselVsVfio: morselVsVfio(costs),
    metadata: metadataReport(DEFAULT_HOST_BYTES).rows,
  };
}
