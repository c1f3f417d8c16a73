/** The CPUs' TLB entries for the user process, and mm_cpumask, decoded (docs/state.md "The CPU MMU"; mmu.ts). */
import { MMU, type Geometry } from "../geometry.ts";
import { USER_VPAGE_BASE } from "../mmu.ts";
import { type State } from "../state.ts";
import { hex } from "./record.ts";

export type TlbRecord = {
  readonly kind: "tlb";
  /** "cpu0 0x10000000": the CPU and the user virtual address; "cpu1 mm_cpumask" for the mask bit. */
  readonly key: string;
  readonly frame: number | null;
  readonly writable: boolean;
}

export function decodeTlb(g: Geometry, s: State): TlbRecord[] {
  const m = s[MMU];
  const out: TlbRecord[] = [];
  for (let cpu = 0; cpu < g.cfg.cpus; cpu++) {
    for (let p = 0; p < g.cfg.userPages; p++) {
      const w = m[cpu * g.cfg.userPages + p];
      if (w === 0) continue;
      out.push({ kind: "tlb", key: `cpu${cpu} ${hex((USER_VPAGE_BASE + p) * 4096)}`, frame: (w & 0xffff) - 1, writable: (w >>> 16 & 1) !== 0 });
    }
  }
  for (let cpu = 0; cpu < g.cfg.cpus; cpu++) {
    if (m[g.cfg.cpus * g.cfg.userPages + cpu] !== 0) out.push({ kind: "tlb", key: `cpu${cpu} mm_cpumask`, frame: null, writable: false });
  }
  return out;
}
