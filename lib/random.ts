/**
 * A small seeded pseudo-random generator (mulberry32), so that everything random in tfdrr
 * (pixel subsets, random poses) is reproducible from a seed on every platform.
 */

/** Uniform numbers in [0, 1) from a 32-bit seed. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new Error(`seed: expected an integer, got ${seed}`);
    this.state = seed >>> 0;
  }

  /** The next uniform number in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A uniform integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.next() * n);
  }
}
