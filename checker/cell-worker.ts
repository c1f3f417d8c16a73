/**
 * The body of a cell worker thread (checker/cell-pool.ts): runs the tasks it
 * is sent, one at a time, and posts each result back.
 */
import { parentPort } from "node:worker_threads";
import { findAnyPolicy } from "../model/policies/index.ts";
import { findProperty } from "../properties/index.ts";
import { type Property } from "../properties/property.ts";
import { UsageError } from "../cli/errors.ts";
import { guardPolicy } from "../cli/check.ts";
import { checkPolicyRandom, checkPolicyExhaustively, type PolicyEntry } from "./matrix.ts";
import { loadPolicyModuleOnce, PolicyModuleError } from "./policy-module.ts";
import { DeadlineError } from "./deadline.ts";
import { type CellTask, type CellTaskResult } from "./cell-pool.ts";

async function entryOf(task: CellTask): Promise<PolicyEntry> {
  if (task.module === null) {
    const policy = findAnyPolicy(task.policy);
    if (policy === undefined) throw new UsageError(`--policy: unknown policy ${JSON.stringify(task.policy)}`);
    return { policy, module: null };
  }
  const loaded = await loadPolicyModuleOnce(task.module);
  if (!loaded.ok) throw new UsageError(`--policy-module ${loaded.error}`);
  return { policy: loaded.policy, module: task.module };
}

function prop(name: string): Property {
  const p = findProperty(name);
  if (p === undefined) throw new UsageError(`--property: unknown property ${JSON.stringify(name)}`);
  return p;
}

async function run(task: CellTask): Promise<CellTaskResult> {
  try {
    const entry = await entryOf(task);
    if (task.kind === "random") return { ok: true, cells: guardPolicy(entry, () => checkPolicyRandom(entry, task.properties.map(prop), task.opts)), summary: null };
    const r = guardPolicy(entry, () => checkPolicyExhaustively(entry, task.properties.map(prop), task.opts));
    return { ok: true, cells: r.cells, summary: r.summary };
  } catch (e) {
    return { ok: false, usage: e instanceof UsageError || e instanceof DeadlineError || e instanceof PolicyModuleError, message: e instanceof Error ? e.message : String(e) };
  }
}

parentPort?.on("message", (m: { i: number; task: CellTask }) => {
  void run(m.task).then((result) => parentPort?.postMessage({ i: m.i, result }));
});
