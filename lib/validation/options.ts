/**
 * Option objects: every public function and constructor that takes user options rejects a key it
 * does not know (a typo such as `hieght` would otherwise be ignored and the default used), with
 * the closest known key as a suggestion:
 *
 *     new DRR: unknown option 'hieght' (did you mean 'height'? known: sdd, height, delx, ...)
 *
 * Each option interface has its key list beside it, made with {@link optionKeys}, which fails to
 * compile when the list misses a key of the interface or names one it lacks, so that the two
 * cannot drift apart.
 */

/**
 * The keys of the option interface `T`, checked at compile time: `optionKeys<DRROptions>()([...])`
 * is a type error unless the list names every key of `T` and nothing else.
 */
export function optionKeys<T extends object>() {
  return <const K extends readonly (keyof T & string)[]>(
    keys: K & ([Exclude<keyof T, K[number]>] extends [never] ? unknown : { missingKeys: Exclude<keyof T, K[number]> }),
  ): K => keys;
}

/**
 * Throws unless `options` is undefined or an object whose own keys are all in `known`. `where`
 * names the function in the message (`new DRR`, `DRR.forward`, ...).
 */
export function checkOptionKeys(options: unknown, known: readonly string[], where: string): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new Error(`${where}: expected an options object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`);
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const guess = closestKey(key, known);
    throw new Error(`${where}: unknown option '${key}' (${guess === null ? '' : `did you mean '${guess}'? `}known: ${known.join(', ')})`);
  }
}

/**
 * The known key nearest to `key` (ignoring case; optimal string alignment distance, so a swap of
 * two neighbouring letters counts as one edit), if it is within a third of the key's length.
 */
export function closestKey(key: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Math.max(1, Math.floor(key.length / 3)) + 1;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
