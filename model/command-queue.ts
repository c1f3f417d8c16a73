/**
 * The IOMMU command buffer (AMD) or invalidation queue (VT-d): a ring of
 * 16-byte commands or descriptors that software appends and the IOMMU
 * executes asynchronously, one `iommu` event per command.
 * Software learns that earlier commands ran through COMPLETION_WAIT, whose
 * execution stores a value to a semaphore that the waiting context polls
 * (Linux drivers/iommu/amd/iommu.c wait_on_sem; older kernels used a
 * per-waiter semaphore as this model does, one per context).
 *
 * Layout: cmdq[0] = 0 (reserved), cmdq[1] = count, then the pending commands
 * oldest first (4 words per command, bit-exact data[0..3]), then one
 * semaphore word per context. The hardware ring's head and tail positions
 * carry no meaning for isolation, so the model keeps the pending commands
 * packed from the start: equal queues are equal words.
 *
 * On VT-d (g.vtd) the same services queue 128-bit invalidation descriptors
 * (formats/vtd-descriptor.ts), as Linux drivers/iommu/intel/cache.c
 * cache_tag_flush_range and dmar.c qi_submit_sync do: a page-selective IOTLB
 * invalidation of the aligned power-of-two block covering the range (AM),
 * with IH when the caller keeps the paging-structure caches (pde false), or
 * a domain-selective one above the hardware's maximum AM (VTD_MAMV); then
 * the device-TLB invalidation of the same block with ATS (Linux puts IOTLB
 * cache tags before device-TLB tags: cache_tag_assign); the wait is an
 * invalidation wait descriptor whose status write sets the context's word.
 */
import { C } from "./counters.ts";
import { CMDQ, CMD_W } from "./geometry.ts";
import { type Observation } from "./observation.ts";
import { type Tx, type Words, moveWords, zeroWords } from "./state.ts";
import {
  buildCompletionWait, buildInvalidateAll, buildInvalidateIommuPages, buildInvalidateIotlbPages, CMD_COMPL_WAIT, CMD_INV_IOMMU_PAGES,
  CMD_INV_IOTLB_PAGES,
  cmdDomainId, cmdOpcode, describeCommand, invRangeFirstPfn, invRangePages,
} from "./formats/amd-command.ts";
import { invalidateRange } from "./iotlb.ts";
import { atsEnabled, invalidateAtc } from "./iommu.ts";
import { DTE } from "./geometry.ts";
import {
  buildDevIotlbInv, buildInvWait, buildIotlbInv, descDid, descGran, descType, describeDescriptor, devIotlbFirstPfn, devIotlbPages, devIotlbSid,
  GRAN_DOMAIN, GRAN_GLOBAL, GRAN_PAGE, iotlbAm, iotlbFirstPfn, iotlbIh, iwdStatusAddr, iwdStatusData, iwdStatusWrite, MAX_AGAW_PFN_WIDTH, psiAligned,
  QI_CC_TYPE, QI_DIOTLB_TYPE, QI_DONE, QI_IOTLB_TYPE, QI_IWD_TYPE, VTD_MAMV, CC_GRAN_DEVICE,
} from "./formats/vtd-descriptor.ts";
import { vtdInvalidateContextCache } from "./vtd-context.ts";

/** One line for a queued command or descriptor, in the IOMMU's own terms. */
export function describeQueued(vtd: boolean, d0: number, d1: number, d2: number, d3: number): string {
  return vtd ? describeDescriptor(d0 >>> 0, d1 >>> 0, d2 >>> 0, d3 >>> 0) : describeCommand(d0 >>> 0, d1 >>> 0, d2 >>> 0, d3 >>> 0);
}

/** Fictional kernel address of context i's completion semaphore: SEM_BASE + 8i. */
export const SEM_BASE = 0x7fff0000;

export function cmdCount(q: Words): number {
  return q[1];
}
export function cmdSpace(tx: Tx): number {
  return tx.g.cfg.cmdQueueEntries - tx.c[CMDQ][1];
}
function semOffset(tx: Tx, ctx: number): number {
  return 2 + tx.g.cfg.cmdQueueEntries * CMD_W + ctx;
}

function push(tx: Tx, d: readonly number[]): boolean {
  const n = tx.g.cfg.cmdQueueEntries;
  if (tx.c[CMDQ][1] >= n) return false;
  const q = tx.w(CMDQ);
  const at = 2 + q[1] * CMD_W;
  q[at] = d[0] | 0;
  q[at + 1] = d[1] | 0;
  q[at + 2] = d[2] | 0;
  q[at + 3] = d[3] | 0;
  q[1]++;
  return true;
}

/** Domain ID of domain index `dom` (0 is kept unused, as AMD and VT-d reserve it). */
export function domainId(dom: number): number {
  return dom + 1;
}

/**
 * Commands one invalidation of `dom` takes: INVALIDATE_IOMMU_PAGES, plus
 * INVALIDATE_IOTLB_PAGES for the device's own ATC when ATS is enabled (Linux
 * drivers/iommu/amd/iommu.c domain_flush_pages flushes the device IOTLBs of
 * ATS-enabled devices right after the IOMMU's, in the same batch).
 */
export function invalidationCommands(tx: Tx, dom: number): number {
  return atsEnabled(tx.c[DTE], dom, tx.g.vtd) ? 2 : 1;
}

/**
 * Queues INVALIDATE_IOMMU_PAGES for [first, first+pages) of `dom`, and with
 * `atc` (the default) the device's ATC right after it, with ATS.
 */
export function queueInvalidatePages(tx: Tx, dom: number, first: number, pages: number, pde: boolean, obs: Observation, atc = true): boolean {
  if (cmdSpace(tx) < (atc ? invalidationCommands(tx, dom) : 1)) return false;
  if (tx.g.vtd) {
    // cache_tag_flush_range: PSI with AM when the aligned block's mask is at most MAMV, else DSI; IH = !pde.
    const { addrPfn, mask } = psiAligned(first, pages);
    const d = mask > VTD_MAMV ? buildIotlbInv(GRAN_DOMAIN, domainId(dom)) : buildIotlbInv(GRAN_PAGE, domainId(dom), addrPfn, mask, !pde);
    push(tx, d);
    obs.counters[C.iotlbInvCmds]++;
    obs.counters[C.iotlbInvPages] += mask > VTD_MAMV ? tx.g.winPages : Math.min(2 ** mask, tx.g.winPages);
    if (obs.detail) obs.note(`queued ${describeDescriptor(d[0], d[1], d[2], d[3])}`);
    if (atc && atsEnabled(tx.c[DTE], dom, true)) queueAtcInvalidation(tx, dom, first, pages, obs);
    return true;
  }
  const cmd = buildInvalidateIommuPages(domainId(dom), first, pages, pde);
  push(tx, cmd);
  obs.counters[C.iotlbInvCmds]++;
  obs.counters[C.iotlbInvPages] += Math.min(invRangePages(cmd[2] >>> 0, cmd[3] >>> 0), tx.g.winPages);
  if (obs.detail) obs.note(`queued ${describeCommand(cmd[0] >>> 0, cmd[1] >>> 0, cmd[2] >>> 0, cmd[3] >>> 0)}`);
  if (atc && atsEnabled(tx.c[DTE], dom, tx.g.vtd)) queueAtcInvalidation(tx, dom, first, pages, obs);
  return true;
}

/**
 * Queues INVALIDATE_IOTLB_PAGES for [first, first+pages) of device `dev`'s
 * ATC on its own (a policy choosing the order of the IOMMU's and the
 * device's invalidation). True, queueing nothing, when ATS is not enabled
 * for `dev`; false when the buffer is full.
 */
export function queueDeviceTlbInvalidation(tx: Tx, dev: number, first: number, pages: number, obs: Observation): boolean {
  if (!atsEnabled(tx.c[DTE], dev, tx.g.vtd)) return true;
  if (cmdSpace(tx) < 1) return false;
  queueAtcInvalidation(tx, dev, first, pages, obs);
  return true;
}

/** Queues an invalidation of every page of `dom`, directory entries included (and the device's ATC, with ATS). */
export function queueInvalidateAll(tx: Tx, dom: number, obs: Observation): boolean {
  if (cmdSpace(tx) < invalidationCommands(tx, dom)) return false;
  if (tx.g.vtd) {
    // cache_tag_flush_all: domain-selective IOTLB invalidation, then every page of the device TLB.
    const d = buildIotlbInv(GRAN_DOMAIN, domainId(dom));
    push(tx, d);
    obs.counters[C.iotlbInvCmds]++;
    obs.counters[C.iotlbInvPages] += tx.g.winPages;
    if (obs.detail) obs.note(`queued ${describeDescriptor(d[0], d[1], d[2], d[3])}`);
    if (atsEnabled(tx.c[DTE], dom, true)) queueAtcInvalidation(tx, dom, 0, 2 ** MAX_AGAW_PFN_WIDTH, obs);
    return true;
  }
  const cmd = buildInvalidateAll(domainId(dom));
  push(tx, cmd);
  obs.counters[C.iotlbInvCmds]++;
  obs.counters[C.iotlbInvPages] += tx.g.winPages;
  if (obs.detail) obs.note(`queued ${describeCommand(cmd[0] >>> 0, cmd[1] >>> 0, cmd[2] >>> 0, cmd[3] >>> 0)}`);
  if (atsEnabled(tx.c[DTE], dom, tx.g.vtd)) queueAtcInvalidation(tx, dom, tx.g.winBase, tx.g.winPages, obs);
  return true;
}

function queueAtcInvalidation(tx: Tx, dev: number, first: number, pages: number, obs: Observation): void {
  if (tx.g.vtd) {
    // qi_flush_dev_iotlb of the same aligned block as the IOTLB's (requester id 0:dev).
    const { addrPfn, mask } = psiAligned(first, pages);
    const d = buildDevIotlbInv(dev, addrPfn, mask);
    push(tx, d);
    obs.counters[C.atcInvCmds]++;
    if (obs.detail) obs.note(`queued ${describeDescriptor(d[0], d[1], d[2], d[3])}`);
    return;
  }
  const cmd = buildInvalidateIotlbPages(dev, first, pages);
  push(tx, cmd);
  obs.counters[C.atcInvCmds]++;
  if (obs.detail) obs.note(`queued ${describeCommand(cmd[0] >>> 0, cmd[1] >>> 0, cmd[2] >>> 0, cmd[3] >>> 0)}`);
}

/**
 * The command words of context `ctx`'s COMPLETION_WAIT (VT-d: its invalidation
 * wait), as queued. Its semaphore address is the only context number in the
 * command buffer (checker/cpu-symmetry.ts renames CPUs by these words).
 */
export function completionWaitWords(vtd: boolean, ctx: number): readonly number[] {
  return vtd ? buildInvWait(SEM_BASE + 8 * ctx) : buildCompletionWait(SEM_BASE + 8 * ctx, 0, 1, 0);
}

/**
 * Clears context `ctx`'s semaphore and queues a COMPLETION_WAIT that sets it.
 * The semaphore is cleared even when the buffer is full (false): a failed
 * wait must not leave the previous wait's "done" behind for completionDone.
 */
export function queueCompletionWait(tx: Tx, ctx: number, obs: Observation): boolean {
  if (tx.c[CMDQ][semOffset(tx, ctx)] !== 0) tx.w(CMDQ)[semOffset(tx, ctx)] = 0;
  if (cmdSpace(tx) < 1) return false;
  // VT-d: qi_submit_sync's wait descriptor, storing QI_DONE to the submitter's status word.
  push(tx, completionWaitWords(tx.g.vtd, ctx));
  obs.counters[C.completionWaits]++;
  if (obs.detail) obs.note(`queued ${tx.g.vtd ? "INV_WAIT" : "COMPLETION_WAIT"} for ctx${ctx}`);
  return true;
}

/** Whether context `ctx`'s last COMPLETION_WAIT has executed. */
export function completionDone(tx: Tx, ctx: number): boolean {
  return tx.c[CMDQ][semOffset(tx, ctx)] !== 0;
}

/** The IOMMU executes the command at the head of the ring. */
export function executeNextCommand(tx: Tx, obs: Observation): void {
  const q0 = tx.c[CMDQ];
  if (q0[1] === 0) {
    obs.skip("the command buffer is empty");
    return;
  }
  const q = tx.w(CMDQ);
  const d0 = q[2] >>> 0, d1 = q[3] >>> 0, d2 = q[4] >>> 0, d3 = q[5] >>> 0;
  const count = q[1];
  moveWords(q, 2, 2 + CMD_W, (count - 1) * CMD_W);
  zeroWords(q, 2 + (count - 1) * CMD_W, 2 + count * CMD_W);
  q[1] = count - 1;
  obs.counters[C.iommuCmdsExecuted]++;
  if (tx.g.vtd) {
    executeDescriptor(tx, obs, d0, d1, d2, d3);
    return;
  }
  if (obs.detail) obs.note(`IOMMU executed ${describeCommand(d0, d1, d2, d3)}`);
  const op = cmdOpcode(d1);
  if (op === CMD_INV_IOMMU_PAGES) {
    const dom = cmdDomainId(d1) - 1;
    if (dom < 0 || dom >= tx.g.cfg.devices) return;
    const pages = invRangePages(d2, d3);
    const first = invRangeFirstPfn(d2, d3);
    invalidateRange(tx, dom, first, pages === Infinity ? Number.MAX_SAFE_INTEGER : pages, (d2 & 2) !== 0);
  } else if (op === CMD_INV_IOTLB_PAGES) {
    // Delivered to the device: a trusted one drops the entries, an untrusted one may not.
    const dev = d0 & 0xffff;
    if (dev < tx.g.cfg.devices) invalidateAtc(tx, dev, invRangeFirstPfn(d2, d3), invRangePages(d2, d3));
  } else if (op === CMD_COMPL_WAIT) {
    const addr = (d0 & ~7) >>> 0;
    const ctx = (addr - SEM_BASE) / 8;
    if ((d1 & 0xfffff) === 0 && ctx >= 0 && ctx < tx.g.contexts) tx.w(CMDQ)[semOffset(tx, ctx)] = 1;
  }
}

/** VT-d: the IOMMU executes one invalidation descriptor. */
function executeDescriptor(tx: Tx, obs: Observation, d0: number, d1: number, d2: number, d3: number): void {
  if (obs.detail) obs.note(`IOMMU executed ${describeDescriptor(d0, d1, d2, d3)}`);
  const g = tx.g;
  const type = descType(d0);
  if (type === QI_IOTLB_TYPE) {
    const gran = descGran(d0);
    if (gran === GRAN_GLOBAL) {
      for (let dom = 0; dom < g.cfg.devices; dom++) invalidateRange(tx, dom, 0, Number.MAX_SAFE_INTEGER, true);
      return;
    }
    const dom = descDid(d0) - 1;
    if (dom < 0 || dom >= g.cfg.devices) return;
    if (gran === GRAN_DOMAIN) invalidateRange(tx, dom, 0, Number.MAX_SAFE_INTEGER, true);
    // Page-selective: the 2^AM block; IH keeps the paging-structure caches.
    else if (gran === GRAN_PAGE) invalidateRange(tx, dom, iotlbFirstPfn(d2, d3), 2 ** iotlbAm(d2), !iotlbIh(d2));
  } else if (type === QI_DIOTLB_TYPE) {
    // Delivered to the device (requester id 0:dev): a trusted one drops the entries, an untrusted one may not.
    const sid = devIotlbSid(d1);
    if (sid < g.cfg.devices) invalidateAtc(tx, sid, devIotlbFirstPfn(d2, d3), devIotlbPages(d2, d3));
  } else if (type === QI_IWD_TYPE) {
    const ctx = (iwdStatusAddr(d2, d3) - SEM_BASE) / 8;
    if (iwdStatusWrite(d0) && iwdStatusData(d1) === QI_DONE && Number.isInteger(ctx) && ctx >= 0 && ctx < g.contexts) tx.w(CMDQ)[semOffset(tx, ctx)] = 1;
  } else if (type === QI_CC_TYPE) {
    const gran = descGran(d0);
    vtdInvalidateContextCache(tx, gran === GRAN_GLOBAL ? -1 : descDid(d0), gran === CC_GRAN_DEVICE ? d1 & 0xff : -1);
  }
}

/** Whether an invalidation of (dev, v) waits in the queue: the IOMMU's (IOTLB), or with `atc` the device's. */
export function invalidationQueued(vtd: boolean, q: Words, dev: number, v: number, atc: boolean): boolean {
  for (let i = 0; i < q[1]; i++) {
    const at = 2 + i * CMD_W;
    const d0 = q[at] >>> 0, d1 = q[at + 1] >>> 0, d2 = q[at + 2] >>> 0, d3 = q[at + 3] >>> 0;
    let first: number, pages: number;
    if (vtd) {
      const type = descType(d0);
      if (atc) {
        if (type !== QI_DIOTLB_TYPE || devIotlbSid(d1) !== dev) continue;
        first = devIotlbFirstPfn(d2, d3);
        pages = devIotlbPages(d2, d3);
      } else {
        if (type !== QI_IOTLB_TYPE) continue;
        const gran = descGran(d0);
        if (gran === GRAN_GLOBAL) return true;
        if (descDid(d0) !== domainId(dev)) continue;
        if (gran === GRAN_DOMAIN) return true;
        first = iotlbFirstPfn(d2, d3);
        pages = 2 ** iotlbAm(d2);
      }
    } else {
      const op = cmdOpcode(d1);
      if (atc ? op !== CMD_INV_IOTLB_PAGES || (d0 & 0xffff) !== dev : op !== CMD_INV_IOMMU_PAGES || cmdDomainId(d1) !== domainId(dev)) continue;
      first = invRangeFirstPfn(d2, d3);
      pages = invRangePages(d2, d3);
    }
    if (v >= first && v - first < pages) return true;
  }
  return false;
}
