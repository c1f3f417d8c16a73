/**
 * user-confinement: a user process reaches only frames granted to it, and
 * never the kernel's data through memory it shares with the kernel.
 *
 * Granted to the process: its own pages (role user: anonymous memory its
 * page faults allocated) and I/O pool frames the kernel shares with it
 * (role io-pool with F_USER_SHARED: MAIO's pages, mapped into the process
 * and into the NIC's IOMMU domain). The device-side counterpart is
 * page-confinement: a device reaches only frames granted to it.
 *
 * Formally: for every transition whose observation contains a user access
 * reaching frame f (obs.userFrame >= 0: a user-touch, through the CPU's TLB
 * or a walk of the process's tables), in the post-state f has role user, or
 * role io-pool with F_USER_SHARED; and no byte of f holds the kernel's data
 * (a live kernel object, or the kernel's leftovers: leftover-data's
 * contentsAt). Leftovers of several owners in a shared pool frame are the
 * process's and the NIC's (the slab never allocates from a pool frame), so
 * they are not counted.
 *
 * Sources: the memory-segregation seed's MAIO, "a Memory Allocator for I/O
 * which facilitates overhead-free zero-copy networking for user-space
 * applications", whose I/O pages are shared by user, kernel and device and
 * never used by the kernel for anything else (docs/reference/morsels.md);
 * Linux mm/memory.c validate_page_before_insert: vm_insert_page refuses to
 * map anonymous and slab pages into a process, so a page the kernel shares
 * with a process is never one the kernel keeps its own objects in.
 */
import { PAGE_SIZE } from "../model/config.ts";
import { FRAMES } from "../model/geometry.ts";
import {
  contentsName, contentsOf, F_USER_SHARED, frameFlags, frameRole, ROLE_IO_POOL, ROLE_USER, userPageProcess, userSharedProcess,
} from "../model/physical-memory.ts";
import { OWNER_KERNEL } from "../model/objects.ts";
import { type State } from "../model/state.ts";
import { type Antecedent, type Property, type Violation } from "./property.ts";
import { describeFrame, hex } from "./describe.ts";
import { Contents, contentsAt } from "./leftover-data.ts";

/**
 * Whether frame `f` is granted to user process `proc` (0 with one process) in
 * `s`: its own page (role user, aux its process), or I/O memory the kernel
 * shares with it (F_USER_SHARED, granted to `proc`: userSharedProcess).
 */
export function userGranted(s: State, f: number, proc = 0): boolean {
  const fr = s[FRAMES];
  const role = frameRole(fr, f);
  if (role === ROLE_USER) return userPageProcess(fr, f) === proc;
  return role === ROLE_IO_POOL && (frameFlags(fr, f) & F_USER_SHARED) !== 0 && userSharedProcess(fr, f) === proc;
}

/** Who frame `f` is granted to instead, for messages: "granted to process q", or the frame's description. */
function grantedTo(s: State, f: number): string | null {
  const fr = s[FRAMES];
  const role = frameRole(fr, f);
  if (role === ROLE_USER) return `the anonymous page of user process ${userPageProcess(fr, f)}`;
  if (role === ROLE_IO_POOL && (frameFlags(fr, f) & F_USER_SHARED) !== 0) return `I/O memory granted to user process ${userSharedProcess(fr, f)}`;
  return null;
}

const scratch = new Contents();

/** The first byte of frame `f` holding the kernel's data, or -1; `scratch` describes it. */
function firstKernelByte(s: State, maxMappings: number, f: number): number {
  const kernel = contentsOf(OWNER_KERNEL);
  for (let pos = f * PAGE_SIZE; pos < (f + 1) * PAGE_SIZE; pos = scratch.end) {
    contentsAt(s, maxMappings, pos, scratch);
    if (scratch.code === kernel) return pos;
  }
  return -1;
}

/** A user access reaching I/O memory shared with the kernel: only there can the kernel's data come near the process (its own pages hold user data). */
const antecedent: Antecedent = {
  summary: "a user access reaching a frame that is not the process's own page",
  afterMap: false,
  cases: ["user access to shared I/O memory or another frame"],
  context: ["user access to its own page"],
  count(_sys, _pre, _e, obs, post, counts, at): void {
    if (obs.userFrame < 0) return;
    if (frameRole(post[FRAMES], obs.userFrame) === ROLE_USER && userPageProcess(post[FRAMES], obs.userFrame) === obs.userProc) counts[at + 1]++;
    else counts[at]++;
  },
};

export const userConfinement: Property = {
  name: "user-confinement",
  summary: "a user process reaches only its own pages and I/O memory granted to it (not another process's), never the kernel's data there",
  antecedent,
  check(sys, _pre, _e, obs, post): Violation | null {
    const f = obs.userFrame;
    if (f < 0) return null;
    if (!userGranted(post, f, obs.userProc)) {
      const other = sys.cfg.processes !== undefined && sys.cfg.processes > 1 ? grantedTo(post, f) : null;
      return {
        property: "user-confinement",
        frame: f,
        message: other !== null
          ? `user process ${obs.userProc} reached frame ${f}, which is not granted to it: it is ${other}`
          : `the user process reached frame ${f}, which is not granted to it: it is ${describeFrame(post, f)}`,
      };
    }
    const bad = firstKernelByte(post, sys.cfg.maxMappings, f);
    if (bad < 0) return null;
    return {
      property: "user-confinement",
      frame: f,
      message: `the user process reached frame ${f}, shared with it; byte ${hex(bad - f * PAGE_SIZE)} holds ${contentsName(scratch.code)}`,
    };
  },
};
