#!/usr/bin/env node
/**
 * `npm run bench:gpu-bundle [-- --out DIR]`: the GPU bench (`npm run bench -- --gpu`, GitHub issue
 * #6) as one folder that runs on a Linux x86-64 machine with no Node, no npm and no network, e.g. the
 * device machine with an NVIDIA GPU (Dawn on its Vulkan driver). Default folder: dist/gpu-bench/
 * (git-ignored; `npm run build` and `npm test` empty dist/, so build this after them).
 *
 *   bench.mjs                      bench/run.ts bundled by esbuild (tf.js, tfjs-backend-webgpu,
 *                                  tfdrr's kernels): self-contained but for Node built-ins and `webgpu`
 *   dist/worker/…                  the cpu kernels' worker script (kernels/threads/worker.ts bundled)
 *   node_modules/webgpu/           the `webgpu` package's runtime files; its native addon dawn.node xz'ed
 *   node.xz, node.version          this Node (`process.execPath`), xz -T2 -6 (cached in
 *                                  node_modules/.cache/tfdrr-gpu-bench/)
 *   data/example_ct.nii.gz         the example CT (and data/README.md, where it comes from)
 *   vulkan/                        the Vulkan loader and libglvnd / X11 libraries of this machine, used
 *                                  there only for the sonames its linker cache lacks
 *   run.sh                         scripts/gpu_bench_run.sh: unpacks into a work folder, sets up the
 *                                  Vulkan loader, lists the adapters and runs `bench.mjs --gpu`
 *
 * Run it with `bash dist/gpu-bench/run.sh [OUT_DIR] [bench options]` (OUT_DIR default $OUT, else
 * ./gpu-bench-out). Exits non-zero on failure and when the folder passes the device tool's 64 MiB.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const cacheDir = join(root, 'node_modules/.cache/tfdrr-gpu-bench');

/** What the device tool carries: 64 MiB for the whole working tree (the repository's files included). */
const CARRY_LIMIT = 64 * 2 ** 20;

/**
 * Libraries brought from this machine: the Vulkan loader (Dawn dlopens libvulkan.so.1), libglvnd's
 * (the device README's loader list: libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
 * and the X11 libraries some NVIDIA drivers' libGLX_nvidia.so.0 (their Vulkan ICD) link against.
 */
const CARRIED_LIBS = [
  'libvulkan.so.1',
  'libGLdispatch.so.0',
  'libGLX.so.0',
  'libEGL.so.1',
  'libOpenGL.so.0',
  'libGL.so.1',
  'libGLESv2.so.2',
  'libX11.so.6',
  'libXext.so.6',
  'libxcb.so.1',
  'libXau.so.6',
  'libXdmcp.so.6',
  'libbsd.so.0',
  'libmd.so.0',
];

/**
 * esbuild plugin: lib/webgpu/node_webgpu.ts imports its optional peers through variables (so that
 * bundlers leave them alone); here they are made literal, so that tfjs-backend-webgpu is bundled
 * (one tf.js instance) and `webgpu` (a native addon) is resolved from the folder's node_modules.
 */
const literalPeerImports = {
  name: 'literal-peer-imports',
  setup(build) {
    build.onLoad({ filter: /[\\/]lib[\\/]webgpu[\\/]node_webgpu\.ts$/ }, (args) => {
      let text = readFileSync(args.path, 'utf8');
      for (const [variable, name] of [
        ['WEBGPU_PACKAGE', 'webgpu'],
        ['TFJS_WEBGPU_PACKAGE', '@tensorflow/tfjs-backend-webgpu'],
      ]) {
        const call = `import(${variable})`;
        if (!text.includes(call)) return { errors: [{ text: `${call} not found in ${relative(root, args.path)}: update literalPeerImports in scripts/build_gpu_bench.mjs` }] };
        text = text.split(call).join(`import(${JSON.stringify(name)})`);
      }
      return { contents: text, loader: 'ts' };
    });
  },
};

/** Runs one step, printing `gpu-bench: <name> ... ok (<seconds> s)`; throws on failure. */
async function step(name, fn) {
  const start = performance.now();
  console.log(`gpu-bench: ${name} ...`);
  const result = await fn();
  console.log(`gpu-bench: ${name} ok (${((performance.now() - start) / 1000).toFixed(1)} s)`);
  return result;
}

async function bundleBench(outdir) {
  const outfile = join(outdir, 'bench.mjs');
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['bench/run.ts'],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // the wasm backend is imported only for wasm rows, which the GPU bench has none of
    external: ['webgpu', '@tensorflow/tfjs-backend-wasm'],
    // tf.js's CommonJS files call require() (node built-ins): give the ES module one
    banner: { js: "import { createRequire as __tfdrrCreateRequire } from 'node:module'; const require = __tfdrrCreateRequire(import.meta.url);" },
    plugins: [literalPeerImports],
    metafile: true,
    logLevel: 'warning',
  });
  if (result.warnings.length > 0) throw new Error(`${result.warnings.length} esbuild warning(s), see above`);
  const imports = result.metafile.outputs[relative(root, outfile)]?.imports ?? [];
  // 'encoding': node-fetch's optional require (inside try/catch), never installed here either
  const allowed = new Set([...builtinModules, 'webgpu', '@tensorflow/tfjs-backend-wasm', 'encoding']);
  const foreign = [...new Set(imports.map((i) => i.path))].filter((p) => !p.startsWith('node:') && !allowed.has(p));
  if (foreign.length > 0) throw new Error(`bench.mjs imports ${foreign.join(', ')} (only Node built-ins and webgpu allowed)`);
  const inputs = Object.keys(result.metafile.inputs);
  const cores = new Set(inputs.filter((p) => /@tensorflow\/tfjs-core\//.test(p)).map((p) => p.slice(0, p.indexOf('@tensorflow/tfjs-core/'))));
  if (cores.size !== 1) throw new Error(`expected one copy of @tensorflow/tfjs-core in the bundle, found ${cores.size}`);
  if (!inputs.some((p) => p.includes('@tensorflow/tfjs-backend-webgpu/'))) throw new Error('tfjs-backend-webgpu was not bundled');
}

/** The kernel worker (cpu rows with more than one thread), where kernels/threads/worker_location.ts looks. */
async function bundleWorker(outdir) {
  const outfile = join(outdir, 'dist/worker/tfdrr_kernel_worker.mjs');
  const result = await esbuild.build({ absWorkingDir: root, entryPoints: ['kernels/threads/worker.ts'], outfile, bundle: true, format: 'esm', platform: 'node', target: 'node20', metafile: true, logLevel: 'warning' });
  const imports = result.metafile.outputs[relative(root, outfile)]?.imports ?? [];
  if (result.warnings.length > 0 || imports.some((i) => !i.path.startsWith('node:'))) throw new Error('the worker bundle is not self-contained');
}

/** `file` compressed with `xz -T2 -6` to `dest`, through a cache keyed by the file's content. */
function xzCached(file, dest) {
  const hash = createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);
  const cached = join(cacheDir, `${basename(file)}-${hash}.xz`);
  if (!existsSync(cached)) {
    if (spawnSync('xz', ['--version']).status !== 0) throw new Error('xz not found (Debian: apt-get install xz-utils)');
    mkdirSync(cacheDir, { recursive: true });
    execFileSync('sh', ['-c', 'xz -T2 -6 -c "$1" > "$2.part" && mv "$2.part" "$2"', 'sh', file, cached]);
  }
  copyFileSync(cached, dest);
}

function copyWebgpu(outdir) {
  const pkgDir = dirname(require.resolve('webgpu/package.json'));
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const to = join(outdir, 'node_modules/webgpu');
  mkdirSync(join(to, 'dist/linux-x64'), { recursive: true });
  for (const f of ['package.json', 'index.js', 'LICENSE.md']) copyFileSync(join(pkgDir, f), join(to, f));
  // index.js imports Node built-ins only, and the addon dist/<platform>-<arch>/dawn.node
  const imports = [...readFileSync(join(pkgDir, 'index.js'), 'utf8').matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]);
  const foreign = imports.filter((m) => !m.startsWith('node:') && m !== 'module');
  if (foreign.length > 0) throw new Error(`webgpu/index.js imports ${foreign.join(', ')}: copy them too`);
  const addon = join(pkgDir, 'dist/linux-x64/dawn.node');
  if (!existsSync(addon)) throw new Error(`${addon} not found (webgpu ${pkg.version}: a different layout?)`);
  xzCached(addon, join(to, 'dist/linux-x64/dawn.node.xz'));
  return pkg.version;
}

function copyNode(outdir) {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`this Node is ${process.platform}-${process.arch}; the device machine needs linux-x64`);
  xzCached(realpathSync(process.execPath), join(outdir, 'node.xz'));
  writeFileSync(join(outdir, 'node.version'), `${process.version}\n`);
}

function copyData(outdir) {
  mkdirSync(join(outdir, 'data'), { recursive: true });
  for (const f of ['example_ct.nii.gz', 'README.md']) copyFileSync(join(root, 'data', f), join(outdir, 'data', f));
}

/** The CARRIED_LIBS this machine has (by its linker cache), copied under their sonames. */
function copyVulkanLibs(outdir) {
  const cache = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' }).stdout ?? '';
  const found = [];
  const missing = [];
  mkdirSync(join(outdir, 'vulkan'), { recursive: true });
  for (const soname of CARRIED_LIBS) {
    const line = cache.split('\n').find((l) => l.trim().startsWith(`${soname} `) && l.includes('x86-64'));
    const path = line?.split(' => ')[1]?.trim();
    if (path === undefined || !existsSync(path)) {
      missing.push(soname);
      continue;
    }
    copyFileSync(realpathSync(path), join(outdir, 'vulkan', soname));
    found.push(soname);
  }
  if (!found.includes('libvulkan.so.1')) console.warn('gpu-bench: warning: no libvulkan.so.1 here (Debian: libvulkan1); the device machine must have its own');
  if (missing.length > 0) console.warn(`gpu-bench: not on this machine, so not carried: ${missing.join(', ')}`);
  return found;
}

function sizeOf(path) {
  const s = statSync(path);
  return s.isDirectory() ? readdirSync(path).reduce((n, f) => n + sizeOf(join(path, f)), 0) : s.size;
}

/** Bytes of the files that travel with every device call (tracked and untracked-not-ignored), or null without git. */
function workingTreeBytes() {
  const r = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) return null;
  return r.stdout.split('\0').filter(Boolean).reduce((n, f) => n + (existsSync(join(root, f)) ? statSync(join(root, f)).size : 0), 0);
}

export async function buildGpuBench({ outdir = join(root, 'dist/gpu-bench') } = {}) {
  const start = performance.now();
  outdir = resolve(outdir);
  const tmp = `${outdir}.part`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await step('esbuild bench/run.ts -> bench.mjs', () => bundleBench(tmp));
  await step('esbuild kernels/threads/worker.ts -> dist/worker/', () => bundleWorker(tmp));
  const webgpuVersion = await step('webgpu package + dawn.node.xz', () => copyWebgpu(tmp));
  await step(`node ${process.version} -> node.xz`, () => copyNode(tmp));
  await step('data/example_ct.nii.gz', () => copyData(tmp));
  const libs = await step('Vulkan loader and glvnd libraries -> vulkan/', () => copyVulkanLibs(tmp));
  copyFileSync(join(root, 'scripts/gpu_bench_run.sh'), join(tmp, 'run.sh'));
  chmodSync(join(tmp, 'run.sh'), 0o755);
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout?.trim() || 'unknown';
  const dirty = spawnSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' }).stdout?.trim() ? ' (with uncommitted changes)' : '';
  writeFileSync(
    join(tmp, 'BUILD.txt'),
    `tfdrr GPU bench, built ${new Date().toISOString()} from commit ${commit}${dirty}\nnode ${process.version}, webgpu ${webgpuVersion}, esbuild ${esbuild.version}\ncarried libraries: ${libs.join(' ')}\nrun: bash run.sh [OUT_DIR] [bench options]\n`,
  );
  rmSync(outdir, { recursive: true, force: true });
  renameSync(tmp, outdir);

  const bytes = sizeOf(outdir);
  const tree = workingTreeBytes();
  const mib = (n) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  console.log(`gpu-bench: ${relative(root, outdir) || outdir} ${mib(bytes)} (bench.mjs ${mib(statSync(join(outdir, 'bench.mjs')).size)}, node.xz ${mib(statSync(join(outdir, 'node.xz')).size)}, dawn.node.xz ${mib(statSync(join(outdir, 'node_modules/webgpu/dist/linux-x64/dawn.node.xz')).size)}) in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  if (tree !== null) {
    console.log(`gpu-bench: with the working tree (${mib(tree)}) a device call carries ${mib(tree + bytes)} of its ${mib(CARRY_LIMIT)}`);
    if (tree + bytes > CARRY_LIMIT) throw new Error(`the folder and the working tree exceed the device tool's ${mib(CARRY_LIMIT)}`);
  }
  return { outdir, bytes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  try {
    await buildGpuBench(values.out === undefined ? {} : { outdir: values.out });
  } catch (err) {
    console.error(`gpu-bench: FAILED${err?.message ? `: ${err.message}` : ''}`);
    process.exit(1);
  }
}
