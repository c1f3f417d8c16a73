/**
 * The system: boot, and the step function that applies one event.
 *
 * step(state, event) is total: an event that does not apply is a no-op whose
 * observation says why, and a step that runs out of a resource part-way
 * is rolled back (the state is unchanged) with the reason.
 */
import { deviceAttributes, iommuOf, KMALLOC_MAX_CACHE_SIZE, PAGE_SIZE, type ModelConfig } from "./config.ts";
import { type Event } from "./events.ts";
import { ATC, CALLS, CALL_W, DTE, DTE_W, FQ, FQD_TIMER, FRAMES, HDR, H_TIMER, MAPS, OBJECTS, SEG_MAX, makeGeometry, type Geometry } from "./geometry.ts";
import { fqDomBase } from "./flush-queue.ts";
import { Observation, SHORT_MAPPINGS } from "./observation.ts";
import { type Policy, DONE, FAIL, runsOn } from "./policy.ts";
import { Kernel } from "./kernel.ts";
import { emptyState, type State, Tx, type Words, zeroWords } from "./state.ts";
import { allocFrames, initBuddy, ROLE_IOMMU_PT, setFrameData } from "./physical-memory.ts";
import { tableKey } from "./iommu-page-table.ts";
import { DTE_D1HI_IOTLB, dteBlocked, dtePassthrough, dteTranslate } from "./formats/amd-dte.ts";
import { domainId, executeNextCommand } from "./command-queue.ts";
import { vtdBootRoot, vtdContextWords } from "./vtd-context.ts";
import { deviceAccess, deviceAtsAccess, deviceForgedAccess, isPassthrough } from "./iommu.ts";
import {
  clearMapping, dirCode, freeMappingSlot, initMapping, MK_COHERENT, MK_SG, MK_SINGLE, MS_MAPPED, MS_UNMAPPING, mDev,
  mFreeAfter, mKind, nthMapped, setFreeAfter, setStatus, mIova, mSegOffset, mSegLen, narrowSegment, addSegment,
} from "./dma-mapping.ts";
import { allocBuffer, nthHeldBuffer, releaseBuffer } from "./buffers.ts";
import {
  describeObject, freeObject, kmalloc, nthObjectOf, objFrame, objGen, objOffset, objOwner, objSize, OWNER_KERNEL, ownerDriver, pagesOrder,
} from "./objects.ts";
import { ROLE_KERNEL } from "./physical-memory.ts";
import { bootMmu, directMapRead, userTouch, userUnmap } from "./mmu.ts";
import { bootGuestMemory } from "./memory-regions.ts";
import { guestAccess } from "./vm-ept.ts";

export const OP_IDLE = 0, OP_MAP = 1, OP_UNMAP = 2, OP_TIMER = 3;
export const OP_NAMES = ["idle", "map", "unmap", "timer work"];

/** Largest device access, and the byte limits of event parameters. */
export const MAX_DMA_LEN = 2 * PAGE_SIZE;

export interface System {
  readonly cfg: ModelConfig;
  readonly g: Geometry;
  readonly policy: Policy;
  readonly init: State;
  /** SHORT_* bits (model/observation.ts): resources boot (the policy's pools) ran out of. */
  readonly bootShort?: number;
}

/** Builds a system: boots the machine (allocator, device table, IOMMU roots, MMU tables). */
export function makeSystem(cfg: ModelConfig, policy: Policy): System {
  if (!runsOn(policy, iommuOf(cfg))) throw new Error(`policy ${policy.name} does not run on iommu ${iommuOf(cfg)}`);
  const g = makeGeometry(cfg, typeof policy.stateWords === "function" ? policy.stateWords(cfg) : policy.stateWords ?? 0);
  const tx = new Tx(g);
  const obs = new Observation();
  tx.begin(emptyState(g));
  initBuddy(tx);
  const attrs = deviceAttributes(cfg);
  for (let dev = 0; dev < cfg.devices; dev++) {
    const mode = policy.attach(dev, attrs);
    let words: readonly number[];
    let root = -1;
    if (mode === "translate") {
      root = allocFrames(tx, 0, ROLE_IOMMU_PT, dev, obs);
      setFrameData(tx.w(FRAMES), root, tableKey(cfg.iommuLevels, 0));
    }
    if (g.vtd) {
      // The context entry Linux domain_context_mapping_one writes; TT_DEV_IOTLB grants ATS.
      words = vtdContextWords(mode, domainId(dev), root, cfg.iommuLevels, attrs.ats);
    } else if (mode === "translate") {
      words = dteTranslate(domainId(dev), root, cfg.iommuLevels);
    } else {
      words = mode === "passthrough" ? dtePassthrough(domainId(dev)) : dteBlocked(domainId(dev));
    }
    const d = tx.w(DTE);
    for (let i = 0; i < DTE_W; i++) d[dev * DTE_W + i] = words[i] | 0;
    // ATS granted: DTE data[1] bit 32, IOTLB enable (Linux DTE_FLAG_IOTLB). Not for passthrough, which translates nothing.
    if (!g.vtd && attrs.ats && mode === "translate") d[dev * DTE_W + 3] |= DTE_D1HI_IOTLB;
  }
  if (g.vtd) vtdBootRoot(tx);
  bootMmu(tx, obs);
  if (!bootGuestMemory(tx, obs)) throw new Error("out of memory booting the guest memory region (guestFrames)");
  if (policy.boot) {
    const k = new Kernel(tx, obs);
    k.ctx = 0;
    policy.boot(k);
  }
  const init = tx.commit();
  return { cfg, g, policy, init, bootShort: obs.short };
}

/** Per-system step machinery (the Kernel is bound to an observation per execution). */
export class Stepper {
  readonly tx: Tx;
  readonly kernel: Kernel;
  constructor(readonly sys: System, readonly obs: Observation) {
    this.tx = new Tx(sys.g);
    this.kernel = new Kernel(this.tx, obs);
  }

  /** Applies `e` to `s`; the observation is reset and filled. */
  step(s: State, e: Event): State {
    const obs = this.obs;
    obs.reset();
    const tx = this.tx;
    tx.begin(s);
    const ok = this.apply(e);
    if (!ok) {
      // Roll back: nothing happened except the reason.
      const reason = obs.reason;
      const short = obs.short;
      obs.reset();
      obs.skip(reason);
      obs.short = short;
      return s;
    }
    return tx.commit();
  }

  /** Returns false to roll the step back. */
  private apply(e: Event): boolean {
    const { tx, obs, sys } = this;
    const cfg = sys.cfg;
    switch (e.t) {
      case "map":
      case "map-sg":
      case "alloc-coherent":
        return this.startMap(e);
      case "unmap": {
        const ctx = e.cpu % cfg.cpus;
        if (tx.c[CALLS][ctx * CALL_W] !== OP_IDLE) return skip(obs, "the CPU is busy with another DMA API call");
        const m = nthMapped(tx.c[MAPS], cfg.maxMappings, e.k);
        if (m < 0) return skip(obs, "no live mapping to unmap");
        setStatus(tx, m, MS_UNMAPPING);
        setFreeAfter(tx, m, e.free || mKind(tx.c[MAPS], m) === MK_COHERENT);
        this.setCall(ctx, OP_UNMAP, 0, m);
        if (obs.detail) obs.note(`cpu${ctx}: unmap of mapping #${m} starts`);
        this.run(ctx);
        return true;
      }
      case "resume": {
        // The first context at or after `cpu` (cyclically) with a call in progress.
        const n = sys.g.contexts;
        for (let i = 0; i < n; i++) {
          const ctx = (e.cpu + i) % n;
          if (tx.c[CALLS][ctx * CALL_W] === OP_IDLE) continue;
          if (obs.detail) obs.note(`${this.ctxName(ctx)} resumes its ${OP_NAMES[tx.c[CALLS][ctx * CALL_W]]}`);
          this.run(ctx);
          return true;
        }
        return skip(obs, "no DMA API call is in progress");
      }
      case "iommu":
        executeNextCommand(tx, obs);
        return true;
      case "dma": {
        const dev = e.dev % cfg.devices;
        const len = Math.max(1, Math.min(MAX_DMA_LEN, e.len | 0));
        const offset = ((e.offset % PAGE_SIZE) + PAGE_SIZE) % PAGE_SIZE;
        const pt = isPassthrough(tx.c[DTE], dev, tx.g.vtd);
        const page = pt ? e.page % cfg.frames : sys.g.winBase + (e.page % sys.g.winPages);
        deviceAccess(tx, dev, e.write, page * PAGE_SIZE + offset, len, obs);
        return true;
      }
      case "ats-dma": {
        if (tx.c[ATC].length === 0) return skip(obs, "ATS is not granted to the devices (--device ats)");
        const dev = e.dev % cfg.devices;
        const len = Math.max(1, Math.min(MAX_DMA_LEN, e.len | 0));
        const offset = ((e.offset % PAGE_SIZE) + PAGE_SIZE) % PAGE_SIZE;
        deviceAtsAccess(tx, dev, e.write, (sys.g.winBase + (e.page % sys.g.winPages)) * PAGE_SIZE + offset, len, obs);
        return true;
      }
      case "dma-translated": {
        if (cfg.untrusted !== true) return skip(obs, "a trusted device does not forge translated requests");
        const dev = e.dev % cfg.devices;
        const len = Math.max(1, Math.min(MAX_DMA_LEN, e.len | 0));
        const offset = ((e.offset % PAGE_SIZE) + PAGE_SIZE) % PAGE_SIZE;
        deviceForgedAccess(tx, dev, e.write, (e.frame % cfg.frames) * PAGE_SIZE + offset, len, obs);
        return true;
      }
      case "kmalloc": {
        if (kmalloc(tx, Math.max(1, e.size), OWNER_KERNEL, ROLE_KERNEL, obs) < 0) return skip(obs, "out of memory");
        return true;
      }
      case "kfree": {
        const i = nthObjectOf(tx.c[OBJECTS], OWNER_KERNEL, e.k);
        if (i < 0) return skip(obs, "the kernel holds no object");
        freeObject(tx, i, obs);
        return true;
      }
      case "tick":
        this.tick(Math.max(1, e.ms | 0));
        return true;
      case "user-touch":
        userTouch(tx, e.cpu, e.page, e.write, obs);
        return !obs.noop;
      case "user-unmap":
        userUnmap(tx, e.cpu, e.page, obs);
        return !obs.noop;
      case "kernel-read":
        directMapRead(tx, e.frame % cfg.frames, obs);
        return true;
      case "guest-access":
        guestAccess(tx, this.sys.policy, this.kernel, e.cpu, e.page, e.write, obs);
        return !obs.noop;
      case "user-get":
      case "user-put": {
        if (cfg.userPages === 0) return skip(obs, "the model has no user pages");
        const policy = sys.policy;
        const hook = e.t === "user-get" ? policy.userGet : policy.userPut;
        if (hook === undefined) return skip(obs, "the policy shares no I/O memory with user processes");
        this.kernel.ctx = e.cpu % cfg.cpus;
        const why = hook.call(policy, this.kernel, e.page % cfg.userPages);
        return why === null ? true : skip(obs, why);
      }
      case "xdp-tx":
        return this.xdpTx(e.cpu % cfg.cpus, e.k);
    }
  }

  /**
   * XDP_TX: the driver on `ctx` retransmits the k-th buffer the kernel holds
   * (a driver's buffer no mapping names: its unmap returned, it was not
   * freed) on the device that received it. The buffer becomes one segment of
   * a new to-device mapping and the policy's map runs: page_pool finds the
   * page already mapped DMA_BIDIRECTIONAL and only looks up its address
   * (Linux mlx5e_xmit_xdp_buff: page_pool_get_dma_addr and
   * dma_sync_single_for_device; net/core/page_pool.c page_pool_init accepts
   * DMA_BIDIRECTIONAL "for allowing page used for DMA sending, which is the
   * XDP_TX use-case"); another policy maps it as any to-device buffer. The
   * transmit completion is that mapping's `unmap` with `free`: the buffer
   * goes back to its allocator (page_pool_put_page from the driver's tx
   * completion, mlx5e_free_xdpsq_desc).
   */
  private xdpTx(ctx: number, k: number): boolean {
    const { tx, obs, sys } = this;
    if (tx.c[CALLS][ctx * CALL_W] !== OP_IDLE) return skip(obs, "the CPU is busy with another DMA API call");
    const i = nthHeldBuffer(tx.c[OBJECTS], tx.c[MAPS], sys.cfg.maxMappings, k);
    if (i < 0) return skip(obs, "the kernel holds no received buffer");
    const m = freeMappingSlot(tx);
    if (m < 0) {
      obs.short |= SHORT_MAPPINGS;
      return skip(obs, "the model's mapping table is full");
    }
    const ob = tx.c[OBJECTS];
    const dev = objOwner(ob, i) - ownerDriver(0);
    initMapping(tx, m, MK_SINGLE, dirCode("to-device"), dev);
    if (!addSegment(tx, m, objFrame(ob, i), objOffset(ob, i), objSize(ob, i), objGen(ob, i))) return skip(obs, "the model's mapping table is full");
    this.setCall(ctx, OP_MAP, 0, m);
    if (obs.detail) obs.note(`cpu${ctx}: XDP_TX of the held ${describeObject(ob, i)} on dev${dev} (mapping #${m})`);
    this.run(ctx);
    return true;
  }

  private startMap(e: Extract<Event, { t: "map" | "map-sg" | "alloc-coherent" }>): boolean {
    const { tx, obs, sys } = this;
    const ctx = e.cpu % sys.cfg.cpus;
    if (tx.c[CALLS][ctx * CALL_W] !== OP_IDLE) return skip(obs, "the CPU is busy with another DMA API call");
    const m = freeMappingSlot(tx);
    if (m < 0) {
      obs.short |= SHORT_MAPPINGS;
      return skip(obs, "the model's mapping table is full");
    }
    const dev = e.dev % sys.cfg.devices;
    if (e.t === "map") {
      initMapping(tx, m, MK_SINGLE, dirCode(e.dir), dev);
      const size = Math.max(1, e.size | 0);
      if (!this.allocBuffer(ctx, m, dev, size, e.src === "pages")) return skip(obs, "out of memory for the driver's buffer");
      if (e.offset !== undefined || e.len !== undefined) {
        // A range inside the allocation: clamped into the bytes the driver asked for.
        const off = Math.min(Math.max(0, e.offset ?? 0), size - 1);
        const len = Math.min(Math.max(1, e.len ?? size - off), size - off);
        if (off !== 0 || len !== mSegLen(tx.c[MAPS], m, 0)) narrowSegment(tx, m, 0, off, len);
      }
    } else if (e.t === "map-sg") {
      initMapping(tx, m, MK_SG, dirCode(e.dir), dev);
      if (e.sizes.length === 0) return skip(obs, "empty scatter list");
      if (e.sizes.length > SEG_MAX) return skip(obs, `the model supports at most ${SEG_MAX} scatter-list segments`);
      for (const s of e.sizes) {
        const size = Math.max(1, Math.min(KMALLOC_MAX_CACHE_SIZE, s | 0));
        if (!this.allocBuffer(ctx, m, dev, size, false)) return skip(obs, "out of memory for the driver's buffer");
      }
    } else {
      initMapping(tx, m, MK_COHERENT, dirCode("bidirectional"), dev);
      if (!allocBuffer(tx, m, dev, true, PAGE_SIZE << e.order, e.order, obs)) return skip(obs, "out of memory for the coherent buffer");
    }
    this.setCall(ctx, OP_MAP, 0, m);
    if (obs.detail) obs.note(`cpu${ctx}: ${e.t} for dev${dev} starts (mapping #${m})`);
    this.run(ctx);
    return true;
  }

  /** The driver's buffer for mapping `m`: from the policy's allocator if it has one, else kmalloc or pages. */
  private allocBuffer(ctx: number, m: number, dev: number, size: number, pages: boolean): boolean {
    const policy = this.sys.policy;
    if (policy.allocBuffer === undefined) return allocBuffer(this.tx, m, dev, pages, size, pagesOrder(size), this.obs);
    this.kernel.ctx = ctx;
    return policy.allocBuffer(this.kernel, m, size, pages);
  }

  /** The driver frees mapping `m`'s buffer: through the policy's allocator if it has one. */
  private freeBuffer(m: number): void {
    const policy = this.sys.policy;
    if (policy.freeBuffer === undefined) releaseBuffer(this.tx, m, this.obs);
    else policy.freeBuffer(this.kernel, m);
  }

  private setCall(ctx: number, op: number, phase: number, m: number): void {
    const c = this.tx.w(CALLS);
    c[ctx * CALL_W] = op;
    c[ctx * CALL_W + 1] = phase;
    c[ctx * CALL_W + 2] = m;
  }

  /** Runs the call on `ctx` from its current phase until it blocks or returns. */
  private run(ctx: number): void {
    const { tx, obs, kernel } = this;
    const policy = this.sys.policy;
    const calls = tx.c[CALLS];
    const op = calls[ctx * CALL_W];
    const phase = calls[ctx * CALL_W + 1];
    const m = calls[ctx * CALL_W + 2];
    kernel.ctx = ctx;
    let r: number;
    if (op === OP_MAP) r = policy.map(kernel, m, phase);
    else if (op === OP_UNMAP) r = policy.unmap(kernel, m, phase);
    // Timer work: m = 0 for the policy timer, dom + 1 for domain dom's flush timer.
    else if (m === 0) r = policy.timer ? policy.timer(kernel, phase) : DONE;
    else r = policy.fqTimer ? policy.fqTimer(kernel, m - 1, phase) : DONE;
    obs.handlerOp = op;
    obs.handlerPhase = phase;
    obs.handlerResult = r;
    if (r >= 0) {
      if (r !== phase) tx.w(CALLS)[ctx * CALL_W + 1] = r;
      if (obs.detail) obs.note(`${this.ctxName(ctx)}: ${OP_NAMES[op]} blocked (phase ${r})`);
      return;
    }
    zeroWords(tx.w(CALLS), ctx * CALL_W, (ctx + 1) * CALL_W);
    if (op === OP_MAP) {
      if (r === FAIL) {
        this.freeBuffer(m);
        clearMapping(tx, m);
        if (obs.detail) obs.note(`${this.ctxName(ctx)}: map failed (DMA_MAPPING_ERROR); the driver freed its buffer`);
      } else {
        setStatus(tx, m, MS_MAPPED);
        if (obs.detail) obs.note(`${this.ctxName(ctx)}: map returned dma address 0x${dmaAddress(tx.c[MAPS], m).toString(16)} (mapping #${m}, dev${mDev(tx.c[MAPS], m)})`);
      }
    } else if (op === OP_UNMAP) {
      const free = mFreeAfter(tx.c[MAPS], m);
      if (obs.detail) obs.note(`${this.ctxName(ctx)}: unmap of mapping #${m} returned`);
      if (free) this.freeBuffer(m);
      clearMapping(tx, m);
    } else if (obs.detail) obs.note(`${this.ctxName(ctx)}: timer work done`);
  }

  /** How traces name a context: "cpu1", or "the timer context (ctx2)". */
  private ctxName(ctx: number): string {
    return ctx === this.sys.g.timerCtx ? `the timer context (ctx${ctx})` : `cpu${ctx}`;
  }

  private tick(ms: number): void {
    const { tx, sys } = this;
    this.tickTimer(ms, -1);
    // Each domain's flush timer (Linux fq_timer), in domain order after the policy timer; the
    // timer context runs one at a time, so those expiring while it is busy wait as pending.
    for (let dom = 0; dom < sys.g.cfg.devices; dom++) if (tx.c[FQ][fqDomBase(sys.g, dom) + FQD_TIMER] !== 0) this.tickTimer(ms, dom);
  }

  /** Advances the policy timer (dom < 0) or domain dom's flush timer by `ms`; an expiry starts timer work if the context is idle. */
  private tickTimer(ms: number, dom: number): void {
    const { tx, sys } = this;
    const comp = dom < 0 ? HDR : FQ;
    const at = dom < 0 ? H_TIMER : fqDomBase(sys.g, dom) + FQD_TIMER;
    const t = tx.c[comp][at];
    if (t === 0) return;
    const left = t > 0 ? t - ms : -1;
    if (left > 0) {
      tx.w(comp)[at] = left;
      return;
    }
    const ctx = sys.g.timerCtx;
    if (tx.c[CALLS][ctx * CALL_W] !== OP_IDLE) {
      if (t !== -1) tx.w(comp)[at] = -1;
      return;
    }
    // Linux fq_flush_timeout clears fq_timer_on before it flushes, so an unmap meanwhile re-arms it.
    tx.w(comp)[at] = 0;
    if (this.obs.detail) this.obs.note(dom < 0 ? "the policy timer expired" : `the flush timer of dom ${dom} expired`);
    this.setCall(ctx, OP_TIMER, 0, dom + 1);
    this.run(ctx);
  }
}

function skip(obs: Observation, reason: string): boolean {
  obs.skip(reason);
  return false;
}

/** DMA address a mapping's map call returned: its IOVA page plus the first segment's offset. */
export function dmaAddress(mp: Words, m: number): number {
  return mIova(mp, m) * PAGE_SIZE + (mSegOffset(mp, m, 0) % PAGE_SIZE);
}
