/**
 * The command line of the bench scripts that study one built-in policy's
 * race scope (bench/commute.ts, bench/cost-split.ts): POLICY [COUNT]
 * [race|device]. A bad policy name, or a device race scope the policy does
 * not have, prints one line and exits 2.
 */
import { findPolicy } from "../model/policies/index.ts";
import { type Policy } from "../model/policy.ts";
import { DEFAULT_SCOPE, raceScopesFor, type Scope } from "../checker/scope.ts";

export interface RaceScopeArgs {
  readonly name: string;
  readonly policy: Policy;
  readonly scope: Scope;
  /** The COUNT argument (states), or undefined. */
  readonly count: string | undefined;
  /** "device race" or "race", for output. */
  readonly scopeName: string;
}

export function raceScopeArgs(script: string, countName: string): RaceScopeArgs {
  const [name, count, which] = process.argv.slice(2);
  const policy = name === undefined ? undefined : findPolicy(name);
  if (name === undefined || policy === undefined) {
    process.stderr.write(`usage: ${script} POLICY [${countName}] [race|device]\n`);
    process.exit(2);
  }
  const scopes = raceScopesFor(policy, DEFAULT_SCOPE.config);
  const scope = which === "device" ? scopes[1] : scopes[0];
  if (scope === undefined) {
    process.stderr.write(`${name} has no device race scope (its race scope has two devices)\n`);
    process.exit(2);
  }
  return { name, policy, scope, count, scopeName: which === "device" ? "device race" : "race" };
}
