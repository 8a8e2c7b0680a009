/**
 * A Slack-compatible incoming-webhook payload: `text` is the fallback every receiver shows
 * (Slack, Mattermost, Rocket.Chat, Teams via connectors); `blocks` adds structure in Slack.
 * `event` and `data` ride along for machine receivers; Slack ignores unknown keys.
 */
export interface SlackMessage {
  text: string;
  blocks: {
    type: 'section' | 'context';
    text?: { type: 'mrkdwn'; text: string };
    elements?: { type: 'mrkdwn'; text: string }[];
  }[];
  event: string;
  data: Record<string, unknown>;
}

/** Slack's mrkdwn treats &, < and > as control characters; user text must be escaped. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function slackMessage(args: {
  event: string;
  title: string;
  lines?: string[];
  context?: string;
  data?: Record<string, unknown>;
}): SlackMessage {
  const lines = (args.lines ?? []).map(escapeMrkdwn);
  const text = [escapeMrkdwn(args.title), ...lines].join('\n');
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${escapeMrkdwn(args.title)}*` } },
      ...(lines.length > 0
        ? [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text: lines.join('\n') } }]
        : []),
      ...(args.context
        ? [
            {
              type: 'context' as const,
              elements: [{ type: 'mrkdwn' as const, text: escapeMrkdwn(args.context) }],
            },
          ]
        : []),
    ],
    event: args.event,
    data: args.data ?? {},
  };
}
