/** A temporary folder for one test file's fixtures, with tf.js on the cpu backend. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

/** Registers `beforeAll` (make the folder, cpu backend) and `afterAll` (remove it); use the result inside tests. */
export function tempFolder(prefix: string): { path(name: string): string; file(name: string, bytes: Uint8Array): Promise<string> } {
  let dir = '';
  beforeAll(async () => {
    tf.enableProdMode();
    await tf.setBackend('cpu');
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const path = (name: string) => join(dir, name);
  return {
    path,
    /** Writes `bytes` to `name` in the folder and returns its path. */
    async file(name: string, bytes: Uint8Array): Promise<string> {
      await writeFile(path(name), bytes);
      return path(name);
    },
  };
}
