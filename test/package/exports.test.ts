/**
 * The built package loads through its exports map, both as CommonJS (`require('tfdrr')` ->
 * dist/cjs/index.cjs) and as an ES module (`import('tfdrr')` -> dist/esm/lib/index.js), using
 * the package's self-reference from the repo root. Needs `npm run build` first (`npm test` builds).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const entryPoints = ['dist/cjs/index.cjs', 'dist/esm/lib/index.js'];
const missing = entryPoints.filter((p) => !existsSync(join(root, p)));
const names = ['DRR', 'read', 'loadExampleCt', 'saveImage', 'DRRLayer', 'fileSystem'];
const expected = names.map((name) => `${name}:function`).join(' ');
/** Prints `name:typeof` for each expected export of the module `m`. */
const report = `console.log(${JSON.stringify(names)}.map((k) => k + ':' + typeof m[k]).join(' '))`;

if (missing.length > 0) {
  console.warn(`package exports test SKIPPED: ${missing.join(', ')} missing; run \`npm run build\` first`);
}
const maybeTest = missing.length > 0 ? test.skip : test;

/** Runs `node <args>` from the repo root; returns trimmed stdout, failing with stderr on error. */
function node(args: string[]): string {
  const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 60000 });
  if (result.status !== 0) {
    throw new Error(`node ${args.join(' ')} exited with ${result.status ?? result.signal}:\n${result.stderr}`);
  }
  return result.stdout.trim();
}

describe(`package exports${missing.length > 0 ? ' (skipped: dist/ is missing, run `npm run build`)' : ''}`, () => {
  maybeTest("require('tfdrr') loads the CommonJS bundle", () => {
    const out = node(['-e', `const m = require('tfdrr'); ${report}`]);
    expect(out.split('\n').pop()).toBe(expected);
  });

  maybeTest("import('tfdrr') loads the ES modules", () => {
    const out = node(['--input-type=module', '-e', `const m = await import('tfdrr'); ${report}`]);
    expect(out.split('\n').pop()).toBe(expected);
  });

  maybeTest('importing tfdrr registers DRRLayer with tf.serialization (CommonJS and ES modules)', () => {
    const registered = "console.log(tf.serialization.SerializationMap.getMap().classNameMap.DRRLayer?.[0] === m.DRRLayer)";
    expect(node(['-e', `const tf = require('@tensorflow/tfjs'); const m = require('tfdrr'); ${registered}`]).split('\n').pop()).toBe('true');
    expect(node(['--input-type=module', '-e', `const tf = await import('@tensorflow/tfjs'); const m = await import('tfdrr'); ${registered}`]).split('\n').pop()).toBe('true');
  });

  maybeTest('require.resolve and import.meta.resolve pick the right files', () => {
    expect(node(['-e', "console.log(require.resolve('tfdrr'))"])).toBe(join(root, 'dist/cjs/index.cjs'));
    expect(node(['--input-type=module', '-e', "console.log(import.meta.resolve('tfdrr'))"])).toBe(
      pathToFileURL(join(root, 'dist/esm/lib/index.js')).href,
    );
  });
});
