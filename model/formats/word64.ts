// 64-bit words as two unsigned 32-bit halves.
//
// Source: the layouts in docs/reference/formats.md; PFN arithmetic follows
// Linux arch/x86/include/asm/page_64_types.h __PHYSICAL_MASK_SHIFT 52 (address
// bits 12..51, so a PFN has at most 40 bits).
//
// Representation (used by every codec in model/formats): a 64-bit word is the
// pair `lo` = bits 31..0 and `hi` = bits 63..32, each a JS number in [0, 2^32).
// Hot-path helpers take and return plain numbers; only the helpers documented
// as "off the hot path" allocate (tuples, objects, bigint, strings).

/** 2^20: a PFN's low 20 bits live in `lo` bits 31..12, the rest in `hi`. */
const PFN_LO_SPAN = 0x100000;

/** Mask of address bits 51..32 inside `hi`. */
export const HI_ADDR_MASK = 0xfffff;

/** Mask of address bits 31..12 inside `lo`. */
export const LO_ADDR_MASK = 0xfffff000;

/** Bit `n` (0..63) of the word; false for any `n` outside 0..63. */
export function bit(lo: number, hi: number, n: number): boolean {
  if (n >= 0 && n < 32) return ((lo >>> n) & 1) === 1;
  if (n >= 32 && n < 64) return ((hi >>> (n - 32)) & 1) === 1;
  return false;
}

/** The word with bit `n` set to `v` (off the hot path: allocates a tuple). */
export function withBit(lo: number, hi: number, n: number, v: boolean): [number, number] {
  if (n >= 0 && n < 32) {
    const m = (1 << n) >>> 0;
    return [(v ? lo | m : lo & ~m) >>> 0, hi >>> 0];
  }
  if (n >= 32 && n < 64) {
    const m = (1 << (n - 32)) >>> 0;
    return [lo >>> 0, (v ? hi | m : hi & ~m) >>> 0];
  }
  return [lo >>> 0, hi >>> 0];
}

/** Address bits 51..12 as a PFN (0 .. 2^40-1). */
export function pfnOf(lo: number, hi: number): number {
  return (hi & HI_ADDR_MASK) * PFN_LO_SPAN + (lo >>> 12);
}

/**
 * `lo` bits 31..12 for a PFN (bits 11..0 zero). The PFN is taken modulo 2^20
 * here; callers pass non-negative integers.
 */
export function loOfPfn(pfn: number): number {
  return ((pfn % PFN_LO_SPAN) * 4096) >>> 0;
}

/**
 * `hi` bits 19..0 (= address bits 51..32) for a PFN; PFN bits above 39 are
 * dropped so they can never spill into the flag bits 52..63.
 */
export function hiOfPfn(pfn: number): number {
  return (Math.floor(pfn / PFN_LO_SPAN) & HI_ADDR_MASK) >>> 0;
}

/** Position of the most significant set bit, 1-based (Linux fls); 0 for 0. */
export function fls32(x: number): number {
  return 32 - Math.clz32(x);
}

/** Linux fls64 on a split word: 1-based index of the top set bit, 0 if zero. */
export function fls64(lo: number, hi: number): number {
  return hi !== 0 ? 32 + fls32(hi) : fls32(lo);
}

/** Number of trailing zero bits of a 32-bit value; 32 for 0. */
export function ctz32(x: number): number {
  const v = x | 0;
  return v === 0 ? 32 : 31 - Math.clz32(v & -v);
}

/** Number of trailing one bits of a 32-bit value; 32 for 0xffffffff. */
export function trailingOnes32(x: number): number {
  return ctz32(~x);
}

/** Bits 0..n-1 set, as an unsigned 32-bit value (n clamped to 0..32). */
export function lowMask32(n: number): number {
  if (n <= 0) return 0;
  if (n >= 32) return 0xffffffff;
  return ((1 << n) - 1) >>> 0;
}

/** The word as an unsigned 64-bit bigint (off the hot path). */
export function toBigInt(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** A bigint reduced modulo 2^64 and split into halves (off the hot path). */
export function fromBigInt(b: bigint): { lo: number; hi: number } {
  const u = BigInt.asUintN(64, b);
  return { lo: Number(u & 0xffffffffn), hi: Number(u >> 32n) };
}

/** "0x" followed by exactly 16 lower-case hex digits. */
export function hex64(lo: number, hi: number): string {
  return "0x" + (hi >>> 0).toString(16).padStart(8, "0") + (lo >>> 0).toString(16).padStart(8, "0");
}

/** "0x" + hex of a non-negative integer below 2^53 (PFNs, page counts). */
export function hexNum(n: number): string {
  return "0x" + n.toString(16);
}

const SIZE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"] as const;

/** Human size of 2^log2 bytes: 12 -> "4 KiB", 21 -> "2 MiB", 16 -> "64 KiB". */
export function sizeLog2Label(log2: number): string {
  const n = Math.max(0, Math.min(Math.floor(log2), SIZE_UNITS.length * 10 - 1));
  return `${2 ** (n % 10)} ${SIZE_UNITS[Math.floor(n / 10)]}`;
}
