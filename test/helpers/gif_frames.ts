/**
 * A small GIF89a reader for tests: logical screen, colour tables, NETSCAPE loop count, and per frame
 * the graphic-control delay, the image descriptor, the local colour table and the LZW-decoded
 * palette indices. It walks the block structure (skipping unknown extensions sub-block by sub-block),
 * so a frame count is the number of Image Descriptor (0x2C) blocks, not a byte search.
 */

export interface GifFrameInfo {
  left: number;
  top: number;
  width: number;
  height: number;
  /** Delay of the preceding Graphic Control Extension, in hundredths of a second (undefined without one). */
  delayCs: number | undefined;
  /** Disposal method of the preceding Graphic Control Extension. */
  disposal: number | undefined;
  interlaced: boolean;
  /** Local colour table as `[r, g, b]` triples, or undefined when the frame uses the global one. */
  localPalette: number[][] | undefined;
  lzwMinCodeSize: number;
  /** Palette index per pixel, row-major (`width * height` entries). */
  indices: Uint8Array;
}

export interface GifInfo {
  version: string;
  width: number;
  height: number;
  /** Global colour table as `[r, g, b]` triples, or undefined when absent. */
  globalPalette: number[][] | undefined;
  backgroundIndex: number;
  /** NETSCAPE2.0 loop count (0 = forever), or undefined when the extension is absent (play once). */
  loopCount: number | undefined;
  frames: GifFrameInfo[];
  /** Whether the stream ends with the 0x3B trailer. */
  hasTrailer: boolean;
}

/** Parses `bytes` as a GIF; throws on a malformed stream. */
export function parseGif(bytes: Uint8Array): GifInfo {
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > bytes.length) throw new Error(`gif: truncated at byte ${pos} (need ${n} more)`);
  };
  const u8 = () => {
    need(1);
    return bytes[pos++];
  };
  const u16 = () => {
    need(2);
    const v = bytes[pos] | (bytes[pos + 1] << 8);
    pos += 2;
    return v;
  };
  const ascii = (n: number) => {
    need(n);
    const s = String.fromCharCode(...bytes.subarray(pos, pos + n));
    pos += n;
    return s;
  };
  const colorTable = (size: number) => {
    const table: number[][] = [];
    for (let i = 0; i < size; i++) table.push([u8(), u8(), u8()]);
    return table;
  };
  /** Concatenated data of a sub-block chain (length-prefixed blocks ending with a 0 block). */
  const subBlocks = () => {
    const parts: number[] = [];
    for (;;) {
      const size = u8();
      if (size === 0) return Uint8Array.from(parts);
      need(size);
      for (let i = 0; i < size; i++) parts.push(bytes[pos + i]);
      pos += size;
    }
  };

  const signature = ascii(3);
  if (signature !== 'GIF') throw new Error(`gif: bad signature ${JSON.stringify(signature)}`);
  const version = ascii(3);
  const width = u16();
  const height = u16();
  const packed = u8();
  const backgroundIndex = u8();
  u8(); // pixel aspect ratio
  const globalPalette = packed & 0x80 ? colorTable(1 << ((packed & 7) + 1)) : undefined;

  const info: GifInfo = { version, width, height, globalPalette, backgroundIndex, loopCount: undefined, frames: [], hasTrailer: false };
  let delayCs: number | undefined;
  let disposal: number | undefined;
  while (pos < bytes.length) {
    const introducer = u8();
    if (introducer === 0x3b) {
      info.hasTrailer = true;
      break;
    }
    if (introducer === 0x21) {
      const label = u8();
      const data = subBlocks();
      if (label === 0xf9) {
        if (data.length !== 4) throw new Error(`gif: graphic control extension of ${data.length} bytes`);
        disposal = (data[0] >> 2) & 7;
        delayCs = data[1] | (data[2] << 8);
      } else if (label === 0xff && data.length >= 14 && String.fromCharCode(...data.subarray(0, 11)) === 'NETSCAPE2.0') {
        // Application extension: 11-byte identifier block, then sub-block [1, loop lo, loop hi].
        if (data[11] === 1) info.loopCount = data[12] | (data[13] << 8);
      }
      continue;
    }
    if (introducer === 0x2c) {
      const left = u16();
      const top = u16();
      const w = u16();
      const h = u16();
      const flags = u8();
      const localPalette = flags & 0x80 ? colorTable(1 << ((flags & 7) + 1)) : undefined;
      const lzwMinCodeSize = u8();
      const data = subBlocks();
      const indices = lzwDecode(lzwMinCodeSize, data, w * h);
      info.frames.push({
        left, top, width: w, height: h, delayCs, disposal, interlaced: (flags & 0x40) !== 0, localPalette, lzwMinCodeSize, indices,
      });
      delayCs = undefined;
      disposal = undefined;
      continue;
    }
    throw new Error(`gif: unexpected block introducer 0x${introducer.toString(16)} at byte ${pos - 1}`);
  }
  return info;
}

/** The number of frames (Image Descriptor blocks) of a GIF. */
export function countGifFrames(bytes: Uint8Array): number {
  return parseGif(bytes).frames.length;
}

/** GIF variable-length-code LZW decoding of one frame's image data to `pixelCount` indices. */
export function lzwDecode(minCodeSize: number, data: Uint8Array, pixelCount: number): Uint8Array {
  if (minCodeSize < 2 || minCodeSize > 8) throw new Error(`gif: LZW minimum code size ${minCodeSize}`);
  const clearCode = 1 << minCodeSize;
  const endCode = clearCode + 1;
  const out = new Uint8Array(pixelCount);
  let outPos = 0;

  // Dictionary as prefix links: entry = (prefix code, last byte), with its first byte and length.
  const prefix = new Int32Array(4096);
  const suffix = new Uint8Array(4096);
  const first = new Uint8Array(4096);
  const length = new Int32Array(4096);
  let codeSize = minCodeSize + 1;
  let next = endCode + 1;
  let previous = -1;
  const reset = () => {
    codeSize = minCodeSize + 1;
    next = endCode + 1;
    previous = -1;
  };
  for (let c = 0; c < clearCode; c++) {
    prefix[c] = -1;
    suffix[c] = c;
    first[c] = c;
    length[c] = 1;
  }
  const emit = (code: number) => {
    const n = length[code];
    if (outPos + n > pixelCount) throw new Error('gif: LZW data decodes to more pixels than the frame has');
    let c = code;
    for (let i = n - 1; i >= 0; i--) {
      out[outPos + i] = suffix[c];
      c = prefix[c];
    }
    outPos += n;
  };

  let bitBuffer = 0;
  let bitCount = 0;
  let bytePos = 0;
  for (;;) {
    while (bitCount < codeSize) {
      if (bytePos >= data.length) throw new Error('gif: LZW data ends without an end code');
      bitBuffer |= data[bytePos++] << bitCount;
      bitCount += 8;
    }
    const code = bitBuffer & ((1 << codeSize) - 1);
    bitBuffer >>>= codeSize;
    bitCount -= codeSize;

    if (code === clearCode) {
      reset();
      continue;
    }
    if (code === endCode) break;
    if (previous === -1) {
      if (code >= clearCode) throw new Error(`gif: LZW code ${code} right after a clear code`);
      emit(code);
      previous = code;
      continue;
    }
    let firstByte: number;
    if (code < next) {
      firstByte = first[code];
    } else if (code === next) {
      firstByte = first[previous];
    } else {
      throw new Error(`gif: LZW code ${code} is beyond the dictionary (${next})`);
    }
    if (next < 4096) {
      prefix[next] = previous;
      suffix[next] = firstByte;
      first[next] = first[previous];
      length[next] = length[previous] + 1;
      next++;
      if (next === 1 << codeSize && codeSize < 12) codeSize++;
    }
    emit(code);
    previous = code;
  }
  if (outPos !== pixelCount) throw new Error(`gif: LZW data decodes to ${outPos} pixels, expected ${pixelCount}`);
  return out;
}
