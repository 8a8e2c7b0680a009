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

/**
 * How far the page scrolls sideways at 320 CSS px wide (400 % zoom, WCAG 1.4.10 reflow): 0
 * when it reflows (a wide table may scroll in its own box; the page itself must not), with
 * the innermost elements that stick out, to say what to fix.
 */
export async function sidewaysScrollAt320(page: Page): Promise<{ overflow: number; wide: string[] }> {
  const size = page.viewportSize();
  await page.setViewportSize({ width: 320, height: size?.height ?? 720 });
  try {
    // Two frames first: resize observers (the charts) have redrawn at the new width.
    return await page.evaluate<{ overflow: number; wide: string[] }>(`new Promise((done) =>
      requestAnimationFrame(() => requestAnimationFrame(() => {
        const width = document.documentElement.clientWidth;
        // Inside a scrolling box, unless positioned out of it (against the page).
        const clipped = (e) => {
          if (['absolute', 'fixed'].includes(getComputedStyle(e).position)) return false;
          for (let p = e.parentElement; p; p = p.parentElement)
            if (getComputedStyle(p).overflowX !== 'visible') return true;
          return false;
        };
        const out = [...document.body.querySelectorAll('*')].filter(
          (e) => e.getBoundingClientRect().right > width + 1 && !clipped(e));
        const wide = out.filter((e) => !out.some((o) => o !== e && e.contains(o))).slice(0, 5)
          .map((e) => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' "' +
            (e.textContent || '').trim().slice(0, 40) + '"');
        done({ overflow: document.documentElement.scrollWidth - width, wide });
      })))`);
  } finally {
    if (size) await page.setViewportSize(size);
  }
}

/**
 * Saves the page's screenshot as `<name>.png` and asserts what axe-core cannot see as well as
 * what it can: no serious accessibility violation, a title of its own (not the shell's), and
 * no sideways scrolling at 320 CSS px.
 */
export async function checkPage(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });
  assert.deepEqual(await axeViolations(page), [], `accessibility of the ${name} page`);
  assert.match(await page.title(), / · Flywheel$/, `the ${name} page's title names it`);
  const reflow = await sidewaysScrollAt320(page);
  assert.equal(
    reflow.overflow,
    0,
    `the ${name} page scrolls sideways at 320 px (WCAG 1.4.10 reflow); sticking out: ${reflow.wide.join(', ')}`,
  );
}

/** Records into `problems` every error the page throws and every CSP refusal it logs. */
export function watchPageProblems(page: Page, problems: string[]): void {
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (/Content.Security.Policy/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
  });
}
