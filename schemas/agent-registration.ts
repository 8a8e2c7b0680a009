import { z } from 'zod';
import { AttributionRule } from './agent-attribution.js';

/**
 * What creating or changing an agent takes, over HTTP and from the CLI. Requests are strict:
 * a misspelt field is refused with its name rather than silently ignored.
 */

/** The id is the stable key of tokens (`fw_<id>_…`), traces, workflow and schedule ids. */
export const AgentId = z
  .string()
  .min(1, 'an agent id is not empty')
  .max(64, 'an agent id has at most 64 characters')
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    'an agent id uses letters, digits, dot, dash and underscore and starts with a letter or digit, e.g. "checkout-bot"',
  );

const ACTOR_MESSAGE = 'name who does this (actor), e.g. your user name';
const Actor = z.string({ error: ACTOR_MESSAGE }).trim().min(1, ACTOR_MESSAGE);
const DisplayName = z.string().trim().max(200, 'a display name has at most 200 characters');
const Description = z.string().trim().max(2000, 'a description has at most 2,000 characters');

export const AgentCreateRequest = z.strictObject({
  id: AgentId,
  displayName: DisplayName.optional(),
  description: Description.optional(),
  /** Any sections of the agent configuration (schemas/agent-config.ts); the rest default. */
  config: z.record(z.string(), z.unknown()).optional(),
  actor: Actor,
  reason: z.string().trim().optional(),
});
export type AgentCreateRequest = z.infer<typeof AgentCreateRequest>;

/** The fields of a PATCH, before the check that it changes something (the API documents these). */
export const AgentPatchFields = z.strictObject({
  displayName: DisplayName.optional(),
  description: Description.optional(),
  /**
   * Configuration keys to set, dotted for nested ones (`retentionDays`, `sampling.rate`);
   * `null` removes a key so its default applies again.
   */
  set: z.record(z.string(), z.unknown()).optional(),
  /** Attribution rules to add (resource attributes that mark a span as this agent's). */
  match: z.array(AttributionRule).optional(),
  /** Attribution rules to remove. */
  unmatch: z.array(AttributionRule).optional(),
  actor: Actor,
  reason: z.string().trim().optional(),
});

export const AgentPatchRequest = AgentPatchFields.refine(
  (r) =>
    r.displayName !== undefined ||
    r.description !== undefined ||
    Object.keys(r.set ?? {}).length > 0 ||
    (r.match ?? []).length > 0 ||
    (r.unmatch ?? []).length > 0,
  {
    message:
      'say what to change: displayName, description, set (configuration keys, e.g. {"retentionDays": 14}), match or unmatch',
  },
);
export type AgentPatchRequest = z.infer<typeof AgentPatchRequest>;
