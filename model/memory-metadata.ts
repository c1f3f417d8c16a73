/**
 * Per-page memory metadata: what the kernel spends on `struct page` (the
 * vmemmap) for a host's memory, under each way of backing it.
 *
 * Sources (docs/reference/formats.md section 8):
 * - Linux Documentation/mm/vmemmap_dedup.rst: "In most cases, the size of
 *   struct page is 64 bytes (e.g. x86-64 and arm64)", so the vmemmap is 64 B
 *   per 4 KiB page, 1.5625 % of RAM, 16 GiB per TiB.
 * - HugeTLB Vmemmap Optimization (HVO), same file and mm/hugetlb_vmemmap.c: a
 *   2 MiB HugeTLB page has 512 struct pages = 8 vmemmap pages; pages 1..7 are
 *   remapped read-only onto page 0 and freed ("free the remaining 7 pages to
 *   the buddy allocator"). A 1 GiB page has 4096 vmemmap pages, of which
 *   "(PAGE_SIZE - 1)" = 4095 are freed. HUGETLB_VMEMMAP_RESERVE_SIZE is one page.
 * - Device DAX, same file: "device-dax reuses the tail vmemmap page" (page 0
 *   is the head, page 1 the one reused tail), so a 2 MiB compound page keeps
 *   2 of its 8 vmemmap pages: 6 of 8 freed, "only half of the savings".
 * - Pageless memory (KVM Forum 2020, J. Martins, "Towards an Alternative
 *   Memory Architecture"; docs/reference/morsels.md): guest memory handed out by a
 *   device-dax-like driver without struct pages at all, and outside the
 *   kernel direct map: no metadata.
 */

/** sizeof(struct page) on x86-64 and arm64 (vmemmap_dedup.rst). */
export const STRUCT_PAGE_BYTES = 64;
/** The base page: PAGE_SIZE on x86-64. */
export const BASE_PAGE_BYTES = 4096;
export const MIB = 2 ** 20;
export const GIB = 2 ** 30;
export const TIB = 2 ** 40;

/**
 * How memory is backed, as far as its metadata goes. `pageBytes` is the unit
 * the scheme manages (one compound page); `keptVmemmapPages` of the
 * unit's vmemmap pages stay allocated (null: all of them).
 */
export interface MetadataScheme {
  readonly scheme: string;
  readonly summary: string;
  readonly pageBytes: number;
  /** vmemmap pages kept per unit; null = every vmemmap page (no deduplication); 0 = no struct pages at all. */
  readonly keptVmemmapPages: number | null;
}

export const METADATA_SCHEMES: readonly MetadataScheme[] = [
  { scheme: "ordinary", summary: "4 KiB pages, one 64-byte struct page each", pageBytes: BASE_PAGE_BYTES, keptVmemmapPages: null },
  { scheme: "hugetlb-2m", summary: "2 MiB HugeTLB pages without HVO (hugetlb_free_vmemmap off)", pageBytes: 2 * MIB, keptVmemmapPages: null },
  { scheme: "hugetlb-2m-hvo", summary: "2 MiB HugeTLB pages with HVO: 7 of 8 vmemmap pages freed", pageBytes: 2 * MIB, keptVmemmapPages: 1 },
  { scheme: "hugetlb-1g-hvo", summary: "1 GiB HugeTLB pages with HVO: 4095 of 4096 vmemmap pages freed", pageBytes: GIB, keptVmemmapPages: 1 },
  { scheme: "devdax-2m", summary: "device-dax 2 MiB compound pages: head and one reused tail vmemmap page kept, 6 of 8 freed", pageBytes: 2 * MIB, keptVmemmapPages: 2 },
  { scheme: "pageless", summary: "pageless memory: no struct page, not in the direct map", pageBytes: BASE_PAGE_BYTES, keptVmemmapPages: 0 },
];

export function findMetadataScheme(name: string): MetadataScheme | undefined {
  return METADATA_SCHEMES.find((s) => s.scheme === name);
}

/** vmemmap pages that describe one unit of the scheme without deduplication. */
export function vmemmapPagesPerUnit(s: MetadataScheme): number {
  return ((s.pageBytes / BASE_PAGE_BYTES) * STRUCT_PAGE_BYTES) / BASE_PAGE_BYTES;
}

/** vmemmap pages freed per unit (7 for HVO on 2 MiB, 4095 on 1 GiB, 6 for device-dax 2 MiB). */
export function vmemmapPagesFreedPerUnit(s: MetadataScheme): number {
  const all = vmemmapPagesPerUnit(s);
  if (s.keptVmemmapPages === null) return 0;
  return Math.max(0, all - s.keptVmemmapPages);
}

/**
 * struct-page bytes for `hostBytes` of memory backed by the scheme. The host
 * is covered by whole units; a partial last unit counts as a whole one (it
 * still needs its struct pages).
 */
export function metadataBytes(s: MetadataScheme, hostBytes: number): number {
  const units = Math.ceil(hostBytes / s.pageBytes);
  if (s.keptVmemmapPages === 0) return 0;
  if (s.keptVmemmapPages === null) return units * (s.pageBytes / BASE_PAGE_BYTES) * STRUCT_PAGE_BYTES;
  // Deduplication cannot save what a unit smaller than one vmemmap page does not have.
  const kept = Math.min(s.keptVmemmapPages, vmemmapPagesPerUnit(s));
  return units * kept * BASE_PAGE_BYTES;
}

/** One row of the metadata experiment. */
export interface MetadataRow {
  readonly scheme: string;
  readonly hostBytes: number;
  readonly metadataBytes: number;
  /** metadataBytes / hostBytes x 100. */
  readonly percent: number;
}

export function metadataRows(hostBytes: number, schemes: readonly MetadataScheme[] = METADATA_SCHEMES): MetadataRow[] {
  return schemes.map((s) => {
    const m = metadataBytes(s, hostBytes);
    return { scheme: s.scheme, hostBytes, metadataBytes: m, percent: hostBytes > 0 ? (m / hostBytes) * 100 : 0 };
  });
}
