/**
 * The closed vocabulary of events. Every execution of the model is a sequence
 * of these; a counterexample file stores exactly this sequence.
 *
 * Parameters that pick "which one" are relative to the state (the k-th live
 * mapping, modulo how many there are) so that every event applies in every
 * state and shrinking a trace keeps it meaningful. An event that still cannot
 * apply (no mapping to unmap, a busy CPU) is a no-op with a reason.
 */

/** DMA direction, as in Linux enum dma_data_direction. */
export type Direction = "to-device" | "from-device" | "bidirectional";
export const DIRECTIONS: readonly Direction[] = ["to-device", "from-device", "bidirectional"];

/** Where a driver's buffer comes from: kmalloc (slab objects share frames) or whole pages. */
export type BufferSource = "kmalloc" | "pages";

export type Event =
  /** A driver on `cpu` allocates a buffer of `size` bytes and calls dma_map_single for `dev`. With
   * `offset` and/or `len` it maps only [offset, offset + len) of the allocation (dma_map_page of a
   * sub-range, dma_map_single of an interior pointer); absent: offset 0, the rest of the buffer. */
  | {
    readonly t: "map"; readonly cpu: number; readonly dev: number; readonly src: BufferSource; readonly size: number; readonly dir: Direction;
    readonly offset?: number; readonly len?: number;
  }
  /** A driver kmallocs one buffer per entry of `sizes` and calls dma_map_sg. */
  | { readonly t: "map-sg"; readonly cpu: number; readonly dev: number; readonly sizes: readonly number[]; readonly dir: Direction }
  /** dma_alloc_coherent: 2^order zeroed pages mapped bidirectionally until freed. */
  | { readonly t: "alloc-coherent"; readonly cpu: number; readonly dev: number; readonly order: number }
  /** dma_unmap_* (or dma_free_coherent) of the k-th live mapping; with `free`, the
   * driver frees the buffer as soon as the unmap returns (a received packet consumed). */
  | { readonly t: "unmap"; readonly cpu: number; readonly k: number; readonly free: boolean }
  /** A blocked call runs on: the one on context `cpu` (a CPU, or the timer context numbered
   * `cpus`), or if that context is idle, the next context (cyclically) with a call in progress. */
  | { readonly t: "resume"; readonly cpu: number }
  /** The IOMMU executes the next command in its command buffer. */
  | { readonly t: "iommu" }
  /** Device `dev` reads or writes `len` bytes at IOVA page `page` of its window
   * (for a passthrough device, physical frame `page`) plus `offset`. */
  | { readonly t: "dma"; readonly dev: number; readonly write: boolean; readonly page: number; readonly offset: number; readonly len: number }
  /** With ATS: device `dev` sends a translated request for window page `page` using its own
   * translation cache (ATC), first asking the IOMMU for the translation if the ATC has none. */
  | { readonly t: "ats-dma"; readonly dev: number; readonly write: boolean; readonly page: number; readonly offset: number; readonly len: number }
  /** An untrusted device forges a translated request for physical frame `frame` (Thunderclap's ATS attack). */
  | { readonly t: "dma-translated"; readonly dev: number; readonly write: boolean; readonly frame: number; readonly offset: number; readonly len: number }
  /** The kernel allocates an object of `size` bytes for its own use (kmalloc; page allocator above 8 KiB). */
  | { readonly t: "kmalloc"; readonly size: number }
  /** The kernel frees its k-th own object. */
  | { readonly t: "kfree"; readonly k: number }
  /** `ms` milliseconds of model time pass; timers that expire fire. */
  | { readonly t: "tick"; readonly ms: number }
  /** The user process touches virtual page `page` (a page fault allocates and maps it). */
  | { readonly t: "user-touch"; readonly cpu: number; readonly page: number; readonly write: boolean }
  /** The user process unmaps virtual page `page` (munmap: clear PTE, TLB shootdown, free). */
  | { readonly t: "user-unmap"; readonly cpu: number; readonly page: number }
  /** The kernel loads from physical frame `frame` through its direct map (any kernel access by
   * physical address: a read gadget, a speculative load, /proc/kcore). */
  | { readonly t: "kernel-read"; readonly frame: number }
  /** A vCPU of the virtual machine (on `cpu`) reads or writes guest-physical page `page` of the
   * window through the VM's EPT: its EPT TLB entry, else a walk of the EPT tables the VMM linked
   * there (model/vm-ept.ts; only under a policy that mounts memory into a VM, e.g. vm-morsel). */
  | { readonly t: "guest-access"; readonly cpu: number; readonly page: number; readonly write: boolean }
  /** The user process owning virtual page `page` asks the kernel for the I/O page behind it
   * (MAIO: a received buffer delivered to it, or a free pool page to send from); the policy's userGet. */
  | { readonly t: "user-get"; readonly cpu: number; readonly page: number }
  /** The user process owning virtual page `page` returns the I/O page behind it (MAIO's put_page
   * by the process: the received data is consumed, or the page is given back); the policy's userPut. */
  | { readonly t: "user-put"; readonly cpu: number; readonly page: number }
  /** XDP_TX: the driver on `cpu` retransmits the k-th received buffer the kernel holds (its unmap
   * returned, not yet freed) on the device that received it: a to-device mapping of that buffer,
   * through the policy's map; its unmap with `free` is the transmit completion. */
  | { readonly t: "xdp-tx"; readonly cpu: number; readonly k: number };

export type EventTag = Event["t"];
export const EVENT_TAGS: readonly EventTag[] = [
  "map", "map-sg", "alloc-coherent", "unmap", "resume", "iommu", "dma", "ats-dma", "dma-translated", "kmalloc", "kfree", "tick",
  "user-touch", "user-unmap", "kernel-read", "guest-access", "user-get", "user-put", "xdp-tx",
];

/** " [+0x800 len 4096]" for a map of a range inside its allocation, "" for the whole buffer. */
function mapRange(e: Extract<Event, { t: "map" }>): string {
  if (e.offset === undefined && e.len === undefined) return "";
  return ` [+0x${(e.offset ?? 0).toString(16)}${e.len === undefined ? "" : ` len ${e.len}`}]`;
}

/** A short, stable, human-readable rendering of an event (used in traces). */
export function formatEvent(e: Event): string {
  switch (e.t) {
    case "map": return `map cpu${e.cpu} dev${e.dev} ${e.src} ${e.size}B${mapRange(e)} ${e.dir}`;
    case "map-sg": return `map-sg cpu${e.cpu} dev${e.dev} [${e.sizes.join(",")}]B ${e.dir}`;
    case "alloc-coherent": return `alloc-coherent cpu${e.cpu} dev${e.dev} order ${e.order}`;
    case "unmap": return `unmap cpu${e.cpu} mapping#${e.k}${e.free ? " +free" : ""}`;
    case "resume": return `resume ctx${e.cpu}`;
    case "iommu": return "iommu executes next command";
    case "dma": return `dma dev${e.dev} ${e.write ? "write" : "read"} page ${e.page} +0x${e.offset.toString(16)} len ${e.len}`;
    case "ats-dma": return `ats-dma dev${e.dev} ${e.write ? "write" : "read"} page ${e.page} +0x${e.offset.toString(16)} len ${e.len} (translated, via its ATC)`;
    case "dma-translated": return `dma-translated dev${e.dev} ${e.write ? "write" : "read"} frame ${e.frame} +0x${e.offset.toString(16)} len ${e.len} (forged)`;
    case "kmalloc": return `kmalloc ${e.size}B (kernel)`;
    case "kfree": return `kfree kernel object #${e.k}`;
    case "tick": return `tick ${e.ms} ms`;
    case "user-touch": return `user ${e.write ? "write" : "read"} vpage ${e.page} (cpu${e.cpu})`;
    case "user-unmap": return `user munmap vpage ${e.page} (cpu${e.cpu})`;
    case "kernel-read": return `kernel reads frame ${e.frame} through the direct map`;
    case "guest-access": return `guest ${e.write ? "write" : "read"} guest-physical page ${e.page} (vcpu${e.cpu}, through the EPT)`;
    case "user-get": return `user gets the I/O page at vpage ${e.page} (cpu${e.cpu})`;
    case "user-put": return `user puts the I/O page at vpage ${e.page} (cpu${e.cpu})`;
    case "xdp-tx": return `xdp-tx cpu${e.cpu} held buffer#${e.k}`;
  }
}
