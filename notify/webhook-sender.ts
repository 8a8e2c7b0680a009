import type { SlackMessage } from './slack-message.js';

export interface WebhookDelivery {
  delivered: boolean;
  status: number | null;
  error: string | null;
}

export type WebhookSender = (url: string, message: SlackMessage) => Promise<WebhookDelivery>;

/**
 * POSTs one message. A delivery failure is reported, not thrown: a broken chat webhook must
 * not stop a cycle or a label move. Callers record the delivery so an operator can see it.
 */
export function createWebhookSender(
  options: { timeoutMs?: number; fetch?: typeof fetch } = {},
): WebhookSender {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 5000;
  return async (url, message) => {
    try {
      const res = await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(message),
        signal: AbortSignal.timeout(timeoutMs),
      });
      // Drain the body so the connection can be reused.
      await res.arrayBuffer().catch(() => undefined);
      return res.ok
        ? { delivered: true, status: res.status, error: null }
        : { delivered: false, status: res.status, error: `webhook answered HTTP ${res.status}` };
    } catch (e) {
      return { delivered: false, status: null, error: e instanceof Error ? e.message : String(e) };
    }
  };
}
