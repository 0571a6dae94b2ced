/**
 * `node --import tsx test/helpers/read_nifti_child.ts <file>...`: runs `readNifti(<file>)` for each
 * file and prints one JSON line each, `{"ok": true, "dims": [...]}` or
 * `{"ok": false, "name": ..., "message": ...}`. Tests
 * run it in a child process with a time and heap limit, so an input that would make the reader loop
 * or allocate without bound fails the test instead of hanging the run.
 */
import { readNifti } from '../../lib/io/nifti_file.js';

for (const path of process.argv.slice(2)) {
  try {
    const v = await readNifti(path);
    console.log(JSON.stringify({ ok: true, dims: v.dims }));
  } catch (e) {
    const err = e as Error;
    console.log(JSON.stringify({ ok: false, name: err.name, message: err.message }));
  }
}
