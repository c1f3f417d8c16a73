/**
 * The command buffer (AMD) or invalidation queue (VT-d) decoded: pending
 * commands oldest first, and each context's completion semaphore
 * (docs/state.md "The command buffer and completion waits"; command-queue.ts).
 */
import { CMDQ, CMD_W, type Geometry } from "../geometry.ts";
import { describeQueued } from "../command-queue.ts";
import { type State } from "../state.ts";
import { contextName } from "./mappings.ts";

export type CommandRecord = {
  readonly kind: "command";
  /**
   * The command in the IOMMU's own terms ("INVALIDATE_IOMMU_PAGES DomainID 1
   * iova 0x1f8000 +1 page PDE") and, for equal commands, which one ("#2"): a command
   * keeps its key while older ones execute, so a diff shows the one that
   * ran as removed rather than every later one as moved.
   */
  readonly key: string;
  /** The command's name: COMPLETION_WAIT, INVALIDATE_IOMMU_PAGES, IOTLB_INV... (the key has the whole command). */
  readonly op: string;
}

export type SemaphoreRecord = {
  readonly kind: "semaphore";
  /** The waiting context: "cpu0", "timer". */
  readonly key: string;
  /** Set by an executed COMPLETION_WAIT (or VT-d wait descriptor) for the context. */
  readonly done: boolean;
}

export function decodeCommands(g: Geometry, s: State): CommandRecord[] {
  const q = s[CMDQ];
  const out: CommandRecord[] = [];
  const seen = new Map<string, number>();
  for (let i = 0; i < q[1]; i++) {
    const at = 2 + i * CMD_W;
    const command = describeQueued(g.vtd, q[at], q[at + 1], q[at + 2], q[at + 3]);
    const n = (seen.get(command) ?? 0) + 1;
    seen.set(command, n);
    // The list is oldest first; the position is not a field, since it changes for every pending command each time the oldest runs.
    out.push({ kind: "command", key: n === 1 ? command : `${command} #${n}`, op: command.split(" ")[0] });
  }
  return out;
}

export function decodeSemaphores(g: Geometry, s: State): SemaphoreRecord[] {
  const q = s[CMDQ];
  const out: SemaphoreRecord[] = [];
  for (let ctx = 0; ctx < g.contexts; ctx++) {
    const v = q[2 + g.cfg.cmdQueueEntries * CMD_W + ctx];
    if (v !== 0) out.push({ kind: "semaphore", key: contextName(g, ctx), done: true });
  }
  return out;
}
