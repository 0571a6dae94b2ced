/**
 * Node's built-in modules, obtained synchronously and without a static import, so that code
 * reachable from a browser bundle can use them when it runs on Node and do without elsewhere.
 */
import type * as NodeFs from 'node:fs';
import type * as NodeOs from 'node:os';
import type * as NodeProcess from 'node:process';
import type * as NodeWorkerThreads from 'node:worker_threads';

/** The built-in modules tfdrr's thread pool uses. */
export interface NodeBuiltins {
  'node:fs': typeof NodeFs;
  'node:os': typeof NodeOs;
  'node:process': typeof NodeProcess;
  'node:worker_threads': typeof NodeWorkerThreads;
}

type GetBuiltinModule = (id: string) => unknown;

/**
 * The built-in module `id` via `process.getBuiltinModule` (Node >= 20.16), or null where there is
 * none (a browser, an older Node, a runtime that refuses it).
 */
export function nodeBuiltin<K extends keyof NodeBuiltins>(id: K): NodeBuiltins[K] | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: GetBuiltinModule } }).process;
  const get = proc?.getBuiltinModule;
  if (typeof get !== 'function') return null;
  try {
    return (get.call(proc, id) as NodeBuiltins[K] | undefined) ?? null;
  } catch {
    return null;
  }
}
