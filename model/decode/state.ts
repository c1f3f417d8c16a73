/**
 * A packed State decoded into typed records, one list per part of the
 * machine (docs/state.md "Reading a state"). Off the hot path: for replay
 * (`dmacheck replay --diff`), the HTML report and tests.
 */
import { type State } from "../state.ts";
import { type System } from "../system.ts";
import { decodeAtc, decodeIotlb, decodePdeCache, type PdeCacheRecord, type TranslationCacheRecord } from "./caches.ts";
import { type CommandRecord, decodeCommands, decodeSemaphores, type SemaphoreRecord } from "./command-queue.ts";
import { decodeDeviceTable, type DeviceEntryRecord } from "./device-table.ts";
import { decodeFlushDomains, decodeFlushQueues, decodeHeader, type FlushDomainRecord, type FlushQueueRecord, type HeaderRecord } from "./flush-queue.ts";
import { decodeFrames, decodeFreeLists, decodePins, type FrameRecord, type FreeListRecord, type PinRecord } from "./frames.ts";
import { decodeIova, type IovaRecord } from "./iova.ts";
import { type CallRecord, decodeCalls, decodeMappings, type MappingRecord } from "./mappings.ts";
import { decodeObjects, type ObjectRecord } from "./objects.ts";
import { decodePageTables, type PteRecord } from "./page-tables.ts";
import { decodePolicyWords, type PolicyWordRecord } from "./policy-words.ts";
import { type StateRecord } from "./record.ts";
import { decodeTlb, type TlbRecord } from "./tlb.ts";

export interface DecodedState {
  readonly header: HeaderRecord;
  /** Every frame, free or not. */
  readonly frames: readonly FrameRecord[];
  readonly freeLists: readonly FreeListRecord[];
  /** Frames with a non-zero pin count. */
  readonly pins: readonly PinRecord[];
  readonly objects: readonly ObjectRecord[];
  readonly deviceTable: readonly DeviceEntryRecord[];
  /** Non-zero entries of every page table (IOMMU, MMU, morsel, view). */
  readonly pageTableEntries: readonly PteRecord[];
  readonly iotlb: readonly TranslationCacheRecord[];
  readonly pdeCache: readonly PdeCacheRecord[];
  readonly atc: readonly TranslationCacheRecord[];
  /** Pending commands, oldest first. */
  readonly commands: readonly CommandRecord[];
  readonly semaphores: readonly SemaphoreRecord[];
  /** DMA API calls in progress. */
  readonly calls: readonly CallRecord[];
  /** Live mapping slots. */
  readonly mappings: readonly MappingRecord[];
  /** Each domain's flush counters and timer (domains with any non-zero). */
  readonly flushDomains: readonly FlushDomainRecord[];
  readonly flushQueues: readonly FlushQueueRecord[];
  readonly iova: readonly IovaRecord[];
  readonly tlb: readonly TlbRecord[];
  readonly policyWords: readonly PolicyWordRecord[];
}

export function decodeState(sys: System, s: State): DecodedState {
  const g = sys.g;
  return {
    header: decodeHeader(g, s),
    frames: decodeFrames(g, s),
    freeLists: decodeFreeLists(g, s),
    pins: decodePins(g, s),
    objects: decodeObjects(g, s),
    deviceTable: decodeDeviceTable(g, s),
    pageTableEntries: decodePageTables(g, s),
    iotlb: decodeIotlb(g, s),
    pdeCache: decodePdeCache(g, s),
    atc: decodeAtc(g, s),
    commands: decodeCommands(g, s),
    semaphores: decodeSemaphores(g, s),
    calls: decodeCalls(g, s),
    mappings: decodeMappings(g, s),
    flushDomains: decodeFlushDomains(g, s),
    flushQueues: decodeFlushQueues(g, s),
    iova: decodeIova(g, s),
    tlb: decodeTlb(g, s),
    policyWords: decodePolicyWords(g, sys.policy, s),
  };
}

/** Every record of a decoded state, kinds in RECORD_KINDS order, each kind in its decoding order. */
export function stateRecords(d: DecodedState): StateRecord[] {
  return [
    d.header, ...d.frames, ...d.freeLists, ...d.pins, ...d.objects, ...d.deviceTable, ...d.pageTableEntries, ...d.iotlb, ...d.pdeCache,
    ...d.atc, ...d.commands, ...d.semaphores, ...d.calls, ...d.mappings, ...d.flushDomains, ...d.flushQueues, ...d.iova, ...d.tlb, ...d.policyWords,
  ];
}
