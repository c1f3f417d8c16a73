/**
 * The cost report (`dmacheck cost`): for each workload and policy, the model's
 * counters per I/O (exact counts, averaged), the estimated nanoseconds per I/O
 * (counts x the cost table) and the ratio to passthrough on the same workload.
 */
import { type CounterName } from "../model/counters.ts";
import { passthrough } from "../model/policies/passthrough.ts";
import { type Policy } from "../model/policy.ts";
import { estimateNs, type CostTable } from "../costs/cost-table.ts";
import { COST_CONFIG, runWorkload, WorkloadError, type Workload } from "./workloads.ts";
import { type ModelConfig } from "../model/config.ts";

export interface CostRow {
  readonly policy: string;
  readonly workload: string;
  /** Every counter, per I/O. */
  readonly counters: Readonly<Record<CounterName, number>>;
  /** Estimated nanoseconds per I/O, to 0.001 ns. */
  readonly nsPerIo: number;
  /** nsPerIo / passthrough's on the same workload; null when passthrough's estimate is 0 (to three decimals). */
  readonly vsPassthrough: number | null;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * Rows workload by workload, policies in the order given. Passthrough is the
 * baseline of every ratio, measured even when it is not among `policies`.
 * `ios` overrides each workload's default number of I/Os.
 */
export function costReport(policies: readonly Policy[], workloads: readonly Workload[], costs: CostTable, ios?: number, cfg: ModelConfig = COST_CONFIG): CostRow[] {
  const rows: CostRow[] = [];
  for (const w of workloads) {
    const n = ios ?? w.ios;
    const measure = (p: Policy) => {
      try {
        const counters = runWorkload(w, p, n, cfg).perIo;
        return { counters, ns: estimateNs(counters, costs) };
      } catch (e) {
        if (e instanceof WorkloadError) throw new WorkloadError(`${p.name} cannot run ${w.name}: ${e.message}`);
        throw e;
      }
    };
    const selected = policies.find((p) => p.name === passthrough.name);
    const base = measure(selected ?? passthrough);
    for (const p of policies) {
      const m = p === selected ? base : measure(p);
      rows.push({
        policy: p.name,
        workload: w.name,
        counters: m.counters,
        nsPerIo: round(m.ns, 3),
        // Against passthrough's estimate as printed: a ratio to an estimate that rounds to 0 is no number.
        vsPassthrough: round(base.ns, 3) > 0 ? round(m.ns / base.ns, 4) : null,
      });
    }
  }
  return rows;
}
