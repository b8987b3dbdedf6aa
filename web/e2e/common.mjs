// What the browser scripts share: their settings from the environment (set by
// server/tests/api/browser.rs) and Chromium's launch.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

export const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
export const base = env('DOBUSH_URL');
export const campaign = env('DOBUSH_CAMPAIGN');
export const shots = env('DOBUSH_SCREENSHOTS');
mkdirSync(shots, { recursive: true });

/** Debian's Chromium, headless, with nothing running in the background. */
export const launch = () => chromium.launch({
  executablePath: env('DOBUSH_CHROMIUM'),
  headless: true,
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-gpu'],
});
