// The first-run demo in the browser (server/tests/api/browser.rs `the_demo_login_in_chromium`):
// the welcome page of a server with a demo-mode campaign lists its demo citizens; a click logs in
// without Tunduk and shows the cabinet; the public list shows the campaign. Prints
// `logged in as PIN` and exits 0 when all of it holds.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { base, campaign, launch, shots } from './common.mjs';

const browser = await launch();
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.setDefaultTimeout(20000);
  await page.goto(`${base}/`);
  await page.getByTestId('demo').waitFor();
  await page.screenshot({ path: join(shots, 'demo-welcome.png'), fullPage: true });
  const first = page.locator('[data-testid^="demo-"]').first();
  const pin = (await first.getAttribute('data-testid')).slice('demo-'.length);
  await first.click();
  await page.waitForURL(/#\/cabinet$/);
  const card = page.locator(`[data-campaign="${campaign}"]`);
  await card.getByTestId('state').waitFor();
  await page.screenshot({ path: join(shots, 'demo-cabinet.png'), fullPage: true });
  const me = await page.evaluate(async () => (await fetch('/api/me', { credentials: 'same-origin' })).json());
  assert.equal(me.pin, pin);
  await page.goto(`${base}/#/public`);
  await page.locator(`a[href="#/public/${campaign}"]`).waitFor();
  assert.deepEqual(problems, []);
  console.log(`logged in as ${pin}`);
} finally {
  await browser.close();
}
