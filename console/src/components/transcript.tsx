import type { ComponentChildren } from 'preact';
import { stepAnchor } from '../api/coaching-figures.js';
import type { AgentAction, ChatMessage } from '../api/types.js';

/**
 * The sampled conversation as a reviewer reads it: who said what, each tool call with its
 * arguments and the result that came back, then the step under review (the agent's action
 * the judge scored), marked when the judge or a code check found it failing.
 */
export function Transcript({
  messages,
  step,
  failing,
  stepAction,
  anchors = false,
  target = null,
}: {
  messages: ChatMessage[];
  step: AgentAction | null;
  failing: string | null;
  /**
   * What a page adds under each step the agent took (its replies and tool calls, and the step
   * under review): `index` is the step's index in `messages`, `messages.length` for the last.
   */
  stepAction?: (index: number) => ComponentChildren;
  /** Give each step an id (`step-<index>`, the step under review `step-<messages.length>`) to link to. */
  anchors?: boolean;
  /** The step a link pointed at (its index, as for `stepAction`), highlighted. */
  target?: number | null;
}) {
  const anchor = (index: number) => (anchors ? { id: stepAnchor(index), tabIndex: -1 as const } : {});
  const targeted = (index: number) => (target === index ? ' targeted' : '');
  const callNames = new Map<string, string>();
  for (const m of messages)
    for (const call of m.tool_calls ?? []) if (call.id) callNames.set(call.id, call.name);
  const system = messages.filter((m) => m.role === 'system');
  const rest = messages.map((m, index) => ({ m, index })).filter(({ m }) => m.role !== 'system');
  return (
    <div class="transcript">
      {system.map((m, i) => (
        <details key={`s${i}`} class="message system">
          <summary>System prompt ({(m.content ?? '').length.toLocaleString()} characters)</summary>
          <p class="text">{m.content}</p>
        </details>
      ))}
      <ol class="messages">
        {rest.map(({ m, index }) => (
          <li key={index} class={`message ${m.role}${targeted(index)}`} {...anchor(index)}>
            <p class="role">{speaker(m, callNames)}</p>
            {m.content ? <p class="text">{m.content}</p> : null}
            {(m.tool_calls ?? []).map((call, j) => (
              <div key={j} class="tool-call">
                <p>
                  Calls <code>{call.name}</code>
                </p>
                <Arguments args={call.arguments} />
              </div>
            ))}
            {m.role === 'assistant' && stepAction?.(index)}
          </li>
        ))}
      </ol>
      {step && (
        <section
          class={`step ${failing ? 'failing' : ''}${targeted(messages.length)}`}
          aria-labelledby="step-under-review"
          {...anchor(messages.length)}
        >
          <h3 id="step-under-review">Step under review{failing ? ' — flagged as failing' : ''}</h3>
          {step.action === 'respond' ? (
            <p class="text">
              <span class="role">Agent replies: </span>
              {step.content ?? ''}
            </p>
          ) : (
            <div class="tool-call">
              <p>
                Agent calls <code>{step.action}</code>
              </p>
              <Arguments args={step.arguments ?? {}} />
            </div>
          )}
          {failing && <p class="finding">{failing}</p>}
          {stepAction?.(messages.length)}
        </section>
      )}
    </div>
  );
}

function speaker(m: ChatMessage, callNames: Map<string, string>): string {
  if (m.role === 'tool') {
    const name = m.name ?? (m.tool_call_id ? callNames.get(m.tool_call_id) : undefined);
    return name ? `Result of ${name}` : 'Tool result';
  }
  if (m.role === 'assistant') return 'Agent';
  if (m.role === 'user') return 'User';
  return m.sourceRole || m.role;
}

function Arguments({ args }: { args: Record<string, unknown> }) {
  const entries = Object.entries(args);
  if (entries.length === 0) return <p class="muted">no arguments</p>;
  return (
    <dl class="arguments">
      {entries.map(([key, value]) => (
        <div key={key}>
          <dt>{key}</dt>
          <dd>
            <code>{typeof value === 'string' ? value : JSON.stringify(value)}</code>
          </dd>
        </div>
      ))}
    </dl>
  );
}
