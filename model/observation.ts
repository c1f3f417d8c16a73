/**
 * What one step did, for properties, cost accounting and traces. The hot path
 * reuses one Observation per execution (reset at each step); fields are flat
 * numbers and typed arrays. Human-readable notes are recorded only when
 * `detail` is on (replay and rendering), never in checking runs.
 */
import { NUM_COUNTERS } from "./counters.ts";

/** How a device access segment was translated. */
export const SRC_NONE = 0, SRC_PASSTHROUGH = 1, SRC_WALK = 2, SRC_IOTLB = 3, SRC_PDEC_WALK = 4, SRC_ATC = 5, SRC_FORGED = 6;
export const SOURCE_NAMES = [
  "no translation", "identity mapping (passthrough)", "page walk", "IOTLB entry", "page walk from a cached directory entry",
  "translated request from its ATC", "forged translated request",
];

/** Why an access segment failed (an IO page fault or abort). */
export const FAULT_NONE = 0, FAULT_NOT_PRESENT = 1, FAULT_PERMISSION = 2, FAULT_BLOCKED = 3, FAULT_NO_MEMORY = 4,
  FAULT_ACS_TB = 5, FAULT_ATS_DISABLED = 6;
export const FAULT_NAMES = [
  "", "IO page fault (not present)", "IO page fault (permission)", "device blocked", "master abort (no such memory)",
  "translated request blocked (ACS Translation Blocking)", "translated request rejected (ATS not enabled)",
];

export const MAX_SEGS = 8;

/** Resources a step can run out of (Observation.short bits), for coverage's "missing resource" (checker/coverage.ts). */
export const SHORT_FRAMES = 1, SHORT_IOVA = 2, SHORT_OBJECTS = 4, SHORT_MAPPINGS = 8;
export const SHORT_NAMES = ["frames", "IOVA pages", "object slots", "mapping slots"];

export interface FrameNote {
  readonly frame: number;
  readonly text: string;
}

export class Observation {
  /** Counter increments of this step (a plain array: zeroing it is a short loop, see reset). */
  readonly counters: number[] = new Array<number>(NUM_COUNTERS).fill(0);
  /** 0 when the event applied; otherwise a no-op reason (text in `reason`). */
  noop = false;
  reason = "";
  /** Device access performed this step (dev < 0: none). */
  dev = -1;
  write = false;
  iova = 0;
  len = 0;
  nseg = 0;
  readonly segIovaPfn = new Float64Array(MAX_SEGS);
  readonly segFrame = new Int32Array(MAX_SEGS);
  readonly segOffset = new Int32Array(MAX_SEGS);
  readonly segLen = new Int32Array(MAX_SEGS);
  readonly segSource = new Int8Array(MAX_SEGS);
  /** Fault that stopped the access, if any, and at which IOVA page. */
  fault = FAULT_NONE;
  faultIovaPfn = 0;
  /** Frame a kernel-read reached through the direct map this step (-1: none, or the read faulted). */
  kernelFrame = -1;
  /** Frame the user process reached this step (user-touch, through its TLB or a walk; -1: none). */
  userFrame = -1;
  /**
   * Frame a vCPU of the VM reached this step (guest-access through the EPT,
   * model/vm-ept.ts; -1: none, or an EPT violation), the guest-physical
   * window page, whether it wrote, the morsel (primary, x86-64) table whose
   * entry the EPT translation mirrors, and whether it came from the EPT TLB.
   */
  guestFrame = -1;
  guestPage = 0;
  guestWrite = false;
  guestPrimary = -1;
  guestViaTlb = false;
  /** The process of that user access (model/mmu.ts processOf; 0 with one process). */
  userProc = 0;
  /** The DMA API handler run this step (OP_MAP, OP_UNMAP, OP_TIMER of model/system.ts; 0: none), the phase it ran from and what it returned. */
  handlerOp = 0;
  handlerPhase = 0;
  handlerResult = 0;
  /** SHORT_* bits: resources an allocation of this step found exhausted (kept when the step is rolled back). */
  short = 0;
  /** Detail recording (replay only). */
  detail = false;
  readonly notes: string[] = [];
  readonly frameNotes: FrameNote[] = [];

  reset(): void {
    const c = this.counters;
    for (let i = 0; i < c.length; i++) c[i] = 0;
    this.noop = false;
    this.reason = "";
    this.dev = -1;
    this.nseg = 0;
    this.fault = FAULT_NONE;
    this.kernelFrame = -1;
    this.userFrame = -1;
    this.guestFrame = -1;
    this.userProc = 0;
    this.handlerOp = 0;
    this.short = 0;
    if (this.detail) {
      this.notes.length = 0;
      this.frameNotes.length = 0;
    }
  }

  /** Marks the event as a no-op. */
  skip(reason: string): void {
    this.noop = true;
    this.reason = reason;
  }

  note(text: string): void {
    if (this.detail) this.notes.push(text);
  }

  /** Records what happened to a frame, as a verb phrase completing "frame 7 has ..."
   * (e.g. "held a kmalloc-64 object of the kernel at +0x40"), for "... since step 5". */
  frameNote(frame: number, text: string): void {
    if (this.detail) this.frameNotes.push({ frame, text });
  }
}
