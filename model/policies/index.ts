/** The built-in policy catalogue, in the order reports list it. */
import { type Policy } from "../policy.ts";
import { passthrough } from "./passthrough.ts";
import { strict } from "./strict.ts";
import { lazy } from "./lazy.ts";

export const POLICIES: readonly Policy[] = [passthrough, strict, lazy];

export function findPolicy(name: string): Policy | undefined {
  return POLICIES.find((p) => p.name === name);
}
