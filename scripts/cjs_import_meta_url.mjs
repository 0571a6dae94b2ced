// Injected by scripts/build.mjs into the CommonJS bundle (dist/cjs/index.cjs), where `import.meta`
// does not exist: the bundle defines `import.meta.url` as `__tfdrrImportMetaUrl`, the file URL of
// the bundle itself (so code that finds the package root from it walks up from dist/cjs/).
export const __tfdrrImportMetaUrl = require('node:url').pathToFileURL(__filename).href;
