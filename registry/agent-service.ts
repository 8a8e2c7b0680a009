import type { z } from 'zod';
import type { Db } from '../db/connection.js';
import { latestCycles, type CycleSummary } from '../cycles/store/cycle-repository.js';
import { agentTraceActivity, type AgentTraceActivity } from '../traces/store/agent-trace-activity.js';
import { AgentConfig, DEFAULT_RETENTION_DAYS, storedRetentionDays } from '../schemas/agent-config.js';
import {
  AttributionRules,
  describeRule,
  sameRule,
  type AttributionRule,
} from '../schemas/agent-attribution.js';
import { AgentCreateRequest, AgentPatchRequest } from '../schemas/agent-registration.js';
import { formatIssues } from '../schemas/format-issues.js';
import { ConflictError, NotFoundError, UserError } from '../schemas/user-error.js';
import { audited, type ArtifactOptions } from './artifact-service.js';
import type { ConfigObject } from './artifact-kinds.js';
import { keysBeside, unknownKeys, withKeys } from './config-keys.js';
import { auditArtifactChange } from './store/artifact-repository.js';
import {
  agentProfile,
  agentProfiles,
  assertRulesFree,
  insertAgent,
  lockAgent,
  newestConfigVersion,
  setAgentProfile,
  updateAgentConfig,
  type AgentProfile,
  type ConfigUpdate,
} from './store/agent-repository.js';

/**
 * Agents as operators see them: registration (`flywheel agent create`, POST /api/agents),
 * listing with what each has been doing, and changes to names and configuration keys. Every
 * write validates first, runs in one transaction with its audit record, and changes nothing
 * when any part of the request is refused.
 */
export { agentConfig, agentIds, ensureAgent } from './store/agent-repository.js';

export interface AgentSummary {
  id: string;
  displayName: string;
  description: string;
  createdAt: Date;
  retentionDays: number;
  attribution: AttributionRule[];
  lastCycle: Omit<CycleSummary, 'agent'> | null;
  traces: AgentTraceActivity;
}

export interface AgentDetails extends AgentSummary {
  /** The configuration with its defaults applied (as stored when it does not validate). */
  config: ConfigObject;
  configVersion: number | null;
  /** Why the stored configuration does not validate; absent when it does. */
  configError?: string;
}

function parseRequest<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success)
    throw new UserError(`${formatIssues(parsed.error, { root: '(body)' })}. Nothing was changed.`);
  return parsed.data;
}

const unknownAgent = (agent: string) =>
  new NotFoundError(
    `Unknown agent "${agent}": see flywheel agent list (GET /api/agents), or register it with flywheel agent create ${agent}.`,
  );

function summaryOf(
  profile: AgentProfile,
  cycle: CycleSummary | undefined,
  traces: AgentTraceActivity,
): AgentDetails {
  const parsed = AgentConfig.safeParse(profile.config);
  const attribution = AttributionRules.safeParse(profile.config.attribution);
  return {
    id: profile.id,
    displayName: profile.displayName,
    description: profile.description,
    createdAt: profile.createdAt,
    retentionDays: storedRetentionDays(profile.config) ?? DEFAULT_RETENTION_DAYS,
    attribution: attribution.success ? attribution.data : [],
    lastCycle: cycle
      ? {
          cycleId: cycle.cycleId,
          stage: cycle.stage,
          outcome: cycle.outcome,
          startedAt: cycle.startedAt,
          updatedAt: cycle.updatedAt,
        }
      : null,
    traces,
    config: parsed.success ? parsed.data : profile.config,
    configVersion: null,
    ...(parsed.success ? {} : { configError: formatIssues(parsed.error, { root: '(top level)' }) }),
  };
}

/** Every agent with its retention, attribution, last cycle and recent traffic, by id. */
export async function listAgents(db: Db, now: Date): Promise<AgentSummary[]> {
  const [profiles, cycles] = await Promise.all([agentProfiles(db), latestCycles(db)]);
  return Promise.all(
    profiles.map(async (p) => {
      const {
        config: _config,
        configError: _error,
        configVersion: _version,
        ...summary
      } = summaryOf(p, cycles.get(p.id), await agentTraceActivity(db, p.id, now));
      return summary;
    }),
  );
}

export async function showAgent(db: Db, agent: string, now: Date): Promise<AgentDetails> {
  const profile = await agentProfile(db, agent);
  if (!profile) throw unknownAgent(agent);
  const [cycles, traces, configVersion] = await Promise.all([
    latestCycles(db),
    agentTraceActivity(db, agent, now),
    newestConfigVersion(db, agent),
  ]);
  return { ...summaryOf(profile, cycles.get(agent), traces), configVersion };
}

const SECTIONS = Object.keys(AgentConfig.shape);

/** Registers a new agent; an id that exists already is a conflict and changes nothing. */
export async function createAgent(db: Db, body: unknown, now: Date): Promise<AgentDetails> {
  const req = parseRequest(AgentCreateRequest, body);
  const unknown = Object.keys(req.config ?? {}).filter((k) => !SECTIONS.includes(k));
  if (unknown.length > 0)
    throw new UserError(
      `config has no section ${unknown.join(', ')}; its sections are ${SECTIONS.join(', ')}. Nothing was changed.`,
    );
  const config = AgentConfig.safeParse(req.config ?? {});
  if (!config.success)
    throw new UserError(
      `The configuration of ${req.id} would not be valid: ${formatIssues(config.error, { root: 'config', at: ['config'] })}. Nothing was changed.`,
    );
  await db.transaction().execute(async (tx) => {
    await assertRulesFree(tx, req.id, config.data.attribution);
    const profile = { id: req.id, displayName: req.displayName ?? '', description: req.description ?? '' };
    const inserted = await insertAgent(
      tx,
      { ...profile, config: config.data },
      req.actor,
      req.reason || 'agent registered',
    );
    if (!inserted)
      throw new ConflictError(
        `Agent "${req.id}" exists already, so nothing was changed: change it with flywheel agent set ${req.id} (PATCH /api/agents/${req.id}).`,
      );
    await auditArtifactChange(tx, {
      actor: req.actor,
      action: 'agent.create',
      artifact: `agent:${req.id}`,
      detail: { displayName: profile.displayName, description: profile.description },
    });
  });
  return showAgent(db, req.id, now);
}

/** The attribution list after the request's matches and unmatches. */
function editedRules(
  agent: string,
  current: unknown,
  match: readonly AttributionRule[],
  unmatch: readonly AttributionRule[],
): AttributionRule[] {
  const parsed = AttributionRules.safeParse(current);
  let rules = parsed.success ? [...parsed.data] : [];
  for (const rule of unmatch) {
    if (!rules.some((r) => sameRule(r, rule)))
      throw new UserError(
        `Agent ${agent} has no attribution rule ${describeRule(rule)} to remove (its rules: ${rules.map(describeRule).join('; ') || 'none'}). Nothing was changed.`,
      );
    rules = rules.filter((r) => !sameRule(r, rule));
  }
  for (const rule of match) if (!rules.some((r) => sameRule(r, rule))) rules.push(rule);
  return rules;
}

export interface AgentUpdate {
  agent: AgentDetails;
  /** False when the request asked for what was there already: nothing was written. */
  changed: boolean;
  /** Configuration versions before and after; equal when the configuration did not change. */
  configVersion: { from: number; to: number } | null;
  /** What changed: configuration sections, `displayName`, `description`. */
  changes: string[];
}

/**
 * Changes an agent's names and configuration keys (PATCH /api/agents/:id, `flywheel agent
 * set`). A configuration change is a new version, audited and announced on the agent's
 * webhook like `flywheel agent config set`; a request with one bad part changes nothing.
 */
export async function updateAgent(
  db: Db,
  agent: string,
  body: unknown,
  now: Date,
  options: ArtifactOptions = {},
): Promise<AgentUpdate> {
  const req = parseRequest(AgentPatchRequest, body);
  const set = req.set ?? {};
  const configTouched =
    Object.keys(set).length > 0 || (req.match ?? []).length > 0 || (req.unmatch ?? []).length > 0;
  const what = [
    ...Object.keys(set),
    ...(req.match ?? []).map((r) => `match ${describeRule(r)}`),
    ...(req.unmatch ?? []).map((r) => `unmatch ${describeRule(r)}`),
  ];
  const reason = req.reason || `set ${what.join(', ') || 'names'}`;
  const changes: string[] = [];
  let update: ConfigUpdate | undefined;

  const writeProfile = async (tx: Db): Promise<void> => {
    const profile = await agentProfile(tx, agent);
    if (!profile) throw unknownAgent(agent);
    await lockAgent(tx, agent);
    const names = {
      ...(req.displayName !== undefined && req.displayName !== profile.displayName
        ? { displayName: req.displayName }
        : {}),
      ...(req.description !== undefined && req.description !== profile.description
        ? { description: req.description }
        : {}),
    };
    await setAgentProfile(tx, agent, names);
    changes.push(...Object.keys(names));
  };

  if (!configTouched) {
    await db.transaction().execute(async (tx) => {
      await writeProfile(tx);
      if (changes.length > 0)
        await auditArtifactChange(tx, {
          actor: req.actor,
          action: 'agent.profile',
          artifact: `agent:${agent}`,
          detail: { reason, displayName: req.displayName, description: req.description },
        });
    });
  } else {
    await audited(db, options, async (tx) => {
      await writeProfile(tx);
      update = await updateAgentConfig(
        tx,
        agent,
        {
          edit: (current) => {
            const next = withKeys(current, set);
            if (!req.match?.length && !req.unmatch?.length) return next;
            return {
              ...next,
              attribution: editedRules(agent, next.attribution, req.match ?? [], req.unmatch ?? []),
            };
          },
        },
        req.actor,
        reason,
      );
      const unknown = unknownKeys(update.config, set);
      if (unknown.length > 0) {
        const config = update.config;
        const hints = unknown.map((key) => {
          const beside = keysBeside(config, key);
          const at = key.includes('.') ? key.slice(0, key.lastIndexOf('.')) : 'the top level';
          return beside.length ? `${at} has ${beside.join(', ')}` : '';
        });
        throw new UserError(
          `The agent configuration has no key ${unknown.join(', ')} (${[...hints.filter(Boolean), `see flywheel agent show ${agent}`].join('; ')}). Nothing was changed.`,
        );
      }
      changes.push(...update.sections);
      if (changes.length === 0) return null;
      return {
        agent,
        actor: req.actor,
        reason,
        action: 'config.change',
        artifact: update.changed ? `configuration ${update.sections.join(', ')}` : 'names',
        auditArtifact: `config:${agent}`,
        from: update.from,
        to: update.to,
        detail: { sections: update.sections, set, match: req.match ?? [], unmatch: req.unmatch ?? [] },
      };
    });
  }
  return {
    agent: await showAgent(db, agent, now),
    changed: changes.length > 0,
    configVersion: update ? { from: update.from, to: update.to } : null,
    changes,
  };
}
