/**
 * `dmacheck/vitest`: assertions for a user's own test suite (vitest or any
 * runner that fails a test on a thrown error).
 *
 *   import { expectHolds, expectViolates } from "dmacheck/vitest";
 *   test("my policy", () => {
 *     expectHolds(myPolicy, ["page-confinement", "iotlb-coherence"]);
 *     const cx = expectViolates(myPolicy, "byte-confinement", { depth: 8 });
 *     expect(cx.events).toHaveLength(2);
 *   });
 *
 * Both run the exhaustive engine (checker/exhaustive.ts) over a scope: the
 * default one (checker/scope.ts DEFAULT_SCOPE, what `dmacheck check` uses)
 * unless the third argument changes its machine, alphabet or bounds. A
 * property that holds within a bound short of the whole space, or that holds
 * only because nothing put it to the test (vacuous, docs/coverage.md), fails
 * expectHolds unless the scope allows it, so that a passing test means what
 * it says.
 */
import { type ModelConfig } from "./model/config.ts";
import { type Policy, type PropertyName } from "./model/policy.ts";
import { formatEvent } from "./model/events.ts";
import { findProperty } from "./properties/index.ts";
import { type Property } from "./properties/property.ts";
import { checkPolicyExhaustively, type CellResult } from "./checker/matrix.ts";
import { policyShapeProblem } from "./checker/policy-module.ts";
import { DEFAULT_SCOPE, type Alphabet, type Scope } from "./checker/scope.ts";
import { type Counterexample } from "./counterexamples/schema.ts";

/** Where and how far to search; every field is optional. */
export interface CheckScope {
  /** The machine: fields replace DEFAULT_SCOPE.config's. */
  readonly config?: Partial<ModelConfig>;
  /** The events tried in every state: fields replace DEFAULT_SCOPE.alphabet's. */
  readonly alphabet?: Partial<Alphabet>;
  /** Longest execution explored (default 40, as `dmacheck check`). */
  readonly depth?: number;
  /** Distinct states before the search stops (default 2,000,000). */
  readonly maxStates?: number;
  /** expectHolds: accept "holds up to the bound" without the whole space explored (default false). */
  readonly allowBounded?: boolean;
  /** expectHolds: accept a property that holds only vacuously (default false). */
  readonly allowVacuous?: boolean;
}

/** One property's verdict from expectHolds. */
export interface Held {
  readonly property: PropertyName;
  /** The scope's whole reachable space was explored: a proof for that scope. */
  readonly exhausted: boolean;
  readonly states: number;
  readonly depth: number;
  readonly vacuous: boolean;
}

function resolveScope(scope: CheckScope): Scope {
  return {
    config: { ...DEFAULT_SCOPE.config, ...scope.config },
    alphabet: { ...DEFAULT_SCOPE.alphabet, ...scope.alphabet },
  };
}

function propertiesOf(names: readonly PropertyName[] | PropertyName): Property[] {
  const list = typeof names === "string" ? [names] : names;
  if (list.length === 0) throw new Error("dmacheck: no property given");
  return list.map((n) => {
    const p = findProperty(n);
    if (p === undefined) throw new Error(`dmacheck: unknown property ${JSON.stringify(n)}`);
    return p;
  });
}

function search(policy: Policy, props: readonly Property[], scope: CheckScope): CellResult[] {
  const problem = policyShapeProblem(policy as unknown as Record<string, unknown>);
  if (problem !== null) throw new Error(`dmacheck: not a policy: ${problem}`);
  return checkPolicyExhaustively({ policy, module: null }, props, {
    scope: resolveScope(scope),
    depth: scope.depth ?? 40,
    maxStates: scope.maxStates ?? 2_000_000,
    timing: false,
    allProperties: true,
  }).cells;
}

function describeCounterexample(cx: Counterexample): string {
  const steps = cx.events.map((e, i) => `  ${i + 1}. ${formatEvent(e)}`).join("\n");
  return `${cx.events.length} events:\n${steps}\n${cx.violation.explanation}`;
}

/**
 * Asserts that `policy` satisfies every property in `properties` on the
 * scope; throws, with the shortest counterexample, if one is violated.
 * Returns what each search established.
 */
export function expectHolds(policy: Policy, properties: readonly PropertyName[] | PropertyName, scope: CheckScope = {}): Held[] {
  const cells = search(policy, propertiesOf(properties), scope);
  const problems: string[] = [];
  for (const c of cells) {
    if (c.verdict === "violated" && c.counterexample !== null) {
      problems.push(`${policy.name} violates ${c.property} after ${describeCounterexample(c.counterexample)}`);
    } else if (c.vacuous && scope.allowVacuous !== true) {
      problems.push(`${policy.name} holds ${c.property} only vacuously: nothing in the scope put it to the test (allowVacuous: true accepts it)`);
    } else if (c.exhausted !== true && scope.allowBounded !== true) {
      problems.push(`${policy.name} holds ${c.property} only up to the search bound (${c.bound}, depth ${c.depth}, ${c.states} states), not over the whole scope (allowBounded: true accepts it)`);
    }
  }
  if (problems.length > 0) throw new Error(`dmacheck: ${problems.join("\n")}`);
  return cells.map((c) => ({ property: c.property, exhausted: c.exhausted === true, states: c.states ?? 0, depth: c.depth ?? 0, vacuous: c.vacuous }));
}

/**
 * Asserts that `policy` violates `property` on the scope; returns the
 * shortest counterexample (dmacheck/counterexample@1, replayable with
 * replayCounterexample), or throws if the property holds.
 */
export function expectViolates(policy: Policy, property: PropertyName, scope: CheckScope = {}): Counterexample {
  const [c] = search(policy, propertiesOf(property), scope);
  if (c.verdict === "violated" && c.counterexample !== null) return c.counterexample;
  const how = c.exhausted === true ? "over the whole scope" : `up to the search bound (${c.bound}, depth ${c.depth}, ${c.states} states)`;
  throw new Error(`dmacheck: expected ${policy.name} to violate ${property}, but it holds ${how}${c.vacuous ? ", vacuously" : ""}`);
}
