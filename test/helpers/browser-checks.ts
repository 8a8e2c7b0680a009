import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';

/*
 * What every browser test does to a page: Debian's Chromium to drive, a screenshot of each
 * page for the closing note, the axe-core check, and a watch for errors the page throws and
 * Content-Security-Policy refusals (both must stay empty).
 */

/** Debian's Chromium (`apt-get install chromium`): Playwright's own download cannot run here. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where the tests save a screenshot of each page (git-ignored). */
export const SCREENSHOTS = fileURLToPath(new URL('../browser/screenshots/', import.meta.url));

/** Serious and critical accessibility violations on the page as it is now (axe-core). */
export async function axeViolations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Saves the page's screenshot as `<name>.png` and asserts no serious accessibility violation. */
export async function checkPage(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });
  assert.deepEqual(await axeViolations(page), [], `accessibility of the ${name} page`);
}

/** Records into `problems` every error the page throws and every CSP refusal it logs. */
export function watchPageProblems(page: Page, problems: string[]): void {
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (/Content.Security.Policy/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
  });
}
