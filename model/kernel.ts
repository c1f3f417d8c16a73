/**
 * The kernel services a policy handler may use: the IOVA allocator, the IOMMU
 * page tables, the command queue, the flush queue, the timer, and the
 * mapping being served. Every method works inside the current step's
 * transaction and counts its costs.
 */
import { C } from "./counters.ts";
import { FQ, FRAMES, FRAME_W, HDR, H_TIMER, MAPS, OBJECTS, POL } from "./geometry.ts";
import { type IommuKind, PAGE_SIZE } from "./config.ts";
import { type Observation, SHORT_IOVA } from "./observation.ts";
import { type Tx } from "./state.ts";
import { allocIova, freeIova } from "./iova-allocator.ts";
import { freeDetachedTables, iommuMapLarge, iommuMapPage, iommuPageSizeOffered, iommuUnmapPages, isDetachedWithTag } from "./iommu-page-table.ts";
import {
  cmdSpace, completionDone, invalidationCommands, queueCompletionWait, queueDeviceTlbInvalidation, queueInvalidateAll, queueInvalidatePages,
} from "./command-queue.ts";
import { armFqTimer, fqFinishFlush, fqFull, fqPush, fqRingFree, fqStartFlush, fqTimer } from "./flush-queue.ts";
import {
  addSegment, dirAllowsRead, dirAllowsWrite, mDev, mDir, mIova, mPages, mReleased, mSegBounce, mSegGen, mSegFrame, mSegLen, mSegOffset, mSegs, segPages,
  setIova, setSegBounce,
} from "./dma-mapping.ts";
import { allocBuffer, releaseBuffer } from "./buffers.ts";
import { allocPoolObject, findSegmentObject, findObjectAt, objCount, objSize, objFrame, objGen, objOffset, pagesOrder } from "./objects.ts";
import { deviceMode, type AttachMode } from "./iommu.ts";
import {
  allocFrames, F_HEAD, F_STALE, frameAux, frameFlags, frameOrder, frameRole, freeFrames, mergeFrameContents, ROLE_BOUNCE, ROLE_IO_POOL, ROLE_NAMES, ROLE_SHADOW,
  zeroFrames,
} from "./physical-memory.ts";
import { ownerDriver } from "./objects.ts";
import { type Words } from "./state.ts";

/** Whether an allocated block of exactly 2^order frames starts at `f`. */
function blockAt(fr: Words, f: number, order: number): boolean {
  return f >= 0 && (frameFlags(fr, f) & F_HEAD) !== 0 && frameOrder(fr, f) === order;
}
import { DTE } from "./geometry.ts";
import { pinCount, pinFrame, unpinFrame } from "./pinning.ts";
import { invept } from "./vm-ept.ts";

export class Kernel {
  /** The context (CPU number, or the timer context) the call runs on. */
  ctx = 0;
  constructor(readonly tx: Tx, readonly obs: Observation) {}

  get cpus(): number {
    return this.tx.g.cfg.cpus;
  }
  /** Largest buddy order (the largest block allocFrames or allocPoolFrames can give). */
  get maxOrder(): number {
    return this.tx.g.cfg.maxOrder;
  }
  /** First IOVA page of each domain's window (an IOVA page number, as allocIova returns). */
  get windowBase(): number {
    return this.tx.g.winBase;
  }
  /** Pages in each domain's IOVA window. */
  get windowPages(): number {
    return this.tx.g.winPages;
  }
  get devices(): number {
    return this.tx.g.cfg.devices;
  }
  /** Linux IOVA_DEFAULT_FQ_TIMEOUT, as configured. */
  get fqTimeoutMs(): number {
    return this.tx.g.cfg.fqTimeoutMs;
  }
  /** The IOMMU behind these services: "amd-v1" or "vtd" (a policy may follow Linux's per-IOMMU choices). */
  get iommu(): IommuKind {
    return this.tx.g.vtd ? "vtd" : "amd-v1";
  }
  /** VT-d caching mode: not-present entries may be cached, so a map must be followed by an invalidation. */
  get cachingMode(): boolean {
    return this.tx.g.cachingMode;
  }
  get timerCtx(): number {
    return this.tx.g.timerCtx;
  }
  attachMode(dev: number): AttachMode | "invalid" {
    return deviceMode(this.tx.c[DTE], dev, this.tx.g.vtd);
  }

  // --- the mapping being served
  dev(m: number): number {
    return mDev(this.tx.c[MAPS], m);
  }
  /** IOVA pages the mapping needs (each segment rounded out to whole granules). */
  pages(m: number): number {
    return mPages(this.tx.c[MAPS], m);
  }
  iova(m: number): number {
    return mIova(this.tx.c[MAPS], m);
  }
  setIova(m: number, firstPage: number): void {
    setIova(this.tx, m, firstPage);
  }
  segments(m: number): number {
    return mSegs(this.tx.c[MAPS], m);
  }
  segFrame(m: number, i: number): number {
    return mSegFrame(this.tx.c[MAPS], m, i);
  }
  segOffset(m: number, i: number): number {
    return mSegOffset(this.tx.c[MAPS], m, i);
  }
  segLen(m: number, i: number): number {
    return mSegLen(this.tx.c[MAPS], m, i);
  }
  /** The frame holding segment i's first byte (a buffer may start beyond its object's first frame). */
  segFirstFrame(m: number, i: number): number {
    return this.segFrame(m, i) + Math.floor(this.segOffset(m, i) / PAGE_SIZE);
  }
  segPages(m: number, i: number): number {
    return segPages(this.segOffset(m, i), this.segLen(m, i));
  }
  /** Whether segment i of mapping `m` still names a live buffer (the driver has not freed it). */
  segLive(m: number, i: number): boolean {
    return !mReleased(this.tx.c[MAPS], m) &&
      findSegmentObject(this.tx.c[OBJECTS], this.segFrame(m, i), this.segOffset(m, i), this.segLen(m, i), mSegGen(this.tx.c[MAPS], m, i)) >= 0;
  }
  /**
   * Physical address and size of the allocation segment i of mapping `m` names
   * (the segment may be a range inside it), or [-1, 0] when it is gone.
   */
  segObject(m: number, i: number): [number, number] {
    const ob = this.tx.c[OBJECTS];
    const j = findSegmentObject(ob, this.segFrame(m, i), this.segOffset(m, i), this.segLen(m, i), mSegGen(this.tx.c[MAPS], m, i));
    return j < 0 ? [-1, 0] : [objFrame(ob, j) * PAGE_SIZE + objOffset(ob, j), objSize(ob, j)];
  }
  /** Allocates a driver buffer (kmalloc, or 2^order pages with `pages`) for mapping `m` and adds it as a segment. */
  allocDriverBuffer(m: number, bytes: number, pages: boolean): boolean {
    return allocBuffer(this.tx, m, this.dev(m), pages, bytes, pagesOrder(bytes), this.obs);
  }
  /**
   * Adds the `bytes`-byte buffer a pool allocated at physical address `addr`
   * as a segment of mapping `m`: an object already (a built-in pool records
   * its buffers itself), or, when none starts there, a new pool buffer of the
   * mapping's driver recorded now, provided [addr, addr + bytes) lies in
   * frames of the device's own pool (allocPoolFrames, role shadow or io-pool,
   * aux = the device) and overlaps no other object. The driver's free
   * (releaseBuffer) removes the record; the frames stay the pool's.
   */
  addPoolBuffer(m: number, addr: number, bytes: number): boolean {
    let ob = this.tx.c[OBJECTS];
    let i = findObjectAt(ob, Math.floor(addr / PAGE_SIZE), addr % PAGE_SIZE);
    if (i < 0) {
      if (!this.ownPoolRange(this.dev(m), addr, bytes)) return false;
      if (allocPoolObject(this.tx, Math.floor(addr / PAGE_SIZE), addr % PAGE_SIZE, bytes, ownerDriver(this.dev(m)), this.obs) < 0) return false;
      ob = this.tx.c[OBJECTS];
      i = findObjectAt(ob, Math.floor(addr / PAGE_SIZE), addr % PAGE_SIZE);
    }
    return i >= 0 && addSegment(this.tx, m, objFrame(ob, i), objOffset(ob, i), bytes, objGen(ob, i));
  }
  /** Whether [addr, addr + bytes) lies in pool frames device `dev` owns (role shadow or io-pool) and overlaps no object. */
  private ownPoolRange(dev: number, addr: number, bytes: number): boolean {
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(bytes) || addr < 0 || bytes < 1) return false;
    const fr = this.tx.c[FRAMES];
    const last = Math.floor((addr + bytes - 1) / PAGE_SIZE);
    if (last >= this.tx.g.cfg.frames) return false;
    for (let f = Math.floor(addr / PAGE_SIZE); f <= last; f++) {
      const role = frameRole(fr, f);
      if ((role !== ROLE_SHADOW && role !== ROLE_IO_POOL) || frameAux(fr, f) !== dev) return false;
    }
    const ob = this.tx.c[OBJECTS];
    for (let j = 0; j < objCount(ob); j++) {
      const start = objFrame(ob, j) * PAGE_SIZE + objOffset(ob, j);
      if (start < addr + bytes && addr < start + objSize(ob, j)) return false;
    }
    return true;
  }
  /** Frees the driver's buffer now (normally the model does it after the unmap returns). */
  releaseBuffer(m: number): void {
    releaseBuffer(this.tx, m, this.obs);
  }

  // --- device-owned pools (shadow buffers, DMA-aware allocators)
  /**
   * 2^order frames from the page allocator, owned by device `dev` for good:
   * role `role` (ROLE_SHADOW or ROLE_IO_POOL) with aux = dev. Such frames
   * hold only that device's I/O data, so the properties treat them as
   * granted to it (properties/grants.ts). The page allocator hands them out
   * with whatever their previous owner left in them unless `zero` asks for
   * zeroed pages (__GFP_ZERO; not counted in bytesZeroed, like the rest of the
   * page allocator). Returns the first frame or -1.
   */
  allocPoolFrames(dev: number, order: number, role: number, zero = false): number {
    const f = allocFrames(this.tx, order, role, dev, this.obs);
    if (f >= 0 && zero) zeroFrames(this.tx, f, 1 << order);
    if (f >= 0 && this.obs.detail) for (let i = 0; i < 1 << order; i++) this.obs.frameNote(f + i, `held device ${dev}'s ${ROLE_NAMES[role]} pool`);
    return f;
  }
  /**
   * Gives a block of 2^order pool frames (allocPoolFrames: role shadow or
   * io-pool) back to the page allocator. False, doing nothing, when `first`
   * does not start such a block. The grant ends with the role.
   */
  freePoolFrames(first: number, order: number): boolean {
    const role = frameRole(this.tx.c[FRAMES], first);
    if ((role !== ROLE_SHADOW && role !== ROLE_IO_POOL) || !blockAt(this.tx.c[FRAMES], first, order)) return false;
    freeFrames(this.tx, first, order, this.obs);
    return true;
  }
  // --- bounce buffers (swiotlb)
  /** Gives the bounce pool block of 2^order frames at `first` (allocBouncePool) back to the page allocator; false when it is not one. */
  freeBouncePool(first: number, order: number): boolean {
    if (frameRole(this.tx.c[FRAMES], first) !== ROLE_BOUNCE || !blockAt(this.tx.c[FRAMES], first, order)) return false;
    freeFrames(this.tx, first, order, this.obs);
    return true;
  }
  /** 2^order frames for the system's bounce pool (Linux io_tlb_default_mem), zeroed at boot. Returns the first frame or -1. */
  allocBouncePool(order: number): number {
    const f = allocFrames(this.tx, order, ROLE_BOUNCE, 0, this.obs);
    if (f >= 0) zeroFrames(this.tx, f, 1 << order); // memblock_alloc memory is zeroed
    if (f >= 0 && this.obs.detail) for (let i = 0; i < 1 << order; i++) this.obs.frameNote(f + i, "held the swiotlb bounce pool");
    return f;
  }
  /** First frame of the bounce slot of segment i, or -1 when the segment is not bounced. */
  segBounce(m: number, i: number): number {
    return mSegBounce(this.tx.c[MAPS], m, i);
  }
  /**
   * Segment i of mapping `m` is bounced through the slot at `frame` (as many
   * frames as the segment spans, the buffer at the same offset in its first
   * granule, Linux swiotlb_tbl_map_single with alloc_align_mask = iova_mask):
   * from now on mapSegments maps the slot, not the buffer.
   */
  setSegBounce(m: number, i: number, frame: number): void {
    setSegBounce(this.tx, m, i, frame);
    // The slot's frames now belong to this buffer (aux = mapping + 1): its grants follow the buffer, not the device.
    const fr = this.tx.w(FRAMES);
    for (let p = 0; p < this.segPages(m, i); p++) fr[(frame + p) * FRAME_W] = (fr[(frame + p) * FRAME_W] & 0xffff) | ((m + 1) << 16);
    if (this.obs.detail) this.obs.frameNote(frame, `held mapping #${m}'s bounce slot`);
  }
  /** Zeroes the pre- and post-padding of segment i's bounce slot (Linux iommu_dma_map_swiotlb for untrusted devices). */
  zeroBouncePadding(m: number, i: number): void {
    const f = this.segBounce(m, i);
    const n = this.segPages(m, i);
    this.obs.counters[C.bytesZeroed] += n * PAGE_SIZE - this.segLen(m, i);
    const fr = this.tx.w(FRAMES);
    for (let p = 0; p < n; p++) fr[(f + p) * FRAME_W] &= ~F_STALE;
    zeroFrames(this.tx, f, n);
  }
  /** Segment i's bounce slot is released: its frames keep the data, leftover for the next slot there. */
  releaseBounceSlot(m: number, i: number): void {
    const f = this.segBounce(m, i);
    const fr = this.tx.w(FRAMES);
    const owner = ownerDriver(this.dev(m));
    for (let p = 0; p < this.segPages(m, i); p++) {
      const w = fr[(f + p) * FRAME_W];
      // No longer this buffer's slot; the copy stays behind as leftover data.
      fr[(f + p) * FRAME_W] = (w & 0xffff) | F_STALE | ((w >>> 16) === m + 1 ? 0 : w & ~0xffff);
      mergeFrameContents(fr, f + p, owner);
    }
    if (this.obs.detail) this.obs.frameNote(f, `held a released bounce slot (leftover data of mapping #${m})`);
  }

  /** The CPU copies `bytes` bytes (bounce or shadow copy in or out). */
  copy(bytes: number): void {
    this.obs.counters[C.bytesCopied] += bytes;
  }
  /** Direction of mapping `m`: whether the device reads the buffer, writes it. */
  deviceReads(m: number): boolean {
    return dirAllowsRead(mDir(this.tx.c[MAPS], m));
  }
  deviceWrites(m: number): boolean {
    return dirAllowsWrite(mDir(this.tx.c[MAPS], m));
  }
  /** Total bytes of mapping `m`'s buffer. */
  bytes(m: number): number {
    let t = 0;
    for (let i = 0; i < this.segments(m); i++) t += this.segLen(m, i);
    return t;
  }

  // --- pinning (pinning.ts): pinned frames are not reclaimed until the last unpin
  /** Pins frame `f` (counts `pins`); false when it is free or saturated. */
  pin(f: number): boolean {
    return pinFrame(this.tx, f, this.obs);
  }
  /** Drops one pin of frame `f` (counts `unpins`); false when it is not pinned. */
  unpin(f: number): boolean {
    return unpinFrame(this.tx, f, this.obs);
  }
  pinCount(f: number): number {
    return pinCount(this.tx.c[FRAMES], f);
  }
  /**
   * Pins every page of mapping `m`'s buffer, one pin per IOVA page (a frame
   * two segments share is pinned twice), as VFIO pins every page it maps.
   * False when some page cannot be pinned; the pins taken are then dropped.
   */
  pinMapping(m: number): boolean {
    let done = 0;
    for (let i = 0; i < this.segments(m); i++) {
      const first = this.segFirstFrame(m, i);
      for (let p = 0; p < this.segPages(m, i); p++) {
        if (this.pin(first + p)) {
          done++;
          continue;
        }
        this.unpinFirst(m, done);
        return false;
      }
    }
    if (this.obs.detail) this.obs.note(`pinned the ${done} page(s) of mapping #${m}`);
    return true;
  }
  /** Drops the pins pinMapping(m) took. */
  unpinMapping(m: number): void {
    this.unpinFirst(m, Number.MAX_SAFE_INTEGER);
    if (this.obs.detail) this.obs.note(`unpinned the pages of mapping #${m}`);
  }
  private unpinFirst(m: number, n: number): void {
    for (let i = 0; i < this.segments(m) && n > 0; i++) {
      const first = this.segFirstFrame(m, i);
      for (let p = 0; p < this.segPages(m, i) && n > 0; p++, n--) this.unpin(first + p);
    }
  }

  // --- IOVA allocator
  /** `pages` IOVA pages of `dev`'s window, size-aligned (Linux alloc_iova) unless `sizeAligned` is false (a VFIO user's chosen IOVA). */
  allocIova(dev: number, pages: number, sizeAligned = true): number {
    const v = allocIova(this.tx, dev, pages, sizeAligned);
    if (v < 0) this.obs.short |= SHORT_IOVA; // for coverage's "missing resource"
    return v;
  }
  freeIova(dev: number, first: number, pages: number): void {
    freeIova(this.tx, dev, first, pages);
    if (this.obs.detail) this.obs.note(`IOVA pages 0x${first.toString(16)}+${pages} of dom ${dev} freed`);
  }

  // --- IOMMU page tables
  /**
   * Maps every segment of mapping `m` (its bounce slot, if it has one)
   * contiguously from its IOVA, with the direction's permissions: 4 KiB pages,
   * or with `largePages` each segment's run in the largest pages the IOMMU
   * offers that the IOVA and the frame are both aligned to (Linux
   * __iommu_map -> iommu_pgsize, drivers/iommu/iommu.c; iommuPageSizeOffered).
   */
  mapSegments(m: number, largePages = false): boolean {
    const dev = this.dev(m);
    const dir = mDir(this.tx.c[MAPS], m);
    const ir = dirAllowsRead(dir), iw = dirAllowsWrite(dir);
    let v = this.iova(m);
    for (let i = 0; i < this.segments(m); i++) {
      const slot = this.segBounce(m, i);
      const first = slot >= 0 ? slot : this.segFirstFrame(m, i);
      const n = this.segPages(m, i);
      for (let p = 0; p < n;) {
        const log2 = largePages ? this.pageSizeFor(v + p, first + p, n - p) : 12;
        if (!iommuMapLarge(this.tx, dev, v + p, first + p, log2, ir, iw, this.obs)) {
          // A table in the way of a large page (Linux would replace it): map these pages one by one.
          if (log2 === 12) return false;
          for (let q = 0; q < 2 ** (log2 - 12); q++) if (!iommuMapPage(this.tx, dev, v + p + q, first + p + q, ir, iw, this.obs)) return false;
        }
        p += 2 ** (log2 - 12);
      }
      v += n;
    }
    if (this.obs.detail) this.obs.note(`IOMMU dom ${dev}: IOVA pages 0x${this.iova(m).toString(16)}+${this.pages(m)} mapped`);
    return true;
  }
  /**
   * Linux iommu_pgsize: the largest page size the IOMMU offers that is no
   * larger than `pages` pages and to which both IOVA page `v` and frame `f`
   * are aligned, as log2 of its bytes.
   */
  pageSizeFor(v: number, f: number, pages: number): number {
    let log2 = 12;
    for (let k = 1; 2 ** k <= pages && v % 2 ** k === 0 && f % 2 ** k === 0; k++) {
      if (iommuPageSizeOffered(this.tx.g.vtd, this.tx.g.cfg.iommuLevels, 12 + k)) log2 = 12 + k;
    }
    return log2;
  }
  /**
   * Maps the p-th IOVA page of mapping `m` (page iova(m) + p) to the frame
   * mapSegments would give it (its segment's bounce slot or buffer frame),
   * with the direction's permissions. A handler that maps one page and
   * returns a phase ends the step there: that is a preemption point (Linux
   * vfio_pin_map_dma's cond_resched between chunks), so a device access or an
   * IOMMU walk can fall between two of its page-table writes. False when a
   * table frame could not be allocated, or p is beyond the mapping.
   */
  mapSegmentPage(m: number, p: number): boolean {
    let at = 0;
    for (let i = 0; i < this.segments(m); i++) {
      const n = this.segPages(m, i);
      if (p < at + n) {
        const slot = this.segBounce(m, i);
        const frame = (slot >= 0 ? slot : this.segFirstFrame(m, i)) + (p - at);
        const dir = mDir(this.tx.c[MAPS], m);
        return iommuMapPage(this.tx, this.dev(m), this.iova(m) + p, frame, dirAllowsRead(dir), dirAllowsWrite(dir), this.obs);
      }
      at += n;
    }
    return false;
  }
  /** Maps one IOVA page to a frame with explicit permissions. */
  mapPage(dev: number, v: number, frame: number, read: boolean, write: boolean): boolean {
    return iommuMapPage(this.tx, dev, v, frame, read, write, this.obs);
  }
  /** Clears [first, first+pages); emptied tables are detached with `tag` (default: this context). */
  unmapPages(dev: number, first: number, pages: number, tag = this.ctx): number {
    const n = iommuUnmapPages(this.tx, dev, first, pages, tag, this.obs);
    if (this.obs.detail) this.obs.note(`IOMMU dom ${dev}: IOVA pages 0x${first.toString(16)}+${pages} cleared`);
    return n;
  }
  /** Whether any table frame is detached with `tag` (default: this context), waiting to be freed. */
  hasDetachedTables(tag = this.ctx): boolean {
    const fr = this.tx.c[FRAMES];
    for (let f = 0; f < this.tx.g.cfg.frames; f++) if (isDetachedWithTag(fr, f, tag)) return true;
    return false;
  }
  /** Frees the table frames detached with `tag` (default: this context). */
  freeDetachedTables(tag = this.ctx): number {
    return freeDetachedTables(this.tx, tag, false, this.obs);
  }

  // --- command queue
  cmdSpace(): number {
    return cmdSpace(this.tx);
  }
  /** Commands one invalidation of `dev`'s domain takes (2 with ATS: the device's ATC too). */
  invalidationCommands(dev: number): number {
    return invalidationCommands(this.tx, dev);
  }
  /** The devices are untrusted (Linux: never passthrough, never lazy, no ATS for them). */
  get untrusted(): boolean {
    return this.tx.g.cfg.untrusted === true;
  }
  /** INVALIDATE_IOMMU_PAGES for the range, then (with ATS) the device's ATC, as Linux domain_flush_pages does. */
  invalidatePages(dev: number, first: number, pages: number, pde: boolean): boolean {
    return queueInvalidatePages(this.tx, dev, first, pages, pde, this.obs);
  }
  /** INVALIDATE_IOMMU_PAGES for the range only: the device's ATC is left to invalidateDeviceTlb, in the order the policy chooses. */
  invalidateIommuPages(dev: number, first: number, pages: number, pde: boolean): boolean {
    return queueInvalidatePages(this.tx, dev, first, pages, pde, this.obs, false);
  }
  /** INVALIDATE_IOTLB_PAGES for the range of `dev`'s own ATC; true, queueing nothing, without ATS; false when full. */
  invalidateDeviceTlb(dev: number, first: number, pages: number): boolean {
    return queueDeviceTlbInvalidation(this.tx, dev, first, pages, this.obs);
  }
  invalidateAll(dev: number): boolean {
    return queueInvalidateAll(this.tx, dev, this.obs);
  }
  /** Queues COMPLETION_WAIT for this context; false when the buffer is full (completionDone is then false until a later wait executes). */
  completionWait(): boolean {
    return queueCompletionWait(this.tx, this.ctx, this.obs);
  }
  /** Whether the last COMPLETION_WAIT queued for context `ctx` (default: this one) has executed; false after a failed completionWait. */
  completionDone(ctx = this.ctx): boolean {
    return completionDone(this.tx, ctx);
  }

  // --- flush queue (per domain and CPU, Linux struct iommu_dma_cookie; the timer context has no ring)
  /**
   * Whether this CPU's ring of domain `dom` is full (Linux fq_full). Without
   * `dom` (the form before rings were per domain): whether any of this CPU's
   * rings is full, so a policy that flushes everything then pushes still finds room.
   */
  fqFull(dom = -1): boolean {
    return fqFull(this.tx, this.ctx, dom);
  }
  /**
   * Queues [first, first+pages) of `dev`'s domain on this CPU's ring (Linux
   * queue_iova's fq_ring_add). False, queueing nothing, when the ring is full,
   * unless `wrap`: then, as Linux's fq_ring_add, the full ring wraps and its
   * entries are lost (their IOVAs and table pages leak) before this one is queued.
   */
  fqPush(dev: number, first: number, pages: number, wrap = false): boolean {
    const ok = fqPush(this.tx, this.ctx, dev, first, pages, wrap, this.obs);
    if (ok && this.obs.detail) this.obs.note(`flush queue of cpu${this.ctx}, dom ${dev}: IOVA pages 0x${first.toString(16)}+${pages} queued`);
    return ok;
  }
  /** Releases what finished flushes already cover on this CPU's ring of domain `dom` (Linux fq_ring_free, as queue_iova does first). */
  fqRingFree(dom: number): void {
    if (this.ctx < this.tx.g.cfg.cpus) fqRingFree(this.tx, dom, this.ctx, this.obs);
  }
  /** A flush of domain `dom` starts (fq_flush_start_cnt++); without `dom`, of every domain. Queue its invalidations in the same step. */
  fqStartFlush(dom = -1): void {
    fqStartFlush(this.tx, dom);
  }
  /**
   * A flush of domain `dom` completed (fq_flush_finish_cnt++): release what
   * it covers on this CPU's ring only with `ownRing` (a ring-full flush,
   * queue_iova), else on every CPU's ring of the domain (the timer's,
   * fq_flush_timeout). Without `dom`, a flush of every domain, every ring.
   */
  fqFinishFlush(dom = -1, ownRing = false): void {
    fqFinishFlush(this.tx, this.obs, dom, ownRing ? this.ctx : -1);
  }
  /** Arms domain `dom`'s flush timer for fqTimeoutMs unless it is on (Linux fq_timer_on, mod_timer); its expiry runs the policy's fqTimer. */
  armFqTimer(dom: number): void {
    armFqTimer(this.tx, dom, this.tx.g.cfg.fqTimeoutMs);
  }
  /** Whether domain `dom`'s flush timer is armed, or expired and pending. */
  fqTimerArmed(dom: number): boolean {
    return fqTimer(this.tx.c[FQ], this.tx.g, dom) !== 0;
  }

  // --- the one-shot timer (model time in ms)
  armTimer(ms: number): void {
    if (this.tx.c[HDR][H_TIMER] === 0) this.tx.w(HDR)[H_TIMER] = ms;
  }
  timerArmed(): boolean {
    return this.tx.c[HDR][H_TIMER] !== 0;
  }

  // --- policy-private words
  pol(i: number): number {
    return this.tx.c[POL][i];
  }
  setPol(i: number, v: number): void {
    if (this.tx.c[POL][i] !== v) this.tx.w(POL)[i] = v;
  }

  /**
   * INVEPT (single-context) for the VM's EPT TLB in the policy words from
   * `first` (model/vm-ept.ts): every vCPU forgets every guest-physical
   * translation. Counted as a TLB shootdown.
   */
  invept(first: number): void {
    invept(this.tx, first);
    this.obs.counters[C.tlbShootdowns]++;
  }

  count(counter: keyof typeof C, n = 1): void {
    this.obs.counters[C[counter]] += n;
  }
  note(text: string): void {
    if (this.obs.detail) this.obs.note(text);
  }
}
