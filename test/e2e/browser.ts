import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';

/** Debian's Chromium; `npx playwright install` cannot download browsers here. */
export const CHROMIUM = '/usr/bin/chromium';

/** The flags DEVELOPERS.md lists: no sandbox (root in a container), no GPU, no traffic beyond the pages under test. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Whether the browser tests run: always in CI (a missing Chromium then fails
 * them), elsewhere only when Chromium is installed.
 */
export function browserTestsRun(): boolean {
  if (existsSync(CHROMIUM) || process.env.CI === 'true') return true;
  console.warn(`\nSkipping the browser tests: ${CHROMIUM} is missing. Install it with: apt-get install -y chromium\n`);
  return false;
}

/** One person's browser: its own profile (so its own cookies), one page. */
export interface UserBrowser {
  readonly page: Page;
  close(): Promise<void>;
}

/**
 * Starts Chromium on a fresh profile directory in the temp directory, so two
 * of them share nothing, as two people's browsers would not.
 */
export async function openBrowser(): Promise<UserBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'demo-e2e-profile-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1000, height: 800 },
    });
    context.setDefaultTimeout(20_000);
    const page = context.pages()[0] ?? (await context.newPage());
    return {
      page,
      async close() {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}
