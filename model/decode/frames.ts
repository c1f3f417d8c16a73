/**
 * Frames decoded: role, owner, block, flags, what the bytes hold; the buddy
 * free lists; the pin counts (docs/state.md "Physical frames and the buddy
 * allocator"; physical-memory.ts, pinning.ts).
 */
import { processesOf } from "../config.ts";
import { FRAMES, FRAME_W, type Geometry } from "../geometry.ts";
import { KMALLOC_CLASSES } from "../config.ts";
import { ownerName } from "../objects.ts";
import {
  contentsName, F_DETACHED, F_HEAD, F_RELEASED, F_STALE, F_USER_SHARED, userSharedProcess, frameAux, frameData, frameFlags, frameOrder, frameRole, ROLE_BOUNCE, ROLE_GUEST,
  ROLE_HOST, ROLE_IO_BUFFER, ROLE_IO_POOL, ROLE_IOMMU_PT, ROLE_KERNEL, ROLE_MMU_PT, ROLE_MORSEL_PT, ROLE_MORSEL_VIEW, ROLE_NAMES, ROLE_SHADOW,
  ROLE_SLAB, ROLE_USER,
} from "../physical-memory.ts";
import { pinCount } from "../pinning.ts";
import { TAG_FQ } from "../iommu-page-table.ts";
import { MORSEL_SHARED } from "../morsel.ts";
import { VIEW_FORMAT_NAMES } from "../morsel-view.ts";
import { type State, type Words } from "../state.ts";
import { hex } from "./record.ts";

export type FrameRecord = {
  readonly kind: "frame";
  readonly key: string;
  readonly role: string;
  /** Who the frame belongs to: "kernel", "driver of dev0", "dom 1", "mapping #2"...; "-" when nobody in particular. */
  readonly owner: string;
  /** Buddy order of its block, and whether it is the block's first frame. */
  readonly order: number;
  readonly head: boolean;
  /** F_DETACHED, F_RELEASED, F_STALE by name, comma-separated; "" for none. */
  readonly flags: string;
  /** What the role data says: the table a page-table frame holds, a slab's class, a pool page's IOVA... */
  readonly detail: string;
  /** Whose data the bytes no live object covers hold (ghost state of leftover-data). */
  readonly contents: string;
}

export type FreeListRecord = {
  readonly kind: "free-list";
  readonly key: string;
  readonly order: number;
  /** First block on the list (the next one handed out). */
  readonly head: number;
}

export type PinRecord = {
  readonly kind: "pin";
  readonly key: string;
  readonly frame: number;
  readonly pins: number;
}

const GUEST_BACKING = ["ordinary", "devdax", "guest-memfd"];
const HOST_STATES = ["host-owned", "host, being unplugged"];

/** The table a page-table frame holds, from its role data (level | prefix << 4, iommu-page-table.ts tableKey). */
function tableText(key: number, what: string): string {
  const level = key & 0xf;
  const first = (key >>> 4) * 2 ** (9 * level);
  return `${what} level ${level} table, pages ${hex(first)}..${hex(first + 2 ** (9 * level) - 1)}`;
}

function ownerAndDetail(fr: Words, f: number, processes: number): [string, string] {
  const role = frameRole(fr, f), aux = frameAux(fr, f), data = frameData(fr, f);
  switch (role) {
    case ROLE_USER:
      // aux: OWNER_USER + the process (model/mmu.ts); process 0's pages are "user", as with one process.
      return [aux <= 1 ? ownerName(aux) : `user process ${aux - 1}`, ""];
    case ROLE_KERNEL: case ROLE_IO_BUFFER:
      return [ownerName(aux), ""];
    case ROLE_SLAB:
      return ["-", `kmalloc-${KMALLOC_CLASSES[aux]} slab`];
    case ROLE_IOMMU_PT: {
      const tag = aux >>> 8;
      const w1 = fr[f * FRAME_W + 1] >>> 16;
      const detached = (frameFlags(fr, f) & F_DETACHED) !== 0;
      // The tag names who frees a detached frame: the context whose unmap detached it, or the flush queue.
      const freedBy = !detached ? "" : tag === TAG_FQ ? `, freed by a flush${w1 === 0 ? "" : ` (queued at counter ${w1 - 1})`}` : `, freed by context ${tag}`;
      return [`dom ${aux & 0xff}`, tableText(data, "IOMMU") + freedBy];
    }
    case ROLE_MMU_PT:
      return [aux === 0 ? "kernel" : "user", `MMU level ${data} table`];
    case ROLE_BOUNCE:
      return [aux === 0 ? "-" : `mapping #${aux - 1}`, "swiotlb bounce slot frame"];
    case ROLE_SHADOW:
      return [`dev${aux}`, "shadow page"];
    case ROLE_IO_POOL: {
      const v = data & 0x1fff;
      const grant = processes > 1 && (frameFlags(fr, f) & F_USER_SHARED) !== 0 ? `, granted to user process ${userSharedProcess(fr, f)}` : "";
      return [`dev${aux}`, `pool page${v === 0 ? ", not mapped" : `, IOVA page window+${v - 1}`}, ${data >>> 13} reference(s)${grant}`];
    }
    case ROLE_GUEST:
      return ["guest", `${GUEST_BACKING[aux] ?? aux} backing`];
    case ROLE_MORSEL_PT:
      return ["-", `${tableText(data, "morsel")}${(aux & MORSEL_SHARED) !== 0 ? ", shared with the IOMMU" : ""}`];
    case ROLE_MORSEL_VIEW:
      return ["-", `${tableText(data, `${VIEW_FORMAT_NAMES[aux >>> 13] ?? "?"} view`)} of morsel table ${aux & 0x1fff}`];
    case ROLE_HOST:
      return ["host", HOST_STATES[aux] ?? `state ${aux}`];
    default:
      return ["-", ""];
  }
}

function flagNames(flags: number): string {
  const out: string[] = [];
  if ((flags & F_DETACHED) !== 0) out.push("detached");
  if ((flags & F_RELEASED) !== 0) out.push("released");
  if ((flags & F_STALE) !== 0) out.push("stale");
  return out.join(",");
}

export function decodeFrames(g: Geometry, s: State): FrameRecord[] {
  const fr = s[FRAMES];
  const out: FrameRecord[] = [];
  for (let f = 0; f < g.cfg.frames; f++) {
    const [owner, detail] = ownerAndDetail(fr, f, processesOf(g.cfg));
    out.push({
      kind: "frame", key: String(f), role: ROLE_NAMES[frameRole(fr, f)] ?? `role ${frameRole(fr, f)}`, owner,
      order: frameOrder(fr, f), head: (frameFlags(fr, f) & F_HEAD) !== 0, flags: flagNames(frameFlags(fr, f)), detail,
      contents: contentsName(fr[f * FRAME_W + 3]),
    });
  }
  return out;
}

/** Non-empty buddy free lists: their head blocks (frame + 1 in the state, after the frame records). */
export function decodeFreeLists(g: Geometry, s: State): FreeListRecord[] {
  const fr = s[FRAMES];
  const out: FreeListRecord[] = [];
  for (let o = 0; o <= g.cfg.maxOrder; o++) {
    const head = fr[g.cfg.frames * FRAME_W + o] - 1;
    if (head >= 0) out.push({ kind: "free-list", key: `order ${o}`, order: o, head });
  }
  return out;
}

export function decodePins(g: Geometry, s: State): PinRecord[] {
  const out: PinRecord[] = [];
  for (let f = 0; f < g.cfg.frames; f++) {
    const n = pinCount(s[FRAMES], f);
    if (n > 0) out.push({ kind: "pin", key: `frame ${f}`, frame: f, pins: n });
  }
  return out;
}
