/**
 * The VM's CPUs reaching memory through the EPT (issue 13 part 5): the
 * `guest-access` event. A vCPU reads or writes a guest-physical page; the
 * hardware translates it through the VM's extended page tables, as Intel SDM
 * vol. 3C ch. 29 "EPT" describes: an EPT TLB entry for the page if the vCPU
 * has one, else a walk of the EPT, which then fills the EPT TLB. Only INVEPT
 * removes EPT TLB entries (SDM 3C 29.4.3.1: "INVEPT ... invalidates
 * guest-physical mappings"; Linux arch/x86/kvm/vmx/vmx.c vmx_flush_tlb_*
 * issues it after the VMM changes the EPT). A write needs EPT W, a read EPT R
 * (bits 1 and 0, model/formats/ept-pte.ts); an entry without them is an EPT
 * violation (a VM exit; the access reaches nothing).
 *
 * The VM's EPT here is only what a policy mounts into it: the policy's
 * `eptTable(k, page)` names the level-1 EPT table the VMM linked for the
 * page (a morsel view table in EPT format, model/morsel-view.ts); the upper
 * levels of the VM's EPT and the rest of guest memory are not modelled.
 * The hardware walks that table's entry with the bit-exact EPT decoder.
 *
 * The EPT TLB lives in the policy's words from `eptTlbWord` on (the policy
 * reserves them): one word per vCPU per window page, 0 or
 * (frame + 1) | writable << 14 | (primary table + 1) << 15, where `primary`
 * is the morsel (x86-64) table the walked view table mirrors, so that
 * view-refinement can compare what the vCPU reached with what the primary
 * maps now (frames < 8192, model/config.ts).
 */
import { C } from "./counters.ts";
import { FRAMES, POL, PTMEM, PT_W } from "./geometry.ts";
import { type Kernel } from "./kernel.ts";
import { type Observation } from "./observation.ts";
import { type Policy } from "./policy.ts";
import { ptFind } from "./page-table-memory.ts";
import { type Tx } from "./state.ts";
import { tableIndex } from "./iommu-page-table.ts";
import { frameRole, ROLE_MORSEL_VIEW } from "./physical-memory.ts";
import { VIEW_EPT, viewFormat, viewPrimary } from "./morsel-view.ts";
import { EPT_LO_READ, EPT_LO_WRITE, eptIsLeaf, eptLeafPfn } from "./formats/ept-pte.ts";

/** Words of EPT TLB a policy reserves: one per vCPU per window page. */
export function eptTlbWords(cpus: number, windowPages: number): number {
  return cpus * windowPages;
}

function tlbWord(tx: Tx, first: number, cpu: number, page: number): number {
  return first + cpu * tx.g.winPages + page;
}

/** INVEPT (single-context: every guest-physical mapping of the VM, on every vCPU). */
export function invept(tx: Tx, first: number): void {
  const n = Math.min(eptTlbWords(tx.g.cfg.cpus, tx.g.winPages), tx.g.polWords - first);
  const pol = tx.c[POL];
  for (let i = first; i < first + n; i++) {
    if (pol[i] !== 0) {
      tx.w(POL).fill(0, first, first + n);
      return;
    }
  }
}

/** A vCPU on `cpu` reads or writes guest-physical window page `page` through the VM's EPT. */
export function guestAccess(tx: Tx, policy: Policy, k: Kernel, cpu: number, page: number, write: boolean, obs: Observation): void {
  if (policy.eptTable === undefined || policy.eptTlbWord === undefined) return obs.skip("the policy mounts nothing into a VM's EPT");
  cpu %= tx.g.cfg.cpus;
  page %= tx.g.winPages;
  if (policy.eptTlbWord + eptTlbWords(tx.g.cfg.cpus, tx.g.winPages) > tx.g.polWords) return obs.skip("the policy's EPT TLB words lie beyond its stateWords");
  const w = tlbWord(tx, policy.eptTlbWord, cpu, page);
  const cached = tx.c[POL][w];
  if (cached !== 0) {
    if (write && (cached & (1 << 14)) === 0) return obs.skip("EPT violation: the cached translation is read-only");
    return reached(obs, (cached & 0x3fff) - 1, page, write, (cached >>> 15) - 1, true);
  }
  k.ctx = cpu;
  const table = policy.eptTable(k, page);
  if (table < 0 || table >= tx.g.cfg.frames) return obs.skip("EPT violation: the VM's EPT maps nothing there");
  const fr = tx.c[FRAMES];
  if (frameRole(fr, table) !== ROLE_MORSEL_VIEW || viewFormat(fr, table) !== VIEW_EPT) return obs.skip("EPT violation: no EPT table there");
  const v = tx.g.winBase + page;
  const p = ptFind(tx.c[PTMEM], table, tableIndex(v, 1));
  obs.counters[C.walkRefs]++; // the leaf entry (the VM's upper EPT levels are not modelled)
  if (p < 0) return obs.skip("EPT violation: no entry");
  const lo = tx.c[PTMEM][2 + p * PT_W] >>> 0, hi = tx.c[PTMEM][3 + p * PT_W] >>> 0;
  if ((lo & EPT_LO_READ) === 0 || !eptIsLeaf(lo, 1) || (write && (lo & EPT_LO_WRITE) === 0)) return obs.skip("EPT violation: the entry does not allow the access");
  const frame = eptLeafPfn(lo, hi, 1);
  const primary = viewPrimary(fr, table);
  tx.w(POL)[w] = (frame + 1) | ((lo & EPT_LO_WRITE) !== 0 ? 1 << 14 : 0) | ((primary + 1) << 15);
  reached(obs, frame, page, write, primary, false);
}

function reached(obs: Observation, frame: number, page: number, write: boolean, primary: number, viaTlb: boolean): void {
  obs.guestFrame = frame;
  obs.guestPage = page;
  obs.guestWrite = write;
  obs.guestPrimary = primary;
  obs.guestViaTlb = viaTlb;
  if (obs.detail) obs.note(`vCPU ${write ? "wrote" : "read"} guest-physical page ${page}: frame ${frame} ${viaTlb ? "through its EPT TLB" : "through an EPT walk"}`);
}
