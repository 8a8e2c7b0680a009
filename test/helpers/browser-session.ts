import type { Browser, Page } from 'playwright-core';
import { watchPageProblems } from './browser-checks.js';

/** A person who signs in to the console with a password (test/helpers/api-credentials.ts). */
export interface ConsolePerson {
  user: string;
  password: string;
}

/**
 * A page of a new browser context (its own cookies, as a separate profile would have) signed
 * in through the console's form as `who`, at `path` (the sign-in page sends them back there).
 * Errors the page throws and CSP refusals go to `problems`; `onPage` sees the page before it
 * loads anything (to record its requests).
 */
export async function signedInPage(
  browser: Browser,
  baseUrl: string,
  who: ConsolePerson,
  options: {
    problems: string[];
    path?: string;
    viewport?: { width: number; height: number };
    onPage?: (page: Page) => void;
  },
): Promise<Page> {
  const context = await browser.newContext(options.viewport ? { viewport: options.viewport } : {});
  const page = await context.newPage();
  watchPageProblems(page, options.problems);
  options.onPage?.(page);
  await page.goto(`${baseUrl}${options.path ?? '/console/'}`);
  await page.getByLabel('User name').fill(who.user);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 10_000 });
  return page;
}
