/**
 * call-progress ("every DMA API call returns once the machine runs on by
 * itself"): no call hangs.
 *
 * A state is stuck when some context (a CPU, or the timer context) has a
 * call in progress (a map, an unmap, or timer work) and none of the moves
 * the machine makes without a driver changes the state:
 *   - the IOMMU executing its next command (`iommu`),
 *   - each context with a call in progress resuming it (`resume`),
 *   - time passing until every armed timer has expired (`tick`).
 * From a stuck state the machine can run those moves forever, each one a
 * no-op, so there is a fair execution (the IOMMU keeps processing, every
 * CPU keeps being scheduled, time keeps passing) in which the call never
 * returns: a hang. A call that waits for something only a new driver call
 * could bring (another CPU's completion wait, a buffer freed) also hangs
 * here: a DMA API call must return without help from calls not yet made.
 *
 * Formally: for every transition (pre, resume, post) that ran a waiting
 * call and changed nothing (post = pre, not refused), pre is not stuck.
 * The resume is the witness: a breadth-first search expands every state
 * with every event, so the first stuck state it reaches is reported at its
 * depth plus one. Only fixpoints are judged: a call whose retries keep
 * changing the state (a livelock) is not reported.
 *
 * Source: the Linux IOMMU drivers spin until their completion is written:
 * drivers/iommu/intel/dmar.c qi_submit_sync polls its wait descriptor's
 * status word; drivers/iommu/amd/iommu.c wait_on_sem (behind
 * iommu_completion_wait) polls the semaphore and gives up only after
 * LOOP_TIMEOUT, reporting a failed IOMMU. So a completion never queued
 * hangs the CPU. Both wait for room before queueing
 * (__iommu_queue_command_sync; qi_submit_sync's free-descriptor loop): what
 * a policy must do with cmdSpace(). See docs/properties.md.
 */
import { type Property, type Violation } from "./property.ts";
import { CALLS, CALL_W, CMDQ } from "../model/geometry.ts";
import { type Event } from "../model/events.ts";
import { Observation } from "../model/observation.ts";
import { type State } from "../model/state.ts";
import { OP_IDLE, OP_NAMES, OP_TIMER, Stepper, type System } from "../model/system.ts";

/** Long enough for every armed timer to expire (timers count milliseconds down). */
const ALL_TIMERS_MS = 1 << 30;
const TICK: Event = { t: "tick", ms: ALL_TIMERS_MS };

/** One stepper per system, with its own observation, and the last state judged (every resume of a state asks the same question). */
interface Judge {
  readonly stepper: Stepper;
  readonly resumes: Event[];
  last: State | null;
  stuck: boolean;
}
const judges = new WeakMap<System, Judge>();

function judgeOf(sys: System): Judge {
  let j = judges.get(sys);
  if (j === undefined) {
    const resumes: Event[] = [];
    for (let c = 0; c < sys.g.contexts; c++) resumes.push({ t: "resume", cpu: c });
    j = { stepper: new Stepper(sys, new Observation()), resumes, last: null, stuck: false };
    judges.set(sys, j);
  }
  return j;
}

/** Whether `s` is stuck: a call in progress, and no move of the machine on its own changes `s`. */
export function stuck(sys: System, s: State): boolean {
  const j = judgeOf(sys);
  if (j.last === s) return j.stuck;
  j.last = s;
  j.stuck = false;
  const calls = s[CALLS];
  let waiting = false;
  for (let c = 0; c < sys.g.contexts; c++) if (calls[c * CALL_W] !== OP_IDLE) waiting = true;
  if (!waiting) return false;
  // The IOMMU moves exactly when a command is queued: its step executes the head, which always changes the queue.
  if (s[CMDQ][1] !== 0) return false;
  const st = j.stepper;
  // resume c runs context c's call when it has one (model/system.ts: the first context at or after c).
  for (let c = 0; c < sys.g.contexts; c++) if (calls[c * CALL_W] !== OP_IDLE && st.step(s, j.resumes[c]) !== s) return false;
  if (st.step(s, TICK) !== s) return false;
  j.stuck = true;
  return true;
}

function contextName(sys: System, c: number): string {
  return c === sys.g.timerCtx ? "the timer context" : `cpu${c}`;
}

export const callProgress: Property = {
  name: "call-progress",
  summary: "every DMA API call returns once the IOMMU, the CPUs and the timers run on by themselves (no hang)",
  antecedent: {
    summary: "a call was resumed and still had to wait",
    cases: ["resumed call still waiting"],
    count(_sys, pre, e, obs, post, counts, at): void {
      if (e.t === "resume" && post === pre && !obs.noop) counts[at]++;
    },
  },
  check(sys, pre, e, obs, post): Violation | null {
    if (e.t !== "resume" || post !== pre || obs.noop) return null;
    if (!stuck(sys, pre)) return null;
    const calls = pre[CALLS];
    const hung: string[] = [];
    for (let c = 0; c < sys.g.contexts; c++) {
      const op = calls[c * CALL_W];
      if (op === OP_IDLE) continue;
      const what = op === OP_TIMER ? OP_NAMES[op] : `${OP_NAMES[op]} of mapping #${calls[c * CALL_W + 2]}`;
      hung.push(`${contextName(sys, c)}'s ${what} (phase ${calls[c * CALL_W + 1]})`);
    }
    return {
      property: "call-progress",
      message: `${hung.join(" and ")} never return${hung.length > 1 ? "" : "s"}: resumed, ${hung.length > 1 ? "they wait" : "it waits"} again, the IOMMU's command queue is empty, and no resume or timer changes anything (a hang)`,
    };
  },
};
