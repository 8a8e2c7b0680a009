import type { ComponentChildren, JSX } from 'preact';
import { useSyncExternalStore } from 'preact/compat';

/**
 * Client-side routes under /console/ with the History API: the API answers every
 * /console/* path with the page shell (api/console-routes.ts), so a reload or a shared
 * link opens the same page.
 */
export const BASE = '/console';

const listeners = new Set<() => void>();
const notify = () => {
  for (const listener of listeners) listener();
};
window.addEventListener('popstate', notify);

const subscribe = (listener: () => void) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};
const snapshot = () => window.location.pathname + window.location.search;

/** The current path and query, re-rendering on navigation. */
export const useLocation = (): string => useSyncExternalStore(subscribe, snapshot);

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  notify();
}

/** `pattern` such as `/console/queues/:id`; the named segments, decoded, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/');
  const got = (path.split('?')[0] ?? '').replace(/\/$/, '').split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of want.entries()) {
    const value = got[i] ?? '';
    if (part.startsWith(':')) params[part.slice(1)] = decodeURIComponent(value);
    else if (part !== value) return null;
  }
  return params;
}

/** A link that navigates in the page; modified clicks (new tab, download) stay the browser's. */
export function Link({
  href,
  children,
  ...rest
}: { href: string; children: ComponentChildren } & Omit<JSX.HTMLAttributes<HTMLAnchorElement>, 'href'>) {
  return (
    <a
      {...rest}
      href={href}
      onClick={(event) => {
        if (event.defaultPrevented || event.button !== 0) return;
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}

export const paths = {
  home: () => `${BASE}/`,
  signIn: () => `${BASE}/sign-in`,
  queues: () => `${BASE}/queues`,
  queue: (id: string) => `${BASE}/queues/${encodeURIComponent(id)}`,
  item: (queueId: string, itemId: string) =>
    `${BASE}/queues/${encodeURIComponent(queueId)}/items/${encodeURIComponent(itemId)}`,
  cycle: (id: string) => `${BASE}/cycles/${encodeURIComponent(id)}`,
  rollout: (id: string) => `${BASE}/rollouts/${encodeURIComponent(id)}`,
  agent: (id: string) => `${BASE}/agents/${encodeURIComponent(id)}`,
  agentConfig: (id: string) => `${BASE}/agents/${encodeURIComponent(id)}/config`,
  agentOnline: (id: string) => `${BASE}/agents/${encodeURIComponent(id)}/online`,
  agentCoaching: (id: string) => `${BASE}/agents/${encodeURIComponent(id)}/coaching`,
  coaching: (agent: string, id: string) =>
    `${BASE}/agents/${encodeURIComponent(agent)}/coaching/${encodeURIComponent(id)}`,
  traces: () => `${BASE}/traces`,
  trace: (id: string) => `${BASE}/traces/${encodeURIComponent(id)}`,
  prompts: () => `${BASE}/prompts`,
  prompt: (name: string) => `${BASE}/prompts/${encodeURIComponent(name)}`,
  datasets: () => `${BASE}/datasets`,
  datasetVersion: (id: string) => `${BASE}/datasets/${encodeURIComponent(id)}`,
  artifacts: (agent?: string) => `${BASE}/artifacts${agent ? `?agent=${encodeURIComponent(agent)}` : ''}`,
};
