/**
 * direct-map-exclusion ("guest memory is not reachable through the kernel
 * direct map").
 *
 * Formally: for every transition whose observation contains a kernel access
 * through the direct map (a kernel-read event: a load from PAGE_OFFSET +
 * physical address) that reached frame f, f is not guest memory. Guest
 * memory is the configured guest region (model/memory-regions.ts); a read
 * that faults (the frame is not in the direct map) reaches nothing.
 *
 * Why: with guest RAM in the direct map, any host-kernel primitive that
 * reads by physical address - a speculative-execution gadget, an
 * arbitrary-read bug, /proc/kcore - reads guest data. Source: KVM Forum
 * 2020, J. Martins, "Towards an Alternative Memory Architecture" (the direct
 * map maps all physical memory, and pageless guest memory leaves it;
 * docs/reference/morsels.md); guest_memfd's
 * GUEST_MEMFD_FLAG_NO_DIRECT_MAP proposal and Linux mm/secretmem.c
 * (set_direct_map_invalid_noflush) for the same goal with struct pages.
 *
 * It depends on how guest memory is backed, not on the DMA policy: violated
 * for "ordinary" guest memory, holds for "devdax" (pageless) and
 * "guest-memfd" (no direct map). Without a guest region it holds trivially.
 */
import { type Property, type Violation } from "./property.ts";
import { FRAMES } from "../model/geometry.ts";
import { frameAux } from "../model/physical-memory.ts";
import { isGuestFrame } from "../model/memory-regions.ts";
import { GUEST_MEMORY_KINDS } from "../model/config.ts";
import { PAGE_OFFSET_VPAGE } from "../model/mmu.ts";

export const directMapExclusion: Property = {
  name: "direct-map-exclusion",
  summary: "guest memory is never reachable through the kernel direct map",
  // Without a guest region no frame is guest memory, so no read can reach one.
  inert: (cfg) => cfg.guestMemory === undefined,
  antecedent: {
    summary: "a kernel read through the direct map aimed at a guest frame",
    cases: ["guest frame read"],
    context: ["other frame read"],
    count(sys, _pre, e, _obs, post, counts, at): void {
      if (e.t !== "kernel-read") return;
      counts[at + (isGuestFrame(post[FRAMES], e.frame % sys.cfg.frames) ? 0 : 1)]++;
    },
  },
  check(_sys, _pre, e, obs, post): Violation | null {
    if (e.t !== "kernel-read" || obs.kernelFrame < 0) return null;
    const f = obs.kernelFrame;
    const fr = post[FRAMES];
    if (!isGuestFrame(fr, f)) return null;
    return {
      property: "direct-map-exclusion",
      frame: f,
      message: `the kernel read frame ${f} through the direct map (virtual address 0x${(BigInt(PAGE_OFFSET_VPAGE + f) << 12n).toString(16)}); ` +
        `frame ${f} is guest memory (${GUEST_MEMORY_KINDS[frameAux(fr, f)] ?? "guest"}) that the host kernel can read`,
    };
  },
};
