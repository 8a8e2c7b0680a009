import { useId, useState } from 'preact/hooks';
import type { TraceDetail } from '../api/types.js';

type SpanNode = TraceDetail['spans']['roots'][number];
type SpanEvent = NonNullable<SpanNode['events']>[number];

/**
 * The span tree, shown on demand: per span its name, kind, timing and status, then what it
 * recorded (model, tokens, tool arguments, every other attribute) and its events (an
 * exception with its type, message and stack trace; custom events with their attributes).
 * Each span with something inside collapses on its own, with a button the keyboard reaches.
 */
export function SpanTreeView({ spans }: { spans: TraceDetail['spans'] }) {
  if (spans.spanCount === 0) return null;
  return (
    <details class="spans">
      <summary>
        Span tree ({spans.spanCount} spans, {Math.round(spans.durationMs)} ms)
      </summary>
      <ul>
        {spans.roots.map((node) => (
          <SpanItem key={node.spanId} node={node} />
        ))}
      </ul>
    </details>
  );
}

const text = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** What the span recorded besides its name and timing: mapped fields first, then the raw attributes. */
function attributesOf(node: SpanNode): [string, unknown][] {
  const known: [string, unknown][] = [];
  if (node.model) known.push(['model', node.model]);
  if (node.provider) known.push(['provider', node.provider]);
  if (node.usage)
    known.push(['tokens', `${node.usage.inputTokens ?? '?'} in, ${node.usage.outputTokens ?? '?'} out`]);
  if (node.costUsd !== undefined) known.push(['cost', `$${node.costUsd.toFixed(4)}`]);
  if (node.tool) {
    known.push(['tool', node.tool.name]);
    for (const [k, v] of Object.entries(node.tool.arguments ?? {})) known.push([`argument ${k}`, v]);
  }
  if (node.input !== undefined) known.push(['input', node.input]);
  if (node.output !== undefined) known.push(['output', node.output]);
  const raw = Object.entries(node.attributes).sort(([a], [b]) => a.localeCompare(b));
  return [...known, ...raw];
}

function AttributeList({ entries, label }: { entries: [string, unknown][]; label: string }) {
  return (
    <dl class="arguments" aria-label={label}>
      {entries.map(([key, value]) => (
        <div key={key}>
          <dt>{key}</dt>
          <dd>
            <code>{text(value)}</code>
          </dd>
        </div>
      ))}
    </dl>
  );
}

/** Milliseconds from the span's start to the event, when both times are known. */
function offsetOf(event: SpanEvent, spanStart: string): string | null {
  if (!event.time) return null;
  const ms = Date.parse(event.time) - Date.parse(spanStart);
  return Number.isFinite(ms) ? `+${Math.round(ms)} ms` : null;
}

function EventItem({ event, spanStart }: { event: SpanEvent; spanStart: string }) {
  const {
    'exception.type': type,
    'exception.message': message,
    'exception.stacktrace': stack,
    ...rest
  } = event.attributes;
  const exception = event.name === 'exception' || type !== undefined || message !== undefined;
  const offset = offsetOf(event, spanStart);
  const others = Object.entries(rest);
  return (
    <li class={exception ? 'span-event exception' : 'span-event'}>
      <strong>{event.name || 'event'}</strong>
      {offset && <span class="muted"> {offset}</span>}
      {exception && (type !== undefined || message !== undefined) && (
        <p class="exception-line">
          {type !== undefined && <code>{text(type)}</code>}
          {type !== undefined && message !== undefined && ': '}
          {message !== undefined && text(message)}
        </p>
      )}
      {stack !== undefined && (
        <details>
          <summary>Stack trace</summary>
          <pre>{text(stack)}</pre>
        </details>
      )}
      {others.length > 0 && <AttributeList entries={others} label={`Attributes of event ${event.name}`} />}
    </li>
  );
}

function SpanItem({ node }: { node: SpanNode }) {
  const [open, setOpen] = useState(true);
  const attributes = attributesOf(node);
  const events = node.events ?? [];
  const dropped = Object.entries(node.dropped ?? {}).filter(([, n]) => (n ?? 0) > 0);
  const hasBody =
    attributes.length > 0 || events.length > 0 || node.children.length > 0 || dropped.length > 0;
  const name = node.name || node.spanId;
  const bodyId = useId();
  return (
    <li class={node.status === 'error' ? 'span error' : 'span'}>
      <span class="span-head">
        {hasBody ? (
          <button
            type="button"
            class="span-toggle"
            aria-expanded={open}
            aria-controls={bodyId}
            aria-label={`Span ${name}`}
            onClick={() => setOpen(!open)}
          >
            <span aria-hidden="true">{open ? '▾' : '▸'}</span>
          </button>
        ) : (
          <span class="span-toggle-space" aria-hidden="true" />
        )}
        <strong>{name}</strong> <span class="muted">{node.kind}</span> {Math.round(node.durationMs)} ms
        {node.status === 'error' && (
          <span class="badge bad">error{node.statusMessage ? `: ${node.statusMessage}` : ''}</span>
        )}
        {!open && (
          <span class="muted">
            {' '}
            (collapsed
            {node.children.length > 0
              ? `, ${node.children.length} child span${node.children.length === 1 ? '' : 's'}`
              : ''}
            )
          </span>
        )}
      </span>
      {hasBody && (
        <div id={bodyId} class="span-body" hidden={!open}>
          {node.tool?.result && (
            <p class="muted">
              {node.tool.name} → {node.tool.result}
            </p>
          )}
          {attributes.length > 0 && (
            <AttributeList entries={attributes} label={`Attributes of span ${name}`} />
          )}
          {events.length > 0 && (
            <ul class="span-events" aria-label={`Events of span ${name}`}>
              {events.map((event, i) => (
                <EventItem key={i} event={event} spanStart={node.startTime} />
              ))}
            </ul>
          )}
          {dropped.length > 0 && (
            <p class="muted">
              Dropped before storage: {dropped.map(([what, n]) => `${n} ${what}`).join(', ')}
            </p>
          )}
          {node.children.length > 0 && (
            <ul>
              {node.children.map((child) => (
                <SpanItem key={child.spanId} node={child} />
              ))}
            </ul>
          )}
        </div>
      )}
    </li>
  );
}
