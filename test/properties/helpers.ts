// Shared helpers for the property unit tests (test/properties/*.test.ts).
import { type Event } from "../../model/events.ts";
import { type Property } from "../../properties/property.ts";
import { type Runner } from "../model/helpers.ts";

/**
 * Steps `r` through `events` and returns, per step, what `p`'s antecedent
 * counted on it: the cases (then the context) between a guard cell on each
 * side, so that a count written one place off shows.
 */
export function antecedentCounts(p: Property, r: Runner, events: readonly Event[]): number[][] {
  const a = p.antecedent!;
  const n = a.cases.length + (a.context?.length ?? 0);
  return events.map((e) => {
    const s = r.step(e);
    const c = new Float64Array(n + 2);
    a.count(r.sys, s.pre, e, r.obs, s.post, c, 1);
    return Array.from(c);
  });
}
