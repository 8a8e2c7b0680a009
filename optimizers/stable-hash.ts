/**
 * `Math.imul`, read once. In the Temporal workflow sandbox `Math` is not the realm's
 * intrinsic object, so each `Math.imul` call was a property lookup V8 could not inline:
 * hashing took 11 of the 14 s that replaying an optimizer checkpoint took in the sandbox
 * (0.4 s outside it), past the worker's 9 s task limit.
 */
const imul = Math.imul;

/**
 * cyrb53: a fast, well-mixed 53-bit string hash. Pure JS so workflows, optimizers and the
 * API all bucket identically without `node:crypto` (which the workflow sandbox forbids).
 */
export function stableHash53(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = imul(h1 ^ ch, 2654435761);
    h2 = imul(h2 ^ ch, 1597334677);
  }
  h1 = imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** Maps a key to [0, 1): the basis of nested hash sampling and deterministic splits. */
export function unitInterval(text: string, seed = 0): number {
  return stableHash53(text, seed) / 2 ** 53;
}

/** murmur3's 32-bit finalizer: a cheap bijective mixer, so every output bit depends on every input bit. */
export function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
