/** Live objects decoded: slab objects, page blocks, user pages, pool buffers (docs/state.md "Objects"; objects.ts). */
import { OBJECTS, type Geometry } from "../geometry.ts";
import { KIND_KMALLOC, KIND_PAGES, KIND_POOL, KIND_USER, objCount, objFrame, objGen, objKind, objOffset, objOwner, objSize, ownerName, slabClassFor } from "../objects.ts";
import { type State } from "../state.ts";
import { hex } from "./record.ts";

export type ObjectRecord = {
  readonly kind: "object";
  /** Where it starts, "frame 7 +0x40": two live objects never start at the same byte. */
  readonly key: string;
  readonly frame: number;
  readonly offset: number;
  readonly size: number;
  /** kmalloc-N, pages, user page or pool buffer. */
  readonly type: string;
  readonly owner: string;
  readonly generation: number;
}

function typeName(kind: number, size: number): string {
  if (kind === KIND_KMALLOC) return `kmalloc-${slabClassFor(size)}`;
  if (kind === KIND_PAGES) return "pages";
  if (kind === KIND_USER) return "user page";
  if (kind === KIND_POOL) return "pool buffer";
  return `kind ${kind}`;
}

export function decodeObjects(_g: Geometry, s: State): ObjectRecord[] {
  const ob = s[OBJECTS];
  const out: ObjectRecord[] = [];
  for (let i = 0; i < objCount(ob); i++) {
    const frame = objFrame(ob, i), offset = objOffset(ob, i), size = objSize(ob, i);
    out.push({
      kind: "object", key: `frame ${frame} +${hex(offset)}`, frame, offset, size, type: typeName(objKind(ob, i), size),
      owner: ownerName(objOwner(ob, i)), generation: objGen(ob, i),
    });
  }
  return out;
}
