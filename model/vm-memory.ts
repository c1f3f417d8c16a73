/**
 * Memory inside and outside the virtual machine that a device is assigned to.
 *
 * The model's frames are host frames. Under a guest policy
 * (model/policies/guest.ts) every frame belongs to the VM except the frames of
 * role ROLE_HOST: memory of the host, or of another guest, that the device
 * must never reach (properties/vm-confinement.ts). The VMM reserves one such
 * frame at boot, and takes one more from the guest when it unplugs guest
 * memory. Guest-physical = host-physical for the VM's frames (one VM whose
 * memory is the model's memory); the page allocator is the guest's.
 */
import { FRAMES } from "./geometry.ts";
import { type Observation } from "./observation.ts";
import { type Tx, type Words } from "./state.ts";
import { allocFrames, F_HEAD, frameAux, frameRole, ROLE_FREE, ROLE_HOST, setFrame } from "./physical-memory.ts";

/** aux of a ROLE_HOST frame: the host's (or another guest's) memory. */
export const HOST_OWNED = 0;
/**
 * aux of a ROLE_HOST frame being unplugged: the guest gave it up, but it
 * stays the VM's until the host's IOMMU can no longer reach it (its
 * invalidation completed); then it becomes HOST_OWNED.
 */
export const HOST_UNPLUGGING = 1;

/**
 * aux of a ROLE_HOST frame the host has lent to the VM (vm-morsel: host
 * memory mounted into the VM, model/policies/vm-morsel.ts): the VM's until
 * the VMM gives it back, which it may do only once neither the VM's device
 * nor its vCPUs can reach it any more.
 */
export const HOST_LENT = 2;

/** Whether frame `f` is memory outside the VM. */
export function isHostFrame(fr: Words, f: number): boolean {
  return frameRole(fr, f) === ROLE_HOST && frameAux(fr, f) === HOST_OWNED;
}

/** Whether any frame is memory outside the VM (off the hot path's common case: a scan of the frame table). */
export function anyHostFrame(fr: Words, frames: number): boolean {
  for (let f = 0; f < frames; f++) if (isHostFrame(fr, f)) return true;
  return false;
}

/** Whether any frame is the host's: outside the VM, or lent to it for now (vm-confinement's antecedent). */
export function anyHostOrLentFrame(fr: Words, frames: number): boolean {
  for (let f = 0; f < frames; f++) if (frameRole(fr, f) === ROLE_HOST && (frameAux(fr, f) === HOST_OWNED || frameAux(fr, f) === HOST_LENT)) return true;
  return false;
}

/** The host lends its frame `f` (HOST_OWNED) to the VM. */
export function lendToVm(tx: Tx, f: number, obs: Observation): void {
  setFrame(tx.w(FRAMES), f, ROLE_HOST, 0, F_HEAD, HOST_LENT);
  if (obs.detail) obs.note(`frame ${f}: host memory lent to the VM`);
}

/** The VMM gives the lent frame `f` back to the host: outside the VM again. */
export function giveBackToHost(tx: Tx, f: number, obs: Observation): void {
  setFrame(tx.w(FRAMES), f, ROLE_HOST, 0, F_HEAD, HOST_OWNED);
  if (obs.detail) obs.note(`frame ${f}: lent memory given back to the host`);
}

/** The lowest frame free at this point of boot, or -1: where the VM's guest-physical window starts. */
export function firstFreeFrame(tx: Tx): number {
  const fr = tx.c[FRAMES];
  for (let f = 0; f < tx.g.cfg.frames; f++) if (frameRole(fr, f) === ROLE_FREE) return f;
  return -1;
}

/** Takes one free frame out of the VM for the host, as `aux` (HOST_OWNED or HOST_UNPLUGGING); -1 when none is free. */
export function takeHostFrame(tx: Tx, aux: number, obs: Observation): number {
  return allocFrames(tx, 0, ROLE_HOST, aux, obs);
}

/** An unplugging frame is the host's now. */
export function handToHost(tx: Tx, f: number, obs: Observation): void {
  setFrame(tx.w(FRAMES), f, ROLE_HOST, 0, F_HEAD, HOST_OWNED);
  if (obs.detail) obs.note(`frame ${f} left the VM: it is host memory now`);
}
