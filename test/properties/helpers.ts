// Shared helpers for the property unit tests (test/properties/*.test.ts).
import { type Event } from "../../model/events.ts";
import { type Property } from "../../properties/property.ts";
import { type Runner } from "../model/helpers.ts";

/**
 * Steps `r` through `events` and returns, per step, what `p`'s antecedent
 * counted on it: the cases (then the context) between a guard cell on each
 * side, so that a count written one place off shows.
 */
export function antecedentCounts(p: Property, r: Runner, events: readonly Event[]): number[][] {
  const a = p.antecedent!;
  const n = a.cases.length + (a.context?.length ?? 0);
  return events.map((e) => {
    const s = r.step(e);
    const c = new Float64Array(n + 2);
    a.count(r.sys, s.pre, e, r.obs, s.post, c, 1);
    return Array.from(c);
  });
}

/**
 * The kernel allocates a 64-byte object, the driver a 64-byte buffer in the
 * same slab page (the next slot), strict maps the buffer, and the device
 * reads 100 bytes from offset 8 of that page: bytes of the kernel's object.
 */
export const READ_BESIDE_OBJECT: readonly Event[] = [
  { t: "kmalloc", size: 64 },
  { t: "map", cpu: 0, dev: 0, src: "kmalloc", size: 64, dir: "to-device" },
  { t: "dma", dev: 0, write: false, page: 15, offset: 8, len: 100 },
];
