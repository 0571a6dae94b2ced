/** Locates the installed tfdrr package (for its bundled `data/` files). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package name `packageRoot` looks for. */
const PACKAGE_NAME = 'tfdrr';

let cached: string | undefined;

/**
 * The tfdrr package root: the nearest directory above this module whose `package.json` is named
 * `"tfdrr"`. Works from the source tree (`lib/io/`), the ESM build (`dist/esm/lib/io/`) and the
 * CommonJS bundle (`dist/cjs/`, where the build shims `import.meta.url`).
 *
 * @throws Error when no such directory exists above this module.
 */
export function packageRoot(): string {
  if (cached !== undefined) return cached;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && isTfdrr(pkg)) return (cached = dir);
    if (dirname(dir) === dir) break;
  }
  throw new Error(`packageRoot: no package.json named "${PACKAGE_NAME}" above ${start}`);
}

function isTfdrr(packageJson: string): boolean {
  try {
    return JSON.parse(readFileSync(packageJson, 'utf8')).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}
