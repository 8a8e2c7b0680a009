import { useQuery } from '@tanstack/react-query';
import type { AgentKpis as ServerAgentKpis } from '../../../cycles/cycle-kpis.js';
import type { OptimizationProgress as ServerProgress } from '../../../optimization/optimization-progress-service.js';
import { answer, api } from './client.js';
import type { Json } from './types.js';

// Answer types from the services that produce them, type-only (see types.ts).
export type AgentKpis = Json<ServerAgentKpis>;
export type CycleKpis = AgentKpis['perCycle'][number];
export type OptimizationProgress = Json<ServerProgress>;

/** GET /api/agents/{id}/kpis: the agent's flywheel KPIs over its newest `cycles` cycles. */
export const useAgentKpis = (agent: string, cycles: number) =>
  useQuery({
    queryKey: ['agent', agent, 'kpis', cycles],
    queryFn: () =>
      answer<AgentKpis>(
        api.GET('/api/agents/{id}/kpis', {
          params: { path: { id: agent }, query: { cycles: String(cycles) } },
        }),
      ),
    staleTime: 30_000,
  });

/**
 * GET /api/cycles/{id}/optimization: the optimizer's best score over rollouts. The trajectory
 * is stored when the optimizer finishes, so the page asks again while the cycle optimizes.
 */
export const useOptimizationProgress = (cycleId: string, optimizing: boolean) =>
  useQuery({
    queryKey: ['cycle', cycleId, 'optimization'],
    queryFn: async () =>
      (
        await answer<{ cycleId: string; runs: OptimizationProgress[] }>(
          api.GET('/api/cycles/{id}/optimization', { params: { path: { id: cycleId } } }),
        )
      ).runs,
    refetchInterval: optimizing ? 5_000 : false,
  });
