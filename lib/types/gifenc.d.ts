/**
 * The part of `gifenc` 1.0.3 (which ships no types) that lib/image/gif.ts uses.
 *
 * In Node ESM only the default import works (`import gifenc from 'gifenc'`): the package is CommonJS,
 * so its default export is the whole `module.exports` object. This file is picked up through the
 * `lib` include of tsconfig.json and tsconfig.build.json; it is not emitted to dist, and no emitted
 * declaration refers to it (gif.ts keeps gifenc's types out of its public signatures).
 */
declare module 'gifenc' {
  /** An `[r, g, b]` (or `[r, g, b, a]`) colour with 0..255 components. */
  export type GifencColor = number[];
  /** Pixel formats of {@link quantize} and {@link applyPalette}. */
  export type GifencFormat = 'rgb565' | 'rgb444' | 'rgba4444';

  export interface GifencFrameOptions {
    /** Palette of this frame; required on the first frame (it becomes the global colour table). */
    palette?: GifencColor[] | null;
    /** Frame delay in milliseconds (written as centiseconds, rounded). Default 0. */
    delay?: number;
    /** -1: play once, 0: loop forever, n > 0: n extra loops. Written on the first frame only. Default 0. */
    repeat?: number;
    transparent?: boolean;
    transparentIndex?: number;
    colorDepth?: number;
    dispose?: number;
    first?: boolean;
  }

  export interface GifencEncoder {
    writeFrame(index: Uint8Array, width: number, height: number, options?: GifencFrameOptions): void;
    finish(): void;
    bytes(): Uint8Array;
    bytesView(): Uint8Array;
    reset(): void;
  }

  export interface GifencModule {
    GIFEncoder(options?: { initialCapacity?: number; auto?: boolean }): GifencEncoder;
    /** Palette of at most `maxColors` colours for RGBA bytes (`rgba.buffer` must hold exactly those bytes). */
    quantize(rgba: Uint8Array | Uint8ClampedArray, maxColors: number, options?: { format?: GifencFormat }): GifencColor[];
    /** Palette index of every RGBA pixel. */
    applyPalette(rgba: Uint8Array | Uint8ClampedArray, palette: GifencColor[], format?: GifencFormat): Uint8Array;
  }

  // Named exports exist in the package's ESM build (bundlers); Node ESM only sees the default export.
  export const GIFEncoder: GifencModule['GIFEncoder'] | undefined;
  export const quantize: GifencModule['quantize'] | undefined;
  export const applyPalette: GifencModule['applyPalette'] | undefined;

  const gifenc: GifencModule;
  export default gifenc;
}
