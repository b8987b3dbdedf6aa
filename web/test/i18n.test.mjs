// Kyrgyz and Russian carry every interface text; English has at least the welcome page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dicts } from '../app/i18n.js';

test('ky and ru have the same keys, every key used by the app exists, none is empty', () => {
  assert.deepEqual(Object.keys(dicts.ru).sort(), Object.keys(dicts.ky).sort());
  const src = readFileSync(new URL('../app/main.js', import.meta.url), 'utf8');
  const used = new Set([...src.matchAll(/\bt\('([a-z_]+)'/g)].map((m) => m[1]));
  for (const k of used) assert.ok(dicts.ky[k] && dicts.ru[k], `missing text ${k}`);
  for (const k of ['app_title', 'welcome', 'mobile_path', 'login']) assert.ok(dicts.en[k], `English welcome text ${k}`);
});

test('what the voter must check or protect is in English too', () => {
  const keys = Object.keys(dicts.ky).filter((k) => /^(package_|receipt_not_|pin_|show_recovery$|cred_wiped$)/.test(k));
  assert.ok(keys.includes('package_fp_note'));
  for (const k of keys) assert.ok(dicts.en[k], `English text ${k}`);
});
