/**
 * Browser stand-in for `node:fs/promises`, aliased by scripts/build_demo.mjs. The demo hands the
 * library bytes (fetched or dropped), never a path, so `readFile` is never reached; if it is, it
 * says why instead of failing on a missing module.
 */
export async function readFile(path: string): Promise<Uint8Array> {
  throw new Error(`readFile(${path}): there is no file system in the browser; pass the file's bytes instead`);
}
