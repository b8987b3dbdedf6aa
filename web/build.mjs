// Builds the served web app into dist/ reproducibly: app/main.js (with the voter crypto and the
// pinned npm libraries) bundled and minified by the pinned esbuild into dist/app.js, app/app.css
// minified into dist/app.css, and dist/index.html with the
// Subresource-Integrity hashes of both. `node build.mjs [outdir]`.
// The server embeds dist/ (server/src/webapp.rs); test/dist.test.mjs checks that rebuilding
// gives exactly the committed bytes.

import { build, transform } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] ?? join(here, 'dist');

const integrity = (bytes) => `sha384-${createHash('sha384').update(bytes).digest('base64')}`;

// The page, on one line: no inline script or style (the CSP forbids both); both assets pinned by
// Subresource Integrity.
const indexHtml = (jsIntegrity, cssIntegrity) => `<!doctype html>
<html lang="ky">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Добуш</title>
<link rel="stylesheet" href="/app.css" integrity="${cssIntegrity}" crossorigin="anonymous">
<script type="module" src="/app.js" integrity="${jsIntegrity}" crossorigin="anonymous"></script>
</head>
<body>
<noscript>Добуш: JavaScript керек / нужен JavaScript.</noscript>
</body>
</html>
`.replace(/\n(?!$)/g, '');

export async function buildApp(outdir) {
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    entryPoints: [join(here, 'app', 'main.js')],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    minify: true,
    legalComments: 'eof',
    charset: 'utf8',
    write: false,
    absWorkingDir: here,
    logLevel: 'warning',
  });
  const js = result.outputFiles[0].contents;
  const css = Buffer.from((await transform(readFileSync(join(here, 'app', 'app.css'), 'utf8'), { loader: 'css', minify: true })).code);
  const html = indexHtml(integrity(js), integrity(css));
  writeFileSync(join(outdir, 'app.js'), js);
  writeFileSync(join(outdir, 'app.css'), css);
  writeFileSync(join(outdir, 'index.html'), html);
  return ['app.js', 'app.css', 'index.html'];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = await buildApp(out);
  console.log(`built ${files.join(', ')} in ${out}`);
}
