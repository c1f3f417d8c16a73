/**
 * dmacheck as a library: the model, the policies and properties, the engines
 * and counterexample replay. The CLI (cli/main.ts) is built on these.
 */
export { DEFAULT_CONFIG, type ModelConfig, configProblem } from "./model/config.ts";
export { type Event, formatEvent } from "./model/events.ts";
export { makeSystem, Stepper, type System } from "./model/system.ts";
export { Observation } from "./model/observation.ts";
export { type State } from "./model/state.ts";
export { fingerprint } from "./model/fingerprint.ts";
export { DONE, FAIL, type Policy, type PropertyName } from "./model/policy.ts";
export { Kernel } from "./model/kernel.ts";
// Constants the Kernel services take (docs/policies.md): pool roles for allocPoolFrames, the flush queue's table tag.
export { ROLE_IO_POOL, ROLE_SHADOW } from "./model/physical-memory.ts";
export { TAG_FQ } from "./model/iommu-page-table.ts";
export { POLICIES, BROKEN_POLICIES, findPolicy, findAnyPolicy } from "./model/policies/index.ts";
export { PROPERTIES, findProperty, type Property } from "./properties/index.ts";
export { type Antecedent } from "./properties/property.ts";
export { Executor } from "./checker/execute.ts";
export { randomCheck } from "./checker/random.ts";
export { CoverageRecorder, isVacuous, type Coverage, type StepObserver } from "./checker/coverage.ts";
export { traceEvents } from "./checker/trace.ts";
export { replayCounterexample } from "./checker/replay.ts";
export { type Counterexample } from "./counterexamples/schema.ts";
export { readCounterexampleFile, decodeCounterexample, encodeCounterexample } from "./counterexamples/file.ts";
