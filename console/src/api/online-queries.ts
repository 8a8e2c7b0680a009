import { useQuery } from '@tanstack/react-query';
import type { DriftAlertView } from '../../../evaluation/drift-alert-service.js';
import type { OnlineEvaluationStatus as ServerStatus } from '../../../evaluation/online-evaluation-service.js';
import { answer, api } from './client.js';
import type { Json } from './types.js';

// Answer types from the services that produce them, type-only (see types.ts).
export type OnlineEvaluationStatus = Json<ServerStatus>;
export type OnlineRun = OnlineEvaluationStatus['runs'][number];
export type DriftAlert = Json<DriftAlertView>;
export type DriftFinding = DriftAlert['findings'][number];

/**
 * GET /api/agents/{id}/online-evaluation: spend against the cap, the latest runs, the drift
 * detector's state and its latest alerts. Online evaluation runs every 5 minutes, so the page
 * asks again every minute while it is open.
 */
export const useOnlineEvaluation = (agent: string) =>
  useQuery({
    queryKey: ['agent', agent, 'online-evaluation'],
    queryFn: () =>
      answer<OnlineEvaluationStatus>(
        api.GET('/api/agents/{id}/online-evaluation', { params: { path: { id: agent } } }),
      ),
    refetchInterval: 60_000,
  });

/** GET /api/agents/{id}/drift-alerts/{alert}: one alert with every drifted trace, when asked for. */
export const useDriftAlert = (agent: string, alert: string, enabled: boolean) =>
  useQuery({
    queryKey: ['agent', agent, 'drift-alert', alert],
    enabled,
    queryFn: () =>
      answer<DriftAlert>(
        api.GET('/api/agents/{id}/drift-alerts/{alert}', { params: { path: { id: agent, alert } } }),
      ),
    staleTime: Infinity,
  });
