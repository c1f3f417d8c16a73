// Race-scope cost per policy: node tmp-bench/race.ts NAMES MAXSTATES [variant]
import { exhaustiveCheck } from "../checker/exhaustive.ts";
import { makeSystem } from "../model/system.ts";
import { POLICIES } from "../model/policies/index.ts";
import { PROPERTIES } from "../properties/index.ts";
import { alphabetEvents, DEFAULT_SCOPE, type Scope } from "../checker/scope.ts";
const names = process.argv[2].split(",");
const maxStates = Number(process.argv[3]);
const variant = process.argv[4] ?? "full";
const PER_DEVICE = new Set(["shadow", "damn", "vfio", "morsel", "morsel-views", "viommu", "coiommu"]);
for (const name of names) {
  const policy = POLICIES.find((p) => p.name === name)!;
  const devices = variant === "full" && PER_DEVICE.has(name) ? 2 : 1;
  const scope: Scope = {
    config: { ...DEFAULT_SCOPE.config, cpus: 2, maxMappings: 2, devices, frames: 12 },
    alphabet: variant === "small"
      ? { ...DEFAULT_SCOPE.alphabet, unmapSlots: 2, kmallocSizes: [64], pageSizes: [8192], directions: ["to-device"], kernelSizes: [], dmaOffsets: [0] }
      : { ...DEFAULT_SCOPE.alphabet, unmapSlots: 2, kmallocSizes: [64], pageSizes: [4096, 8192] },
  };
  const alphabet = alphabetEvents(scope);
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const r = exhaustiveCheck(makeSystem(scope.config, policy), PROPERTIES, alphabet, { depth: 60, maxStates, onProgress: () => { const m = process.memoryUsage().rss; if (m > peak) peak = m; } });
  console.log(JSON.stringify({ policy: name, variant, devices, events: alphabet.length, states: r.states, transitions: r.transitions, depth: r.depth, stopped: r.stopped, s: +(r.ms / 1000).toFixed(1), sps: Math.round(r.states / r.ms * 1000), bps: +r.bytesPerState.toFixed(1), rssDeltaBps: Math.round((peak - rss0) / r.states), found: r.outcomes.map((o) => o.events?.length ?? null).join(",") }));
}
