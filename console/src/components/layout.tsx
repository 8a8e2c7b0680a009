import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { answer, api, setCsrfToken } from '../api/client.js';
import { Link, paths, useLocation } from '../router.js';
import { useMe } from '../session.js';

/** The frame of every signed-in page: skip link, navigation, who is signed in, sign-out. */
export function Layout({ children }: { children: ComponentChildren }) {
  const me = useMe();
  const location = useLocation();
  const queryClient = useQueryClient();
  const signOut = useMutation({
    mutationFn: () => answer<{ signedOut: string }>(api.DELETE('/api/session')),
    onSettled: () => {
      setCsrfToken(null);
      // The session query stays (the app observes it to show the sign-in page); every other
      // answer was for the person who left.
      queryClient.setQueryData(['me'], null);
      queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== 'me' });
    },
  });

  const path = location.split('?')[0];
  // After a client-side navigation, move focus to the new page's heading, as a page load
  // would, so screen readers announce it and Tab starts from the top of the content; and
  // name the tab after it (WCAG 2.4.2). Most pages show their heading only once their data
  // has loaded: until then focus sits on the body (the link that was followed is gone), so
  // wait for the heading, unless the person has moved focus elsewhere in the meantime.
  useEffect(() => {
    const main = document.getElementById('content');
    if (!main) return;
    const before = document.activeElement;
    const arrived = () => {
      const heading = main.querySelector<HTMLElement>('h1');
      if (!heading) return false;
      document.title = `${heading.textContent?.trim() ?? ''} · Flywheel`;
      const now = document.activeElement;
      if (!now || now === document.body || now === before) heading.focus({ preventScroll: true });
      return true;
    };
    if (arrived()) return;
    const observer = new MutationObserver(() => {
      if (arrived()) observer.disconnect();
    });
    observer.observe(main, { childList: true, subtree: true });
    return () => observer.disconnect();
  }, [path]);

  const roles = [...new Set(me.grants.map((g) => (g.agent ? `${g.role} (${g.agent})` : g.role)))];
  const current = (href: string) => (path === href ? 'page' : undefined);
  return (
    <>
      <a class="skip-link" href="#content">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Flywheel</span>
        <nav aria-label="Main">
          <ul>
            <li>
              <Link href={paths.home()} aria-current={current(paths.home())}>
                Home
              </Link>
            </li>
            <li>
              <Link href={paths.queues()} aria-current={current(paths.queues())}>
                Annotation queues
              </Link>
            </li>
            <li>
              <Link href={paths.traces()} aria-current={current(paths.traces())}>
                Traces
              </Link>
            </li>
            <li>
              <Link href={paths.prompts()} aria-current={current(paths.prompts())}>
                Prompts
              </Link>
            </li>
            <li>
              <Link href={paths.datasets()} aria-current={current(paths.datasets())}>
                Datasets
              </Link>
            </li>
            <li>
              <Link href={paths.artifacts()} aria-current={current(paths.artifacts())}>
                Artifacts
              </Link>
            </li>
          </ul>
        </nav>
        <div class="who">
          <span>
            Signed in as <strong>{me.user}</strong> · {roles.join(', ') || 'no role'}
          </span>
          <button
            type="button"
            class="secondary"
            onClick={() => signOut.mutate()}
            disabled={signOut.isPending}
          >
            Sign out
          </button>
        </div>
      </header>
      {/* Focusable so the skip link moves focus into it (not only where Tab starts next). */}
      <main id="content" class="page" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
