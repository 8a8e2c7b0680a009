import type { ComponentChildren } from 'preact';

/** Where a page sits, as a navigation landmark screen readers list ("Breadcrumb"). */
export function Breadcrumbs({ children }: { children: ComponentChildren }) {
  return (
    <nav aria-label="Breadcrumb" class="crumbs">
      {children}
    </nav>
  );
}
