import { useQuery } from '@tanstack/react-query';
import { answer, api } from './client.js';
import { usePerAgent } from './queries.js';
import type {
  Artifact,
  ArtifactKind,
  ArtifactVersion,
  ConfigVersion,
  DatasetExamplePage,
  DatasetVersion,
  DatasetVersionSummary,
  LabelMoves,
  LineageGraph,
  PromptDiff,
  PromptRecord,
  PromptSummary,
  PromptVersions,
  Split,
} from './registry-types.js';

/**
 * Reads of the prompts, datasets and artifacts pages, one hook per route. Keys start with
 * `prompt` / `dataset` / `artifacts` so a label move refreshes everything it changed.
 */

export const usePrompts = () =>
  usePerAgent('prompts', async (agent) =>
    (
      await answer<{ data: PromptSummary[] }>(
        api.GET('/api/prompts', { params: { query: agent ? { agent } : {} } }),
      )
    ).data.sort((a, b) => a.name.localeCompare(b.name)),
  );

export const usePromptVersions = (name: string) =>
  useQuery({
    queryKey: ['prompt', name, 'versions'],
    queryFn: () =>
      answer<PromptVersions>(api.GET('/api/prompts/{name}/versions', { params: { path: { name } } })),
  });

export const useLabelMoves = (name: string) =>
  useQuery({
    queryKey: ['prompt', name, 'label-moves'],
    queryFn: () =>
      answer<LabelMoves>(api.GET('/api/prompts/{name}/label-moves', { params: { path: { name } } })),
  });

/** One version's body; versions are immutable, so it is fetched once. */
export const usePromptVersion = (name: string, version: number | null) =>
  useQuery({
    queryKey: ['prompt-body', name, version],
    enabled: version !== null,
    queryFn: () =>
      answer<PromptRecord>(
        api.GET('/api/prompts/{name}', { params: { path: { name }, query: { version: String(version) } } }),
      ),
    staleTime: Infinity,
  });

/** The diff of two version numbers: immutable too. */
export const usePromptDiff = (name: string, from: number | null, to: number | null) =>
  useQuery({
    queryKey: ['prompt-diff', name, from, to],
    enabled: from !== null && to !== null,
    queryFn: () =>
      answer<PromptDiff>(
        api.GET('/api/prompts/{name}/diff', {
          params: { path: { name }, query: { from: String(from), to: String(to) } },
        }),
      ),
    staleTime: Infinity,
  });

export const useDatasetVersions = () =>
  usePerAgent(
    'datasets',
    async (agent) =>
      (
        await answer<{ versions: DatasetVersionSummary[] }>(
          api.GET('/api/datasets', { params: { query: agent ? { agent } : {} } }),
        )
      ).versions,
  );

export const useDatasetVersion = (id: string) =>
  useQuery({
    queryKey: ['dataset', id],
    queryFn: () =>
      answer<DatasetVersion>(api.GET('/api/datasets/{versionId}', { params: { path: { versionId: id } } })),
  });

export const EXAMPLES_PER_PAGE = 25;

export const useDatasetExamples = (id: string, split: Split | null, offset: number) =>
  useQuery({
    queryKey: ['dataset', id, 'examples', split, offset],
    queryFn: () =>
      answer<DatasetExamplePage>(
        api.GET('/api/datasets/{versionId}/examples', {
          params: {
            path: { versionId: id },
            query: { ...(split ? { split } : {}), offset: String(offset), limit: String(EXAMPLES_PER_PAGE) },
          },
        }),
      ),
    placeholderData: (previous) => previous,
  });

export const useLineage = (id: string | null) =>
  useQuery({
    queryKey: ['lineage', id],
    enabled: id !== null,
    queryFn: () => answer<LineageGraph>(api.GET('/api/lineage/{id}', { params: { path: { id: id ?? '' } } })),
  });

export const useArtifacts = (agent: string | null) =>
  useQuery({
    queryKey: ['artifacts', agent],
    enabled: agent !== null,
    queryFn: async () =>
      (
        await answer<{ agent: string; artifacts: Artifact[] }>(
          api.GET('/api/agents/{id}/artifacts', { params: { path: { id: agent ?? '' } } }),
        )
      ).artifacts,
  });

export const useArtifactHistory = (agent: string, kind: ArtifactKind | null, name: string | null) =>
  useQuery({
    queryKey: ['artifacts', agent, 'history', kind, name],
    enabled: kind !== null,
    queryFn: async () =>
      (
        await answer<{ versions: ArtifactVersion[] }>(
          api.GET('/api/agents/{id}/artifacts/{kind}/history', {
            params: { path: { id: agent, kind: kind ?? 'prompt' }, query: name ? { name } : {} },
          }),
        )
      ).versions,
  });

/** Every version of the agent's whole configuration, oldest first. */
export const useConfigHistory = (agent: string) =>
  useQuery({
    queryKey: ['artifacts', agent, 'config-history'],
    queryFn: async () =>
      (
        await answer<{ versions: ConfigVersion[] }>(
          api.GET('/api/agents/{id}/config-history', { params: { path: { id: agent } } }),
        )
      ).versions,
  });
