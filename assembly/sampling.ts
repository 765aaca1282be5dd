// Walker/Vose alias draws: the AssemblyScript twin of AliasTable.draw in
// src/sampling.ts. The table is built in JS and copied in, and both sides use
// integer operations only, so the same xoshiro state gives the same ids.
// Table layout: V entries of (u32 threshold, i32 alias), 8 bytes each.

import { rngNextU32 } from "./rng";

/** One id from the alias table: column = (u32 * V) >> 32, kept when a second u32 < its threshold. */
// @ts-ignore: decorator
@inline export function aliasDraw(entries: usize, size: i32, rng: usize): i32 {
  const column = <i32>((<u64>rngNextU32(rng) * <u64>size) >> 32);
  const entry = entries + (<usize>column << 3);
  return rngNextU32(rng) < load<u32>(entry) ? column : load<i32>(entry, 4);
}

/** out[0, n) = n draws (for tests and the sampler benchmark). */
export function aliasSample(entries: usize, size: i32, rng: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<i32>(out + (<usize>i << 2), aliasDraw(entries, size, rng));
}
