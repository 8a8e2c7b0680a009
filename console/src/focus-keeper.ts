/**
 * Chromium blurs a focused control the moment it is disabled (HTML's focus fixup rule): a
 * button disabled while its request runs (approve, promote, save), or the label form's
 * fieldset while a label is sent, leaves keyboard and screen-reader users on the page's
 * body, i.e. at its top. This gives focus back to the control once it is enabled again,
 * unless the person has moved focus elsewhere meanwhile or the control is gone.
 */
export function keepFocusThroughDisabling(doc: Document = document): () => void {
  let lost: HTMLElement | null = null;
  const onFocusOut = (event: FocusEvent) => {
    const target = event.target;
    if (event.relatedTarget === null && target instanceof HTMLElement && target.matches(':disabled'))
      lost = target;
  };
  const observer = new MutationObserver(() => {
    if (!lost) return;
    const active = doc.activeElement;
    if (!lost.isConnected || (active && active !== doc.body)) lost = null;
    else if (!lost.matches(':disabled')) {
      lost.focus();
      lost = null;
    }
  });
  doc.addEventListener('focusout', onFocusOut);
  observer.observe(doc.body, { subtree: true, attributes: true, attributeFilter: ['disabled'] });
  return () => {
    doc.removeEventListener('focusout', onFocusOut);
    observer.disconnect();
  };
}
