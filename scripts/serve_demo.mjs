#!/usr/bin/env node
/**
 * A tiny static server for the browser demo: `/` is examples/web/ (index.html, dist/) and `/data/`
 * is the package's data/ folder (the example CT). GET and HEAD only; nothing outside those two
 * folders is served.
 *
 * Usage: node scripts/serve_demo.mjs [--port 8080] [--host localhost] [--build]
 *   --port 0 picks a free port. --build runs scripts/build_demo.mjs first (`npm run demo` does).
 * Prints `tfdrr demo: http://<host>:<port>/` once it listens (tests read that line), and keeps
 * serving until interrupted.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** URL prefix -> folder. The longest matching prefix wins. */
const MOUNTS = [
  ['/data/', join(root, 'data')],
  ['/', join(root, 'examples/web')],
];

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.gz': 'application/gzip',
  '.nii': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** The file a URL path names, or null when it is outside the mounts. */
function fileFor(urlPath) {
  let path;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (path.includes('\0')) return null;
  for (const [prefix, dir] of MOUNTS) {
    if (!path.startsWith(prefix)) continue;
    const file = normalize(join(dir, path.slice(prefix.length)));
    if (file !== dir && !file.startsWith(dir + sep)) return null; // `..` out of the mount
    return file;
  }
  return null;
}

function send(res, status, text) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

/**
 * Starts the server; resolves with `{ server, url }` once it listens.
 *
 * @param {{ port?: number, host?: string, log?: boolean }} options
 */
export function startDemoServer({ port = 8080, host = 'localhost', log = false } = {}) {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n');
    let file = fileFor(url.pathname);
    if (file === null) return send(res, 403, 'forbidden\n');
    let stat;
    try {
      stat = statSync(file);
      if (stat.isDirectory()) {
        file = join(file, 'index.html');
        stat = statSync(file);
      }
    } catch {
      if (log) console.log(`404 ${url.pathname}`);
      return send(res, 404, `not found: ${url.pathname}\n`);
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': stat.size,
      'cache-control': 'no-store',
    });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      const shown = host.includes(':') ? `[${host}]` : host;
      resolve({ server, url: `http://${shown}:${address.port}/` });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.PORT ?? '8080' },
      host: { type: 'string', default: 'localhost' },
      build: { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve_demo: --port must be an integer in 0..65535, got ${values.port}`);
    process.exit(2);
  }
  if (values.build) {
    const { buildDemo } = await import('./build_demo.mjs');
    await buildDemo();
  }
  try {
    const { url } = await startDemoServer({ port, host: values.host });
    console.log(`tfdrr demo: ${url}`);
    console.log('(WebGPU needs a secure context: open it as localhost. Ctrl-C stops the server.)');
  } catch (err) {
    console.error(`serve_demo: cannot listen on ${values.host}:${port}: ${err.message}`);
    process.exit(1);
  }
}
