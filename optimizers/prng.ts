/**
 * sfc32, a small fast counter-based PRNG whose whole state is four 32-bit words. The state
 * is plain data, so an optimizer checkpoint (and continue-as-new) resumes the exact stream.
 */
export type PrngState = [number, number, number, number];

export function seedPrng(seed: number): PrngState {
  const state: PrngState = [0x9e3779b9, 0x243f6a88, 0xb7e15162, seed >>> 0];
  for (let i = 0; i < 12; i++) nextUint32(state);
  return state;
}

/** Advances `state` in place and returns a uint32. */
export function nextUint32(state: PrngState): number {
  let [a, b, c, d] = state;
  a >>>= 0;
  b >>>= 0;
  c >>>= 0;
  d >>>= 0;
  const t = (((a + b) | 0) + d) | 0;
  d = (d + 1) | 0;
  a = b ^ (b >>> 9);
  b = (c + (c << 3)) | 0;
  c = (c << 21) | (c >>> 11);
  c = (c + t) | 0;
  state[0] = a >>> 0;
  state[1] = b >>> 0;
  state[2] = c >>> 0;
  state[3] = d >>> 0;
  return t >>> 0;
}

export function nextFloat(state: PrngState): number {
  return nextUint32(state) / 4294967296;
}

/** Uniform integer in [0, n). */
export function nextInt(state: PrngState, n: number): number {
  if (!Number.isInteger(n) || n <= 0)
    throw new RangeError(`nextInt needs a positive integer bound, got ${n}`);
  return Math.floor(nextFloat(state) * n);
}
