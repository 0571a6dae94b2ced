/**
 * Every notebook in notebooks/ runs headless in Jupyter with the tslab kernel, without an error,
 * and shows what it claims (the hello-world notebook: a 200 x 200 PNG and finite pose gradients).
 * Needs jupyter-nbconvert (Debian) and tslab (npm); `.ci/run` installs both.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/reference_cases.js';

const tslabBin = join(repoRoot, 'node_modules', '.bin', 'tslab');
const hasJupyter = spawnSync('jupyter', ['nbconvert', '--version']).status === 0;
const hasDist = existsSync(join(repoRoot, 'dist', 'cjs', 'index.cjs'));
const missing = [!hasJupyter && 'jupyter nbconvert (apt-get install jupyter-nbconvert python3-ipykernel)', !existsSync(tslabBin) && 'tslab (npm ci)', !hasDist && 'dist/ (npm run build)'].filter(Boolean);
const notebooks = readdirSync(join(repoRoot, 'notebooks')).filter((f) => f.endsWith('.ipynb'));

interface Output { output_type: string; name?: string; text?: string | string[]; data?: Record<string, string | string[]>; ename?: string; evalue?: string }
interface Notebook { cells: Array<{ cell_type: string; outputs?: Output[] }> }

const join1 = (t: string | string[] | undefined) => (Array.isArray(t) ? t.join('') : (t ?? ''));

/**
 * Executes a notebook with tslab in a temporary workspace laid out like a user's project
 * (node_modules holding tfdrr, i.e. this repository built, and its peers) and returns it executed.
 */
function execute(name: string): Notebook {
  const dir = mkdtempSync(join(tmpdir(), 'tfdrr-nb-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(repoRoot, join(dir, 'node_modules', 'tfdrr'));
  for (const dep of ['@tensorflow', 'tslab']) symlinkSync(join(repoRoot, 'node_modules', dep), join(dir, 'node_modules', dep));
  copyFileSync(join(repoRoot, 'notebooks', name), join(dir, name));
  const install = spawnSync('node', [tslabBin, 'install', '--python', '/usr/bin/python3', '--prefix', dir, '--binary', tslabBin], { encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`tslab install failed: ${install.stderr}`);
  const run = spawnSync(
    'jupyter',
    ['nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.kernel_name=tslab', '--ExecutePreprocessor.timeout=300', '--output', `${name}.out.ipynb`, join(dir, name)],
    { encoding: 'utf8', env: { ...process.env, JUPYTER_PATH: join(dir, 'share', 'jupyter') } },
  );
  if (run.status !== 0) throw new Error(`nbconvert failed on ${name}:\n${run.stderr}`);
  return JSON.parse(readFileSync(join(dir, `${name}.out.ipynb`), 'utf8'));
}

if (missing.length > 0) {
  test.skip(`notebooks: skipped, missing ${missing.join(', ')}`, () => {});
} else {
  test.each(notebooks)('%s runs without an error', (name) => {
    const outputs = execute(name).cells.flatMap((c) => c.outputs ?? []);
    const errors = outputs.filter((o) => o.output_type === 'error' || o.name === 'stderr');
    expect(errors.map((o) => `${o.ename ?? ''} ${o.evalue ?? ''} ${join1(o.text)}`)).toEqual([]);
    if (name !== 'hello_world.ipynb') return;
    const stdout = outputs.filter((o) => o.name === 'stdout').map((o) => join1(o.text)).join('');
    expect(stdout).toMatch(/image 1 x 1 x 200 x 200, max 5\d\.\d{3}/);
    const gradient = /d sum \/ d translation (.*)/.exec(stdout);
    expect(gradient).not.toBeNull();
    expect(gradient![1].split(', ').map(Number).every(Number.isFinite)).toBe(true);
    const png = outputs.find((o) => o.data?.['image/png']);
    expect(png).toBeDefined();
    const bytes = Buffer.from(join1(png!.data!['image/png']), 'base64');
    // PNG signature, then IHDR width and height (big-endian) at bytes 16-23
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([200, 200]);
  });
}
