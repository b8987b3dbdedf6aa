// The Dobush browser voter app: one page, hash routes, no inline script or style (strict CSP),
// the DOM built with createElement only (no innerHTML). Crypto: ../src/crypto (byte-identical to
// the Rust crate on vectors/), receipts: ./receipt.js, the pinned election package:
// ./package-pin.js, the credential under a PIN: ./vault.js.

import {
  generateCredential, credentialFromSeed, credentialFromRecoveryCode, encryptBallot,
  verifyChallengedBallot, systemRng, trackingCodeShort,
} from '../src/crypto/dobush.js';
import { usesRangeProof, selectionCount, isValidVote, memberFingerprint } from '../src/crypto/manifest.js';
import { fromHex } from '../src/crypto/group.js';
import { parseJson } from '../src/crypto/strict-json.js';
import qrcode from 'qrcode-generator';
import { t, setLang, initialLang, lang, localized, LANGS, LANG_NAMES } from './i18n.js';
import { NotMyBallotError, matchSentBallot, verifyReceipt, verifyTreeHead } from './receipt.js';
import { PackageSwitchedError, acceptPackage } from './package-pin.js';
import { CommissionError, checkCredentialListSignatures } from './commission.js';
import {
  PinError, WrongPinError, checkNewPin, openSeed, pinGate, readStored, sealSeed, withFailure, withSuccess,
} from './vault.js';

// ---- DOM helpers ------------------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

const main = () => document.getElementById('main');

function show(...children) {
  const m = main();
  m.replaceChildren(...children.flat().filter(Boolean));
  const first = m.querySelector('h1, h2');
  if (first) {
    first.setAttribute('tabindex', '-1');
    first.focus();
  }
}

const notice = (kind, text) => h('p', { class: `notice ${kind}`, role: kind === 'bad' ? 'alert' : 'status', 'data-testid': `notice-${kind}` }, text);
const button = (label, onclick, attrs = {}) => h('button', { type: 'button', onclick, ...attrs }, label);

function qr(text) {
  const q = qrcode(0, 'M');
  q.addData(text);
  q.make();
  const n = q.getModuleCount();
  const svg = s('svg', { viewBox: `-4 -4 ${n + 8} ${n + 8}`, class: 'qr', role: 'img', 'aria-label': text });
  svg.append(s('rect', { x: -4, y: -4, width: n + 8, height: n + 8, fill: '#fff' }));
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) if (q.isDark(r, c)) svg.append(s('rect', { x: c, y: r, width: 1, height: 1, fill: '#000' }));
  }
  return svg;
}

// ---- HTTP ---------------------------------------------------------------------------------------

class HttpError extends Error {
  constructor(status, body) {
    super(body?.message ? `${body.message}${body.field ? ` (${body.field})` : ''}` : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

function csrf() {
  const m = document.cookie.match(/(?:^|;\s*)dobush_csrf=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : '';
}

/** A request whose body (if any) is already serialized JSON text. */
async function request(method, path, bodyText) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrf();
  if (bodyText !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(path, { method, headers, body: bodyText, credentials: 'same-origin', cache: 'no-store' });
  const text = await r.text();
  let json = null;
  try { json = text ? parseJson(text) : null; } catch { json = null; }
  if (!r.ok) throw new HttpError(r.status, json);
  return json ?? text;
}

const api = (method, path, body) => request(method, path, body === undefined ? undefined : JSON.stringify(body));

async function boardText(id, start, end) {
  const r = await fetch(`/api/v1/campaigns/${encodeURIComponent(id)}/board/entries?start=${start}&end=${end}`, { cache: 'no-store' });
  if (!r.ok) throw new HttpError(r.status, null);
  return r.text();
}

/** Every board entry line up to the latest head, in pages of 1000. */
async function boardLines(id) {
  const head = await api('GET', `/api/v1/campaigns/${encodeURIComponent(id)}/board/head`);
  const lines = [];
  for (let start = 0; start < head.size; start += 1000) {
    const text = await boardText(id, start, Math.min(head.size, start + 1000));
    lines.push(...text.split('\n').filter((l) => l.length));
  }
  return lines;
}

/** The public list of campaigns (`GET /api/campaigns` answers `{campaigns: [...]}`). */
async function campaigns() {
  return (await api('GET', '/api/campaigns')).campaigns ?? [];
}

/** The campaign's election package, its hashes recomputed and pinned on this device (package-pin.js). */
const packages = new Map();
async function loadPackage(id) {
  if (!packages.has(id)) {
    const pkg = await api('GET', `/api/v1/campaigns/${encodeURIComponent(id)}/package`);
    const { ctx, fingerprint } = acceptPackage(localStorage, id, pkg);
    packages.set(id, { pkg, ctx, fingerprint });
  }
  return packages.get(id);
}

/**
 * The package fingerprint, with what the voter should compare it with, and, where the page has
 * the package, its re-vote rule (bound by the fingerprint: the package's `parameters`).
 */
const RE_VOTE_TEXT = { forbidden: () => t('re_vote_forbidden'), last_counts: () => t('re_vote_last_counts') };
const packageBox = (fingerprint, pkg) => h('section', { class: 'card package' },
  h('p', {}, `${t('package_fp')}: `, h('code', { 'data-testid': 'package-fingerprint' }, fingerprint)),
  pkg ? h('p', { 'data-testid': 're-vote-rule' }, `${t('re_vote_rule')}: ${RE_VOTE_TEXT[pkg.parameters.re_vote.policy]()}`) : null,
  h('p', { class: 'hint' }, t('package_fp_note')));

const ROLE_TEXT = { chair: () => t('role_chair'), deputy_chair: () => t('role_deputy_chair'), secretary: () => t('role_secretary'), member: () => t('role_member') };

/**
 * The commission pinned in the package this device accepted (names and roles from the package,
 * under its fingerprint), and whether the credential list the polls opened with (board entries 1
 * and 2) is signed by its quorum (commission.js).
 */
function commissionBox(id, ctx) {
  const status = h('div', { 'aria-live': 'polite', 'data-testid': 'commission-list-check' }, t('loading'));
  boardText(id, 0, 2).then((text) => {
    const [listLine, signedLine] = text.split('\n');
    const names = checkCredentialListSignatures(ctx.commission, id, listLine, signedLine);
    status.replaceChildren(notice('good', t('list_signed_by', { names: names.join(', ') })));
  }).catch((e) => {
    status.replaceChildren(e instanceof CommissionError
      ? notice('bad', `${t('list_not_signed')}: ${e.message}`)
      : notice('warn', t('list_unchecked')));
  });
  return h('section', { class: 'card commission' },
    h('h2', {}, t('commission')),
    h('ul', { 'data-testid': 'commission-members' },
      ctx.commission.members.map((m) => h('li', {}, `${m.name} (${ROLE_TEXT[m.role]()}) · `,
        h('code', { class: 'fingerprint' }, memberFingerprint(m))))),
    h('p', { class: 'hint' }, t('commission_note')),
    status);
}

// ---- device storage (the credential never leaves the device) --------------------------------------

const credPrefix = 'dobush.credential.';
const credKey = (id) => `${credPrefix}${id}`;

/**
 * What this device holds for a campaign, without the PIN: `null`, or `{ public, record }` (sealed
 * under a PIN, vault.js), or `{ public, legacy }` (a plain seed of an earlier app version, to be
 * sealed on next use; `legacy` is the seed).
 */
function deviceCredential(id) {
  let stored;
  try {
    stored = readStored(localStorage.getItem(credKey(id)));
  } catch {
    return null;
  }
  if (!stored) return null;
  if (stored.record) return { public: stored.record.public, record: stored.record };
  const cred = credentialFromSeed(stored.legacy);
  stored.legacy.fill(0);
  return { public: cred.public, legacy: cred.seed };
}
const saveRecord = (id, record) => localStorage.setItem(credKey(id), JSON.stringify(record));
const forgetCredential = (id) => localStorage.removeItem(credKey(id));

/** Every ballot this device sent in a campaign, `{ tracking_code, ballot }` (the exact request body). */
const sentKey = (id) => `dobush.sent.${id}`;
function sentBallots(id) {
  try {
    const all = JSON.parse(localStorage.getItem(sentKey(id)) ?? '[]');
    return Array.isArray(all) ? all.filter((s) => typeof s?.tracking_code === 'string' && typeof s?.ballot === 'string') : [];
  } catch {
    return [];
  }
}
function rememberSent(id, sent) {
  localStorage.setItem(sentKey(id), JSON.stringify([...sentBallots(id).filter((s) => s.tracking_code !== sent.tracking_code), sent]));
}

/** States after voting: the device deletes its credential for the campaign once it sees one. */
const ENDED = new Set(['closed', 'tallied', 'protocol_signed']);

/**
 * Deletes the stored credential of every campaign whose voting is over; returns their names. A
 * campaign the app cannot ask about now is left for the next time.
 */
async function wipeEnded() {
  const ids = [];
  for (let i = 0; i < localStorage.length; i++) {
    const k = localStorage.key(i);
    if (k?.startsWith(credPrefix)) ids.push(k.slice(credPrefix.length));
  }
  const wiped = [];
  for (const id of ids) {
    try {
      const c = await api('GET', `/api/campaigns/${encodeURIComponent(id)}`);
      if (ENDED.has(c.state)) {
        forgetCredential(id);
        wiped.push(c.name ?? id);
      }
    } catch {
      // offline, or a campaign the server does not know: decide next time
    }
  }
  return wiped;
}

const receiptsKey = 'dobush.receipts';
function storedReceipts() {
  try { return JSON.parse(localStorage.getItem(receiptsKey) ?? '[]'); } catch { return []; }
}
function storeReceipt(id, receipt) {
  const all = storedReceipts().filter((r) => r.receipt.tracking_code !== receipt.tracking_code);
  all.push({ campaign: id, receipt });
  localStorage.setItem(receiptsKey, JSON.stringify(all));
}

// ---- layout ---------------------------------------------------------------------------------------

function header() {
  const sel = h('select', { id: 'lang', 'aria-label': t('lang'), onchange: (e) => { setLang(e.target.value); render(); } },
    LANGS.map((l) => h('option', { value: l, selected: l === lang() }, LANG_NAMES[l])));
  const links = [['#/', 'nav_home'], ['#/cabinet', 'nav_cabinet'], ['#/public', 'nav_public'], ['#/receipt', 'nav_receipt'], ['#/assets', 'nav_assets']];
  return [
    h('a', { class: 'skip', href: '#main' }, t('skip')),
    h('header', {},
      h('span', { class: 'brand' }, 'Добуш'),
      h('nav', { 'aria-label': 'main' }, links.map(([href, k]) => h('a', { href, 'aria-current': location.hash === href ? 'page' : undefined }, t(k)))),
      h('label', { class: 'lang' }, h('span', { class: 'sr' }, t('lang')), sel)),
  ];
}

function render() {
  document.title = t('app_title');
  const body = document.body;
  body.replaceChildren(...header(), h('main', { id: 'main' }), h('footer', {}, t('mobile_path')));
  let wiped = [];
  wipeEnded()
    .then((names) => { wiped = names; return route(); })
    .catch(showError)
    .finally(() => {
      for (const name of wiped.reverse()) {
        main()?.prepend(h('p', { class: 'notice info', role: 'status', 'data-testid': 'cred-wiped' }, t('cred_wiped', { name })));
      }
    });
}

function showError(e) {
  if (e instanceof PackageSwitchedError) {
    show(h('h1', {}, t('package_switched_title')),
      h('p', { class: 'notice bad', role: 'alert', 'data-testid': 'package-switched' },
        t('package_switched', { was: e.pinned.fingerprint, now: e.served.fingerprint })));
    return;
  }
  const status = e instanceof HttpError ? ` (${e.status})` : '';
  show(h('h1', {}, t('error')), notice('bad', `${e.message}${status}`), button(t('retry'), render));
}

async function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  switch (parts[0]) {
    case '': return welcome();
    case 'cabinet': return cabinetPage();
    case 'vote': return votePage(parts[1]);
    case 'receipt': return receiptPage();
    case 'check': return checkPage(parts[1], parts[2]);
    case 'public': return parts[1] ? publicCampaign(parts[1]) : publicList();
    case 'assets': return assetsPage(parts[1]);
    default: return welcome();
  }
}

// ---- pages ----------------------------------------------------------------------------------------

function welcome() {
  show(
    h('h1', {}, t('app_title')),
    h('p', {}, t('welcome')),
    h('p', { class: 'langs' }, LANGS.map((l) => button(LANG_NAMES[l], () => { setLang(l); render(); }, { lang: l, 'aria-pressed': String(l === lang()) }))),
    h('p', {}, h('a', { class: 'button primary', href: '/auth/login', 'data-testid': 'login' }, t('login'))),
    notice('info', t('mobile_path')),
  );
  appendDemoLogin();
}

/** Demo-mode campaigns only (docs/server.md §Demo mode): log in as one of the demo citizens,
 * without Tunduk. The server refuses this for every other campaign. */
async function appendDemoLogin() {
  const main = document.getElementById('main');
  let demos;
  try {
    demos = (await campaigns()).filter((c) => c.demo_mode);
  } catch {
    return;
  }
  for (const c of demos) {
    let info;
    try {
      info = await api('GET', `/api/campaigns/${encodeURIComponent(c.id)}/demo`);
    } catch {
      continue;
    }
    const login = (pin) => async () => {
      try {
        await api('POST', `/api/campaigns/${encodeURIComponent(c.id)}/demo/login`, { pin });
        location.hash = '#/cabinet';
        render();
      } catch (e) {
        showError(e);
      }
    };
    main?.append(h('section', { class: 'card', 'data-testid': 'demo' },
      h('h2', {}, `${t('demo_login')}: ${c.name}`),
      notice('warn', t('demo_note')),
      h('ul', {}, info.citizens.map((p) => h('li', {}, button(`${p.full_name} · ${p.pin}`, login(p.pin), { 'data-testid': `demo-${p.pin}` }))))));
  }
}

async function me() {
  try {
    return await api('GET', '/api/me');
  } catch (e) {
    if (e instanceof HttpError && e.status === 401) return null;
    throw e;
  }
}

async function cabinetPage() {
  show(h('p', {}, t('loading')));
  const who = await me();
  if (!who) {
    show(h('h1', {}, t('nav_cabinet')), h('p', {}, t('not_logged_in')), h('a', { class: 'button primary', href: '/auth/login', 'data-testid': 'login' }, t('login')));
    return;
  }
  const sections = [];
  for (const id of who.voter_in_campaigns) sections.push(await campaignCard(id));
  show(
    h('h1', {}, t('nav_cabinet')),
    sections.length ? sections : h('p', {}, t('no_campaigns')),
    button(t('logout'), async () => { await api('POST', '/auth/logout'); location.hash = '#/'; render(); }),
  );
}

async function campaignCard(id) {
  const [campaign, cab] = await Promise.all([api('GET', `/api/campaigns/${id}`), api('GET', `/api/campaigns/${id}/cabinet`)]);
  const local = deviceCredential(id);
  const registered = cab.credential?.public_key;
  const onDevice = local && registered && local.public === registered;
  const locked = onDevice && local.record && pinGate(local.record, Date.now()).locked;
  const out = h('section', { class: 'card', 'data-campaign': id },
    h('h2', {}, campaign.name),
    h('dl', {},
      h('dt', {}, t('campaign_state')), h('dd', { 'data-testid': 'state' }, campaign.state),
      h('dt', {}, t('precinct')), h('dd', {}, cab.precinct),
      h('dt', {}, t('deadline')), h('dd', {}, cab.last_application_day)),
    notice(cab.e_voter ? 'good' : 'info', cab.e_voter ? t('status_evoter') : t('status_not_evoter')));
  if (registered) {
    out.append(h('p', {}, `${t('fingerprint')}: `, h('code', { 'data-testid': 'fingerprint' }, cab.credential.fingerprint)),
      notice(onDevice ? 'good' : 'warn', onDevice ? t('cred_on_device') : t('cred_not_on_device')));
    if (onDevice && local.legacy) {
      out.append(notice('warn', t('pin_migrate')), button(t('pin_set'), () => migratePage(id, render), { 'data-testid': 'pin-migrate' }));
    } else if (locked) {
      out.append(notice('bad', t('pin_locked')), restoreForm(id, registered));
    } else if (onDevice) {
      out.append(button(t('show_recovery'), () => unlockPage(id, (cred) => showRecovery(cred.recoveryCode(), cred.fingerprint)), { 'data-testid': 'show-recovery' }));
    } else {
      out.append(restoreForm(id, registered));
    }
  }
  const apply = () => {
    const cred = generateCredential(systemRng);
    setPinPage(id, null, cred, async (record) => {
      await api('PUT', `/api/campaigns/${id}/cabinet/application`, { credential: cred.public });
      saveRecord(id, record);
      showRecovery(cred.recoveryCode(), cred.fingerprint);
    });
  };
  if (cab.applications_open) {
    out.append(button(registered ? t('reapply') : t('apply'), apply, { class: registered ? '' : 'primary', 'data-testid': 'apply' }));
    if (registered) {
      out.append(button(t('withdraw'), async () => {
        if (!confirm(t('confirm_withdraw'))) return;
        await api('DELETE', `/api/campaigns/${id}/cabinet/application`).catch(showError);
        forgetCredential(id);
        render();
      }, { 'data-testid': 'withdraw' }));
    }
  } else {
    out.append(h('p', {}, t('applications_closed')));
  }
  if (campaign.state === 'voting_open' && onDevice && !locked) {
    out.append(h('a', { class: 'button primary', href: `#/vote/${id}`, 'data-testid': 'vote' }, t('vote')));
  } else if (registered) {
    out.append(h('p', {}, t('voting_not_open')));
  }
  return out;
}

/** The recovery code, right after it was made or unlocked with the PIN. */
function showRecovery(code, fingerprint) {
  show(
    h('h1', {}, t('recovery_code')),
    h('p', {}, t('recovery_note')),
    h('p', { class: 'code big', 'data-testid': 'recovery-code' }, code),
    h('p', {}, `${t('fingerprint')}: `, h('code', { 'data-testid': 'new-fingerprint' }, fingerprint)),
    button(t('wrote_it_down'), () => { location.hash = '#/cabinet'; render(); }, { class: 'primary', 'data-testid': 'wrote-it-down' }),
  );
}

// ---- the PIN (vault.js): set when the credential is made or restored, asked when the seed is needed

function pinMessage(e) {
  if (!(e instanceof PinError)) return e.message;
  return ({ digits: t('pin_digits'), short: t('pin_short'), long: t('pin_long'), trivial: t('pin_trivial'), mismatch: t('pin_mismatch') })[e.code] ?? e.message;
}

/** A new PIN typed twice; `read()` returns it or throws a PinError. */
function newPinInputs(prefix) {
  const attrs = (id, testid) => ({ id, type: 'password', inputmode: 'numeric', autocomplete: 'new-password', 'data-testid': testid });
  const pin = h('input', attrs(`${prefix}-pin`, 'pin-new'));
  const again = h('input', attrs(`${prefix}-pin2`, 'pin-repeat'));
  return {
    nodes: [h('label', { for: pin.id }, t('pin_label')), pin, h('label', { for: again.id }, t('pin_repeat')), again],
    read() {
      checkNewPin(pin.value);
      if (pin.value !== again.value) throw new PinError('mismatch', 'the two PINs differ');
      return pin.value;
    },
    clear() {
      pin.value = '';
      again.value = '';
    },
  };
}

/**
 * Asks for a new PIN, seals `cred`'s seed under it and calls `done(record)`; `cred.seed` is wiped
 * afterwards, whatever happens.
 */
function setPinPage(id, intro, cred, done) {
  const inputs = newPinInputs(`set-${id}`);
  const msg = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'pin-set' }, t('pin_set'));
  show(
    h('h1', {}, t('pin_set_title')),
    intro ? notice('warn', intro) : null,
    h('p', {}, t('pin_explain')),
    h('form', {
      onsubmit: async (e) => {
        e.preventDefault();
        let pin;
        try {
          pin = inputs.read();
        } catch (err) {
          msg.replaceChildren(notice('bad', pinMessage(err)));
          return;
        }
        inputs.clear();
        submit.disabled = true;
        msg.replaceChildren(notice('info', t('pin_working')));
        try {
          const t0 = performance.now();
          const record = await sealSeed(cred.seed, pin, id);
          document.body.dataset.kdfMs = String(Math.round(performance.now() - t0));
          await done(record);
        } catch (err) {
          showError(err);
        } finally {
          cred.seed.fill(0);
        }
      },
    }, inputs.nodes, submit, msg),
  );
}

/** Seals an earlier app version's plain seed under a new PIN, then calls `next()`. */
function migratePage(id, next) {
  const local = deviceCredential(id);
  if (!local?.legacy) return next();
  const cred = credentialFromSeed(local.legacy);
  local.legacy.fill(0);
  return setPinPage(id, t('pin_migrate'), cred, (record) => {
    saveRecord(id, record);
    return next();
  });
}

/**
 * Asks for the PIN, opens the campaign's credential, runs `use(cred)` and wipes the seed after.
 * Wrong PINs count towards vault.js's limit (waits, then a lock that only the recovery code lifts).
 */
function unlockPage(id, use) {
  const input = h('input', { id: 'pin', type: 'password', inputmode: 'numeric', autocomplete: 'off', 'data-testid': 'pin-enter' });
  const msg = h('div', { 'aria-live': 'polite', 'data-testid': 'pin-message' });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'pin-unlock' }, t('pin_unlock'));
  const refusal = (gate) => {
    if (gate.locked) return notice('bad', t('pin_locked'));
    if (gate.waitMs > 0) return notice('warn', t('pin_wait', { s: Math.ceil(gate.waitMs / 1000) }));
    return null;
  };
  show(
    h('h1', {}, t('pin_enter_title')),
    h('p', {}, t('pin_enter_note')),
    h('form', {
      onsubmit: async (e) => {
        e.preventDefault();
        let record = deviceCredential(id)?.record;
        if (!record) {
          location.hash = '#/cabinet';
          render();
          return;
        }
        const refused = refusal(pinGate(record, Date.now()));
        if (refused) {
          msg.replaceChildren(refused);
          return;
        }
        const pin = input.value;
        input.value = '';
        submit.disabled = true;
        msg.replaceChildren(notice('info', t('pin_working')));
        let cred;
        try {
          const t0 = performance.now();
          cred = await openSeed(record, pin, id);
          document.body.dataset.kdfMs = String(Math.round(performance.now() - t0));
        } catch (err) {
          submit.disabled = false;
          if (!(err instanceof WrongPinError)) {
            showError(err);
            return;
          }
          record = withFailure(record, Date.now());
          saveRecord(id, record);
          const gate = pinGate(record, Date.now());
          msg.replaceChildren(gate.locked ? refusal(gate) : notice('bad', t('pin_wrong', { left: gate.left })), (!gate.locked && refusal(gate)) || '');
          return;
        }
        if (record.failures) saveRecord(id, withSuccess(record));
        try {
          await use(cred);
        } catch (err) {
          showError(err);
        } finally {
          cred.seed.fill(0);
        }
      },
    }, h('label', { for: 'pin' }, t('pin_enter_title')), input, submit, msg),
  );
}

/** Restores the credential from its recovery code under a new PIN (also the way out of a lock). */
function restoreForm(id, registered) {
  const input = h('input', { id: `restore-${id}`, autocomplete: 'off', spellcheck: 'false', 'data-testid': 'restore-input' });
  const pins = newPinInputs(`restore-${id}`);
  const msg = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', 'data-testid': 'restore' }, t('restore'));
  return h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      let cred;
      try {
        cred = credentialFromRecoveryCode(input.value);
        if (cred.public !== registered) throw new Error(t('restore_wrong'));
        const pin = pins.read();
        pins.clear();
        submit.disabled = true;
        msg.replaceChildren(notice('info', t('pin_working')));
        saveRecord(id, await sealSeed(cred.seed, pin, id));
        input.value = '';
        render();
      } catch (err) {
        submit.disabled = false;
        msg.replaceChildren(notice('bad', pinMessage(err)));
      } finally {
        cred?.seed.fill(0);
      }
    },
  }, h('label', { for: `restore-${id}` }, t('restore_label')), input, pins.nodes, submit, msg);
}

// ---- the ballot -----------------------------------------------------------------------------------

async function votePage(id) {
  show(h('p', {}, t('loading')));
  const [{ pkg, ctx, fingerprint }, cab] = await Promise.all([loadPackage(id), api('GET', `/api/campaigns/${id}/cabinet`)]);
  const local = deviceCredential(id);
  if (!local || local.public !== cab.credential?.public_key) {
    location.hash = '#/cabinet';
    return;
  }
  if (local.legacy) {
    migratePage(id, () => votePage(id));
    return;
  }
  const style = pkg.manifest.ballot_styles.find((b) => b.id === cab.ballot_style);
  const contests = style.contests.map((cid) => pkg.manifest.contests.find((c) => c.id === cid));
  // The ballot is shown: tell the server (turnout of issued ballots); older servers answer 404.
  api('POST', `/api/v1/campaigns/${encodeURIComponent(id)}/ballot-issued`, {}).catch(() => {});
  if (contests.some(usesRangeProof)) {
    show(h('h1', {}, t('ballot')), notice('warn', t('wide_range')));
    return;
  }
  const marks = contests.map((c) => new Array(selectionCount(c)).fill(0));
  ballotForm({ id, pkg, ctx, fingerprint, style: style.id, contests, marks });
}

function optionLabels(c) {
  const labels = c.options.map((o) => localized(o.name));
  if (c.against_all) labels.push(t('against_all'));
  if (c.blank_allowed) labels.push(t('blank'));
  return labels;
}

function ballotForm(v) {
  const fieldsets = v.contests.map((c, ci) => {
    const labels = optionLabels(c);
    const single = c.max_marks === 1;
    const inputs = [];
    const exclusive = (j) => j >= c.options.length;
    const sync = () => {
      const m = v.marks[ci];
      const count = m.slice(0, c.options.length).reduce((a, b) => a + b, 0);
      const excl = m.slice(c.options.length).some((x) => x);
      inputs.forEach((inp, j) => {
        inp.checked = m[j] === 1;
        if (!single) inp.disabled = !inp.checked && (exclusive(j) ? count > 0 : excl || count >= c.max_marks);
      });
    };
    labels.forEach((label, j) => {
      const inp = h('input', {
        type: single ? 'radio' : 'checkbox', name: `c${ci}`, id: `c${ci}o${j}`, value: String(j),
        onchange: () => {
          const m = v.marks[ci];
          if (single || exclusive(j)) m.fill(0);
          m[j] = inp.checked ? 1 : 0;
          sync();
        },
      });
      inputs.push(inp);
    });
    setTimeout(sync);
    return h('fieldset', { class: 'contest', 'data-contest': c.id },
      h('legend', {}, localized(c.title)),
      h('p', { class: 'hint' }, t('marks_rule', { min: c.min_marks, max: c.max_marks })),
      labels.map((label, j) => h('div', { class: exclusive(j) ? 'option exclusive' : 'option' }, inputs[j], h('label', { for: `c${ci}o${j}` }, label))));
  });
  const msg = h('div', { 'aria-live': 'polite' });
  show(
    h('h1', {}, localized(v.pkg.manifest.title) || t('ballot')),
    packageBox(v.fingerprint, v.pkg),
    commissionBox(v.id, v.ctx),
    h('form', {
      onsubmit: (e) => {
        e.preventDefault();
        const bad = v.contests.findIndex((c, ci) => !isValidVote(c, v.marks[ci]));
        if (bad >= 0) {
          msg.replaceChildren(notice('bad', `${localized(v.contests[bad].title)}: ${t('marks_rule', { min: v.contests[bad].min_marks, max: v.contests[bad].max_marks })}`));
          return;
        }
        review(v);
      },
    }, fieldsets, msg, h('button', { type: 'submit', class: 'primary', 'data-testid': 'review' }, t('review'))),
  );
}

function choiceList(contests, marks) {
  return h('ul', { class: 'choices' }, contests.map((c, ci) => {
    const labels = optionLabels(c);
    const chosen = labels.filter((_, j) => marks[ci][j] === 1);
    return h('li', { 'data-contest': c.id }, h('strong', {}, `${localized(c.title)}: `), h('span', { class: 'chosen' }, chosen.length ? chosen.join(', ') : t('nothing_marked')));
  }));
}

function review(v) {
  show(
    h('h1', {}, t('your_choice')),
    choiceList(v.contests, v.marks),
    h('div', { class: 'row' },
      button(t('change'), () => ballotForm(v)),
      button(t('encrypt'), () => unlockPage(v.id, (cred) => encryptAndOffer(v, cred)), { class: 'primary', 'data-testid': 'encrypt' })),
  );
}

function encryptAndOffer(v, cred) {
  const plaintext = { style: v.style, contests: v.contests.map((c, ci) => ({ contest_id: c.id, selections: v.marks[ci].slice() })) };
  const t0 = performance.now();
  const enc = encryptBallot(v.ctx, cred, plaintext, systemRng);
  const ms = Math.round(performance.now() - t0);
  document.body.dataset.encryptMs = String(ms);
  let used = false;
  const once = (f) => async () => {
    if (used) return;
    used = true;
    try { await f(); } catch (e) { showError(e); }
  };
  show(
    h('h1', {}, t('tracking_code')),
    h('p', { class: 'code big', 'data-testid': 'tracking-code' }, enc.trackingCodeShort),
    h('p', { class: 'hint' }, t('encrypted_in', { ms })),
    h('p', {}, t('cast_or_check')),
    h('div', { class: 'row' },
      button(t('check'), once(() => checkBallot(v, enc, plaintext)), { 'data-testid': 'check' }),
      button(t('cast'), once(() => castBallot(v, enc)), { class: 'primary', 'data-testid': 'cast' })),
  );
}

async function checkBallot(v, enc, plaintext) {
  const answer = await api('POST', `/api/campaigns/${v.id}/challenges`, { ballot: enc.ballot, opening: enc.opening });
  // Check the opening here too, and compare with the choice.
  const opened = verifyChallengedBallot(v.ctx, enc.ballot, enc.opening);
  const same = (p) => JSON.stringify(p.contests.map((c) => c.selections)) === JSON.stringify(plaintext.contests.map((c) => c.selections));
  const match = same(opened) && same(answer.plaintext);
  const url = `${location.origin}/#/check/${v.id}/${enc.trackingCode}`;
  show(
    h('h1', {}, t('checked_title')),
    h('h2', {}, t('opened_choices')),
    choiceList(v.contests, answer.plaintext.contests.map((c) => c.selections)),
    notice(match ? 'good' : 'bad', match ? t('opened_match') : t('opened_mismatch')),
    h('p', {}, t('check_elsewhere')),
    h('p', { class: 'code', 'data-testid': 'check-code' }, enc.trackingCode),
    h('p', {}, h('a', { href: url, 'data-testid': 'check-link' }, url)),
    qr(url),
    h('p', {}, `${t('board_position')}: ${answer.receipt.index}`),
    button(t('reencrypt'), () => review(v), { class: 'primary', 'data-testid': 'reencrypt' }),
  );
}

/** A receipt refused because it is not for this device's ballot (receipt.js matchSentBallot). */
const notMine = (e) => h('p', { class: 'notice bad', role: 'alert', 'data-testid': 'receipt-not-mine' }, `${t('receipt_not_mine')} (${e.message})`);

async function castBallot(v, enc) {
  // The exact bytes sent, kept before sending: a receipt is accepted only for these.
  const sent = { tracking_code: enc.trackingCode, ballot: JSON.stringify(enc.ballot) };
  rememberSent(v.id, sent);
  const receipt = await request('POST', `/api/campaigns/${v.id}/ballots`, sent.ballot);
  let ok = null;
  let why = '';
  let refusal = null;
  try {
    verifyReceipt(v.pkg, receipt);
    matchSentBallot(receipt, [sent]);
    ok = true;
  } catch (e) {
    ok = false;
    why = e.message;
    if (e instanceof NotMyBallotError) refusal = notMine(e);
  }
  if (ok) storeReceipt(v.id, receipt);
  show(
    h('h1', {}, t('receipt')),
    receiptView(receipt),
    refusal ?? notice(ok ? 'good' : 'bad', ok ? t('receipt_ok') : `${t('receipt_bad')}: ${why}`),
    ok ? h('p', {}, t('save_receipt')) : null,
    packageBox(v.fingerprint),
    h('details', {}, h('summary', {}, 'JSON'), h('pre', { 'data-testid': 'receipt-json' }, JSON.stringify(receipt))),
  );
}

const receiptView = (r) => h('dl', {},
  h('dt', {}, t('tracking_code')), h('dd', { class: 'code', 'data-testid': 'receipt-code' }, trackingCodeShort(r.tracking_code)),
  h('dt', {}, t('board_position')), h('dd', { 'data-testid': 'receipt-index' }, String(r.index)));

// ---- later checks -----------------------------------------------------------------------------------

/**
 * Checks a receipt again: valid for the pinned package, for a ballot this device sent (when it
 * sent any in the campaign), and still the entry at its position on the board.
 */
async function checkStoredReceipt(id, receipt) {
  const { pkg, fingerprint } = await loadPackage(id);
  verifyReceipt(pkg, receipt);
  const sent = sentBallots(id);
  if (sent.length) matchSentBallot(receipt, sent);
  const line = (await boardText(id, receipt.index, receipt.index + 1)).replace(/\n$/, '');
  return { onBoard: line === receipt.entry, fromDevice: sent.length > 0, fingerprint };
}

function receiptPage() {
  const saved = storedReceipts();
  const results = h('div', { 'aria-live': 'polite', 'data-testid': 'receipt-results' });
  const run = async (id, receipt) => {
    try {
      const { onBoard, fromDevice, fingerprint } = await checkStoredReceipt(id, receipt);
      results.append(h('section', { class: 'card' }, receiptView(receipt), notice('good', t('receipt_ok')),
        fromDevice ? null : notice('warn', t('receipt_not_from_device')),
        notice(onBoard ? 'good' : 'bad', onBoard ? t('on_board_now') : t('not_on_board_now'))),
      packageBox(fingerprint));
    } catch (e) {
      if (e instanceof PackageSwitchedError) throw e;
      results.append(h('section', { class: 'card' }, e instanceof NotMyBallotError ? notMine(e) : notice('bad', `${t('receipt_bad')}: ${e.message}`)));
    }
  };
  const campaign = h('input', { id: 'receipt-campaign', autocomplete: 'off', 'data-testid': 'receipt-campaign' });
  const text = h('textarea', { id: 'receipt-text', rows: 6, 'data-testid': 'receipt-text' });
  show(
    h('h1', {}, t('nav_receipt')),
    saved.length ? h('h2', {}, t('receipts_saved')) : null,
    h('ul', {}, saved.map((r) => h('li', {}, h('code', {}, trackingCodeShort(r.receipt.tracking_code)), ' ',
      button(t('verify'), () => { results.replaceChildren(); run(r.campaign, r.receipt).catch(showError); }, { 'data-testid': 'verify-saved' })))),
    h('form', {
      onsubmit: (e) => {
        e.preventDefault();
        results.replaceChildren();
        let receipt;
        try { receipt = parseJson(text.value, 'receipt'); } catch (err) {
          results.append(notice('bad', `${t('receipt_bad')}: ${err.message}`));
          return;
        }
        run(campaign.value.trim(), receipt).catch(showError);
      },
    }, h('label', { for: 'receipt-campaign' }, t('choose_campaign')), campaign,
    h('label', { for: 'receipt-text' }, t('paste_receipt')), text,
    h('button', { type: 'submit', 'data-testid': 'verify-pasted' }, t('verify'))),
    results,
  );
}

async function checkPage(id, code) {
  show(h('p', {}, t('loading')));
  const { pkg, ctx, fingerprint } = await loadPackage(id);
  const lines = await boardLines(id);
  // every board line read strictly (record-format.md J1): a repeated key is refused, never read two ways
  const entries = lines.map((l) => parseJson(l, 'board entry'));
  const idx = entries.findIndex((e) => e.type === 'challenged' && e.tracking_code === code);
  if (idx < 0) {
    show(h('h1', {}, t('check_page')), notice('bad', t('not_found')));
    return;
  }
  const e = entries[idx];
  const opened = verifyChallengedBallot(ctx, e.ballot, e.opening);
  const style = pkg.manifest.ballot_styles.find((b) => b.id === opened.style);
  const contests = style.contests.map((cid) => pkg.manifest.contests.find((c) => c.id === cid));
  show(
    h('h1', {}, t('check_page')),
    h('p', {}, `${t('tracking_code')}: `, h('code', {}, trackingCodeShort(code)), ` · ${t('board_position')}: ${idx}`),
    h('h2', {}, t('opened_choices')),
    choiceList(contests, opened.contests.map((c) => c.selections)),
    packageBox(fingerprint),
  );
}

// ---- public pages -------------------------------------------------------------------------------------

async function publicList() {
  const list = await campaigns();
  show(h('h1', {}, t('nav_public')),
    h('ul', {}, list.map((c) => h('li', {}, h('a', { href: `#/public/${c.id}` }, c.name), ` · ${c.voting_day} · ${c.state}`))));
}

function turnoutChart(tn) {
  const max = Math.max(1, tn.e_voters, ...tn.slots.map((x) => x.cumulative));
  const w = 320;
  const bar = 24;
  const svg = s('svg', { viewBox: `0 0 ${w} ${Math.max(1, tn.slots.length) * (bar + 6)}`, class: 'chart', role: 'img', 'aria-label': t('turnout') });
  tn.slots.forEach((x, i) => {
    const y = i * (bar + 6);
    svg.append(s('rect', { x: 60, y, width: Math.round(((w - 110) * x.cumulative) / max), height: bar, class: 'bar' }),
      s('text', { x: 0, y: y + 17 }, x.until), s('text', { x: w - 45, y: y + 17 }, String(x.cumulative)));
  });
  return svg;
}

async function optional(path) {
  try { return await api('GET', path); } catch { return null; }
}

function genericTable(v) {
  if (Array.isArray(v)) return h('ul', {}, v.map((x) => h('li', {}, genericTable(x))));
  if (v && typeof v === 'object') return h('dl', {}, Object.entries(v).flatMap(([k, x]) => [h('dt', {}, k), h('dd', {}, genericTable(x))]));
  return String(v);
}

async function publicCampaign(id) {
  const [campaign, tn] = await Promise.all([api('GET', `/api/campaigns/${id}`), api('GET', `/api/campaigns/${id}/turnout`)]);
  const results = await optional(`/api/v1/campaigns/${id}/results`);
  const protocol = await optional(`/api/v1/campaigns/${id}/protocol`);
  const last = tn.slots.length ? tn.slots[tn.slots.length - 1].cumulative : 0;
  show(
    h('h1', {}, campaign.name),
    h('h2', {}, t('turnout')),
    h('p', {}, `${t('e_voters')}: ${tn.e_voters} · ${t('voters_so_far')}: ${last}`),
    turnoutChart(tn),
    results ? [h('h2', {}, t('results')), genericTable(results)] : null,
    protocol ? [h('h2', {}, t('protocol')), genericTable(protocol)] : null,
    h('p', {}, h('a', { href: `#/assets/${id}` }, t('nav_assets'))),
  );
}

async function sri(path) {
  const r = await fetch(path, { cache: 'no-store', credentials: 'omit' });
  const d = new Uint8Array(await crypto.subtle.digest('SHA-384', await r.arrayBuffer()));
  let bin = '';
  for (const b of d) bin += String.fromCharCode(b);
  return `sha384-${btoa(bin)}`;
}

async function assetsPage(id) {
  if (!id) {
    const list = await campaigns();
    show(h('h1', {}, t('assets_title')), h('p', {}, t('mobile_path')), h('h2', {}, t('choose_campaign')),
      h('ul', {}, list.map((c) => h('li', {}, h('a', { href: `#/assets/${c.id}` }, c.name)))));
    return;
  }
  show(h('p', {}, t('loading')));
  const { pkg } = await loadPackage(id);
  const head = await api('GET', `/api/v1/campaigns/${encodeURIComponent(id)}/board/head`);
  verifyTreeHead(head, fromHex(pkg.board_key, 32), fromHex(pkg.base_hash, 32));
  const lines = await boardLines(id);
  const entry = lines.map((l) => parseJson(l, 'board entry')).find((e) => e.type === 'web_assets');
  if (!entry) {
    show(h('h1', {}, t('assets_title')), notice('warn', t('no_board_assets')));
    return;
  }
  const rows = [];
  let all = true;
  for (const [path, published] of entry.assets) {
    const served = await sri(path);
    const same = served === published;
    all &&= same;
    rows.push(h('tr', { class: same ? 'ok' : 'bad' }, h('td', {}, path), h('td', {}, h('code', {}, served)), h('td', {}, h('code', {}, published)), h('td', {}, same ? '✓' : '✗')));
  }
  show(
    h('h1', {}, t('assets_title')),
    notice(all ? 'good' : 'bad', all ? t('assets_match') : t('assets_mismatch')),
    h('div', { class: 'scroll' }, h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, t('asset')), h('th', {}, t('served')), h('th', {}, t('published')), h('th', {}, ''))), h('tbody', {}, rows))),
    h('p', {}, t('mobile_path')),
  );
}

// ---- start ----------------------------------------------------------------------------------------------

setLang(initialLang());
window.addEventListener('hashchange', render);
render();
