// The voter's whole path through the web app in a real Chromium (playwright-core driving
// Debian's /usr/bin/chromium, headless), against a running server and the real OIDC provider.
// Started by server/tests/api/browser.rs (not a `node --test` file), which owns the server's clock and the commission's
// steps; the two talk over a line protocol: this script prints `phase NAME` on stdout and waits
// for `ok` on stdin (`ok VALUE` when the test hands something over: the package fingerprint,
// another voter's receipt). Everything else it says goes to stderr; `done` on stdout ends it.
//
// Env: DOBUSH_URL, DOBUSH_CAMPAIGN, DOBUSH_PIN, DOBUSH_PASSWORD, DOBUSH_ACR, DOBUSH_CHROMIUM,
//      DOBUSH_SCREENSHOTS (a directory).

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { dicts } from '../app/i18n.js';
import * as D from '../src/crypto/dobush.js';
import { base, campaign, env, launch, shots } from './common.mjs';

const log = (...a) => console.error('[browser]', ...a);

const stdin = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
/** Tells the test that phase NAME is reached; returns what it handed over after `ok `. */
async function phase(name) {
  process.stdout.write(`phase ${name}\n`);
  const { value, done } = await stdin.next();
  const m = done ? null : /^ok(?: (.*))?$/.exec(value.trim());
  if (!m) throw new Error(`phase ${name}: the test answered ${JSON.stringify(value)}`);
  return m[1] ?? '';
}

const browser = await launch();
const problems = [];

/** A new "device": its own storage, a phone-sized screen. */
async function device(name, lang) {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, locale: lang === 'ky' ? 'ky-KG' : 'ru-RU' });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => problems.push(`${name}: page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`${name}: console: ${m.text()}`);
  });
  page.setDefaultTimeout(20000);
  return { ctx, page, name };
}

async function shot(d, what) {
  await d.page.screenshot({ path: join(shots, `${d.name}-${what}.png`), fullPage: true });
}

const tid = (page, id) => page.locator(`[data-testid="${id}"]`);

async function setLang(page, lang) {
  await page.selectOption('#lang', lang);
  await page.locator('h1').first().waitFor();
}

/** Logs in through the provider's pages (or its still-open session) and lands in the cabinet. */
async function login(d) {
  const { page } = d;
  await page.goto(`${base}/#/cabinet`);
  await tid(page, 'login').first().click();
  await page.waitForURL((u) => u.href.startsWith(base) || u.pathname.includes('/interaction/'));
  if (page.url().includes('/interaction/')) {
    await page.fill('input[name=login]', env('DOBUSH_PIN'));
    await page.fill('input[name=password]', env('DOBUSH_PASSWORD'));
    await page.selectOption('select[name=acr]', env('DOBUSH_ACR'));
    await page.click('button[type=submit]');
  }
  await page.waitForURL(`${base}/#/cabinet`, { timeout: 10000 }).catch(async (e) => {
    throw new Error(`login did not come back to the cabinet: ${page.url()}: ${(await page.textContent('body')).slice(0, 500)}`, { cause: e });
  });
  await page.locator(`section[data-campaign="${campaign}"]`).waitFor();
}

const text = async (loc) => (await loc.textContent()).trim();
const card = (page) => page.locator(`section[data-campaign="${campaign}"]`);
const stored = (page, key) => page.evaluate((k) => localStorage.getItem(k), key);

/** Types a new PIN twice (in `scope`, a page or a card) and submits with `submit`. */
async function newPin(scope, pin, submit) {
  await tid(scope, 'pin-new').fill(pin);
  await tid(scope, 'pin-repeat').fill(pin);
  await tid(scope, submit).click();
}

/** Enters the PIN on the unlock page. */
async function enterPin(page, pin) {
  await tid(page, 'pin-enter').fill(pin);
  await tid(page, 'pin-unlock').click();
}

try {
  // ---- phone A, Kyrgyz: welcome, login, apply (the credential is made in the browser) ----
  const a = await device('phone-a', 'ky');
  await a.page.goto(`${base}/?lang=ky`);
  assert.equal(await text(a.page.locator('h1')), dicts.ky.app_title);
  await shot(a, 'welcome-ky');
  await setLang(a.page, 'ru');
  assert.equal(await text(a.page.locator('h1')), dicts.ru.app_title);
  await shot(a, 'welcome-ru');
  await setLang(a.page, 'en');
  assert.equal(await text(a.page.locator('h1')), dicts.en.app_title);
  await setLang(a.page, 'ky');
  // keyboard: each page puts the focus on its heading; Tab reaches the language buttons, Enter
  // switches the language
  await a.page.goto(`${base}/?lang=ky#/`);
  await a.page.locator('h1').waitFor();
  assert.equal(await a.page.evaluate(() => document.activeElement.tagName), 'H1');
  await a.page.keyboard.press('Tab');
  await a.page.keyboard.press('Tab');
  assert.equal(await a.page.evaluate(() => document.activeElement.getAttribute('lang')), 'ru');
  await a.page.keyboard.press('Enter');
  await a.page.waitForFunction((title) => document.querySelector('h1')?.textContent === title, dicts.ru.app_title);
  await setLang(a.page, 'ky');

  await login(a);
  assert.equal(await text(a.page.locator('h1')), dicts.ky.nav_cabinet);
  await shot(a, 'cabinet-before-ky');
  await tid(card(a.page), 'apply').click();
  // the credential is sealed under a PIN the voter chooses: a guessable one is refused
  await newPin(a.page, '123456', 'pin-set');
  await a.page.locator('[data-testid="notice-bad"]', { hasText: dicts.ky.pin_trivial }).waitFor();
  await newPin(a.page, '12345', 'pin-set');
  await a.page.locator('[data-testid="notice-bad"]', { hasText: dicts.ky.pin_short }).waitFor();
  await shot(a, 'pin-set-ky');
  await newPin(a.page, '271828', 'pin-set');
  const recovery = await text(tid(a.page, 'recovery-code'));
  console.error(`Chromium: Argon2id (19 MiB, 2 passes) and AES-GCM sealing took ${await a.page.evaluate(() => document.body.dataset.kdfMs)} ms`);
  const sealed = JSON.parse(await stored(a.page, `dobush.credential.${campaign}`));
  assert.deepEqual([sealed.kdf, sealed.m, sealed.t, sealed.p], ['argon2id', 19456, 2, 1]);
  const seedHex = D.toHex(D.credentialFromRecoveryCode(recovery).seed);
  assert.ok(!JSON.stringify(sealed).includes(seedHex) && !JSON.stringify(sealed).includes('271828'), 'neither the seed nor the PIN is stored');
  await shot(a, 'recovery-code-ky');
  await tid(a.page, 'wrote-it-down').click();
  await card(a.page).waitFor();
  // a plain seed left by an earlier version of the app is sealed under a PIN at its next use
  await a.page.evaluate(([k, v]) => localStorage.setItem(k, v), [`dobush.credential.${campaign}`, seedHex]);
  await a.page.reload();
  await tid(card(a.page), 'pin-migrate').click();
  await newPin(a.page, '271828', 'pin-set');
  await tid(card(a.page), 'show-recovery').waitFor();
  assert.equal(JSON.parse(await stored(a.page, `dobush.credential.${campaign}`)).kdf, 'argon2id');
  // the recovery code again, behind the PIN
  await tid(card(a.page), 'show-recovery').click();
  await enterPin(a.page, '271828');
  assert.equal(await text(tid(a.page, 'recovery-code')), recovery);
  const fingerprint = await text(tid(a.page, 'new-fingerprint'));
  assert.match(recovery, /^[0-9A-Z]{4}(-[0-9A-Z]{1,4}){7}$/);
  await shot(a, 'recovery-code-again-ky');
  await tid(a.page, 'wrote-it-down').click();
  await card(a.page).waitFor();
  assert.equal(await text(tid(card(a.page), 'fingerprint')), fingerprint);
  assert.ok((await text(card(a.page))).includes(dicts.ky.status_evoter));
  assert.ok((await text(card(a.page))).includes(dicts.ky.cred_on_device));
  await setLang(a.page, 'ru');
  await card(a.page).waitFor();
  assert.ok((await text(card(a.page))).includes(dicts.ru.status_evoter));
  await shot(a, 'cabinet-applied-ru');
  log('applied; fingerprint', fingerprint);

  // ---- the commission: deadline, list frozen, key ceremony, voting opens ----
  const packageFingerprint = await phase('applied');
  assert.match(packageFingerprint, /^[0-9a-f]{4}(-[0-9a-f]{4}){4}$/);

  // ---- phone B, Russian: another device, restored from the recovery code ----
  const b = await device('phone-b', 'ru');
  await b.page.goto(`${base}/?lang=ru`);
  await login(b);
  assert.ok((await text(card(b.page))).includes(dicts.ru.cred_not_on_device));
  assert.equal(await tid(card(b.page), 'vote').count(), 0, 'no vote button without the credential');
  await tid(card(b.page), 'restore-input').fill('0000-0000-0000-0000-0000-0000-0000-0');
  await tid(card(b.page), 'restore').click();
  await b.page.locator('[data-testid="notice-bad"]').first().waitFor();
  await tid(card(b.page), 'restore-input').fill(recovery.toLowerCase());
  await newPin(card(b.page), '314159', 'restore');
  await tid(card(b.page), 'vote').waitFor();
  assert.equal(JSON.parse(await stored(b.page, `dobush.credential.${campaign}`)).kdf, 'argon2id');
  assert.ok((await text(card(b.page))).includes(dicts.ru.cred_on_device));
  await shot(b, 'cabinet-restored-ru');

  // ---- the ballot: choose c2, review, encrypt, CHECK ----
  await tid(card(b.page), 'vote').click();
  await b.page.locator('fieldset.contest').waitFor();
  const options = b.page.locator('fieldset.contest input');
  assert.equal(await options.count(), 32, '30 candidates, against all, blank');
  // the package fingerprint on the ballot is the one Rust computed from the installed package
  assert.equal(await text(tid(b.page, 'package-fingerprint')), packageFingerprint);
  assert.ok((await text(b.page.locator('main'))).includes(dicts.ru.package_fp_note));
  // with the package's re-vote rule, which the fingerprint binds (read here from the server's
  // package, outside the app)
  const packagePolicy = (await (await fetch(`${base}/api/v1/campaigns/${encodeURIComponent(campaign)}/package`)).json())
    .parameters.re_vote.policy;
  assert.equal(await text(tid(b.page, 're-vote-rule')), `${dicts.ru.re_vote_rule}: ${dicts.ru[`re_vote_${packagePolicy}`]}`);
  // every pinned member with the fingerprint the server shows and each member's tool prints
  // (14-commission.md §Member fingerprints), computed on the device from the accepted package
  const shownCommission = await (await fetch(`${base}/api/v1/campaigns/${encodeURIComponent(campaign)}/commission`)).json();
  const printed = await tid(b.page, 'commission-members').locator('code.fingerprint').allTextContents();
  assert.deepEqual(printed, shownCommission.fingerprints);
  await shot(b, 'ballot-ru');
  await b.page.locator('label[for="c0o1"]').click();
  assert.equal(await b.page.isChecked('#c0o1'), true);
  // against all replaces the candidate (one mark only), then back to c2 by keyboard
  await b.page.locator('label[for="c0o30"]').click();
  assert.equal(await b.page.isChecked('#c0o1'), false);
  await b.page.focus('#c0o1');
  await b.page.keyboard.press('Space');
  assert.equal(await b.page.isChecked('#c0o1'), true);
  assert.equal(await b.page.isChecked('#c0o30'), false);
  await tid(b.page, 'review').click();
  assert.equal(await text(b.page.locator('.choices .chosen')), 'c2');
  await shot(b, 'review-ru');
  await tid(b.page, 'encrypt').click();
  // the seed is needed: the PIN is asked; a wrong one is refused and counted
  await enterPin(b.page, '314158');
  await tid(b.page, 'pin-message').locator('[data-testid="notice-bad"]').waitFor();
  assert.equal(await text(tid(b.page, 'pin-message')), dicts.ru.pin_wrong.replace('{left}', '9'));
  assert.equal(JSON.parse(await stored(b.page, `dobush.credential.${campaign}`)).failures, 1);
  await shot(b, 'pin-wrong-ru');
  await enterPin(b.page, '314159');
  const code1 = await text(tid(b.page, 'tracking-code'));
  assert.equal(JSON.parse(await stored(b.page, `dobush.credential.${campaign}`)).failures, 0);
  const ms = Number(await b.page.evaluate(() => document.body.dataset.encryptMs));
  console.error(`Chromium: encrypting a 30-option ballot (32 selections with "against all" and blank) took ${ms} ms`);
  await shot(b, 'tracking-code-ru');
  await tid(b.page, 'check').click();
  await b.page.locator('[data-testid="notice-good"]').waitFor();
  assert.equal(await text(b.page.locator('.choices .chosen')), 'c2', 'the opened choice is the one made');
  assert.ok((await text(b.page.locator('main'))).includes(dicts.ru.opened_match));
  assert.equal(await b.page.locator('svg.qr').count(), 1);
  const checkUrl = await b.page.locator('[data-testid="check-link"]').getAttribute('href');
  await shot(b, 'checked-ru');

  // ---- the checked ballot on a second device (phone A, Kyrgyz), from the board ----
  await a.page.goto(checkUrl);
  await a.page.locator('.choices .chosen').waitFor();
  assert.equal(await text(a.page.locator('.choices .chosen')), 'c2');
  await setLang(a.page, 'ky');
  await a.page.locator('.choices .chosen').waitFor();
  await shot(a, 'check-on-second-device-ky');

  // ---- vote again: re-encrypted afresh, then CAST ----
  await tid(b.page, 'reencrypt').click();
  await tid(b.page, 'encrypt').click();
  await enterPin(b.page, '314159');
  const code2 = await text(tid(b.page, 'tracking-code'));
  assert.notEqual(code2, code1, 'a fresh encryption after the check');
  await tid(b.page, 'cast').click();
  await b.page.locator('[data-testid="receipt-code"]').waitFor();
  assert.equal(await text(tid(b.page, 'receipt-code')), code2);
  assert.ok((await text(b.page.locator('main'))).includes(dicts.ru.receipt_ok), await text(b.page.locator('main')));
  const index = Number(await text(tid(b.page, 'receipt-index')));
  assert.ok(index >= 4, `board position ${index}`);
  const receiptJson = await b.page.locator('[data-testid="receipt-json"]').textContent();
  assert.equal(await text(tid(b.page, 'package-fingerprint')), packageFingerprint);
  const sent = JSON.parse(await stored(b.page, `dobush.sent.${campaign}`));
  assert.equal(sent.at(-1).ballot, JSON.stringify(JSON.parse(JSON.parse(receiptJson).entry).ballot), 'the device kept the bytes it sent');
  await shot(b, 'receipt-ru');

  // ---- "check my receipt" later: the saved one, then an altered one ----
  await b.page.goto(`${base}/#/receipt`);
  await tid(b.page, 'verify-saved').click();
  await tid(b.page, 'receipt-results').locator('[data-testid="notice-good"]').nth(1).waitFor();
  assert.ok((await text(tid(b.page, 'receipt-results'))).includes(dicts.ru.on_board_now));
  await shot(b, 'receipt-check-ru');
  const altered = JSON.parse(receiptJson);
  altered.entry = altered.entry.replace(/"alpha":"(.)/, (m, c) => m.slice(0, -1) + (c === '0' ? '1' : '0'));
  await tid(b.page, 'receipt-campaign').fill(campaign);
  await tid(b.page, 'receipt-text').fill(JSON.stringify(altered));
  await tid(b.page, 'verify-pasted').click();
  await tid(b.page, 'receipt-results').locator('[data-testid="notice-bad"]').waitFor();
  await shot(b, 'receipt-altered-ru');

  // ---- another voter's receipt: valid and on the board, but not this device's ballot ----
  const foreign = JSON.parse(await phase('voted'));
  await b.page.goto(`${base}/#/receipt`);
  await tid(b.page, 'receipt-campaign').fill(campaign);
  await tid(b.page, 'receipt-text').fill(JSON.stringify(foreign));
  await tid(b.page, 'verify-pasted').click();
  await tid(b.page, 'receipt-not-mine').waitFor();
  assert.ok((await text(tid(b.page, 'receipt-not-mine'))).includes(dicts.ru.receipt_not_mine));
  await shot(b, 'receipt-foreign-ru');
  // a server that answers a cast with that receipt (played here by intercepting the request:
  // the real server never sees this ballot)
  await b.page.route('**/api/campaigns/*/ballots', (route) => route.fulfill({ status: 201, contentType: 'application/json', body: JSON.stringify(foreign) }));
  await b.page.goto(`${base}/#/vote/${campaign}`);
  await b.page.locator('label[for="c0o2"]').click();
  await tid(b.page, 'review').click();
  await tid(b.page, 'encrypt').click();
  await enterPin(b.page, '314159');
  await tid(b.page, 'cast').click();
  await tid(b.page, 'receipt-not-mine').waitFor();
  assert.equal(await b.page.locator('[data-testid="notice-good"]').count(), 0);
  await shot(b, 'cast-foreign-receipt-ru');
  await b.page.unroute('**/api/campaigns/*/ballots');

  // ---- a server that switches packages: phone A pinned the package when it checked the ballot ----
  const real = await (await fetch(`${base}/api/v1/campaigns/${encodeURIComponent(campaign)}/package`)).json();
  const switched = structuredClone(real);
  switched.manifest.title.ky = 'Башка шайлоо';
  switched.extended_hash = D.toHex(D.makeContext({ baseHash: real.base_hash, jointKey: real.joint_key, manifest: switched.manifest, commissionHash: D.commissionHash(D.parseCommission(real.commission)), parametersHash: D.parametersHash(D.fromHex(real.board_key, 32), D.parseParameters(real.parameters)) }).extendedHash);
  D.contextFromPackage(switched); // valid on its own: only the pin tells it apart
  await a.page.route('**/api/v1/campaigns/*/package', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(switched) }));
  await a.page.goto(`${base}/#/assets/${campaign}`);
  await a.page.reload();
  await tid(a.page, 'package-switched').waitFor();
  assert.ok((await text(tid(a.page, 'package-switched'))).includes(packageFingerprint));
  await shot(a, 'package-switched-ky');
  await a.page.unroute('**/api/v1/campaigns/*/package');

  // ---- public pages: the app's bytes against the board, turnout ----
  await b.page.goto(`${base}/#/assets/${campaign}`);
  await b.page.locator('[data-testid="notice-good"]').waitFor();
  assert.ok((await text(b.page.locator('main'))).includes(dicts.ru.assets_match));
  assert.equal(await b.page.locator('tbody tr.ok').count(), 3);
  await shot(b, 'assets-ru');
  await b.page.goto(`${base}/#/public/${campaign}`);
  await b.page.locator('svg.chart').waitFor();
  await shot(b, 'turnout-ru');
  await a.page.goto(`${base}/#/public/${campaign}`);
  await a.page.locator('svg.chart').waitFor();
  await shot(a, 'turnout-ky');

  // ---- voting closes: each device deletes its credential when it sees that ----
  await phase('checked');
  for (const d of [a, b]) {
    assert.ok(await stored(d.page, `dobush.credential.${campaign}`), `${d.name} holds the credential`);
    await d.page.goto(`${base}/#/public`);
    await tid(d.page, 'cred-wiped').waitFor();
    assert.equal(await stored(d.page, `dobush.credential.${campaign}`), null, `${d.name} deleted the credential`);
  }
  assert.ok((await text(tid(b.page, 'cred-wiped'))).includes('Samarkandek'));
  await shot(b, 'credential-wiped-ru');

  assert.deepEqual(problems, [], 'console errors or CSP violations');
  process.stdout.write(`receipt ${JSON.stringify(JSON.parse(receiptJson))}\n`);
  process.stdout.write('done\n');
} catch (e) {
  console.error('[browser] FAILED:', e.stack ?? e);
  if (problems.length) console.error('[browser] problems:', problems);
  process.exitCode = 1;
} finally {
  await browser.close();
  process.exit(process.exitCode ?? 0);
}
