// The committed web/dist/ (embedded and served by the server) is exactly what build.mjs makes
// from web/app/ and web/src/ with the locked npm packages: a stale or hand-edited bundle fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../build.mjs';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');

test('web/dist is the reproducible build of web/app (run `node web/build.mjs` after a change)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dobush-dist-'));
  try {
    const files = await buildApp(dir);
    for (const f of files) {
      const built = readFileSync(join(dir, f));
      const committed = readFileSync(join(web, 'dist', f));
      assert.ok(built.equals(committed), `web/dist/${f} differs from a fresh build: run \`node web/build.mjs\``);
    }
    // index.html pins both assets with Subresource Integrity.
    const html = readFileSync(join(web, 'dist', 'index.html'), 'utf8');
    assert.match(html, /src="\/app\.js" integrity="sha384-[A-Za-z0-9+/]{64}"/);
    assert.match(html, /href="\/app\.css" integrity="sha384-[A-Za-z0-9+/]{64}"/);
    assert.doesNotMatch(html, /\{\{/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
