// What the prompt, dataset, lineage and artifact routes answer, imported type-only from the
// services that produce it (see types.ts): a changed answer fails `npm run typecheck` here.
import type {
  VersionDetail,
  VersionListing,
  ExamplePage,
} from '../../../datasets/store/dataset-repository.js';
import type { ArtifactSummary, HistoryEntry } from '../../../registry/artifact-listing-service.js';
import type { ConfigHistoryEntry } from '../../../registry/config-history-service.js';
import type { LineageGraph, LineageKind, LineageNode } from '../../../registry/lineage-graph.js';
import type {
  diffPrompt,
  labelPrompt,
  listPromptVersions,
  promptLabelMoves,
  rollbackPrompt,
} from '../../../registry/prompt-service.js';
import type { PromptSummary as ServerPromptSummary } from '../../../registry/store/prompt-repository.js';
import type { PromptRecord } from '../../../schemas/prompt.js';
import type { paths } from './schema.js';
import type { Json } from './types.js';

export type { LineageGraph, LineageKind, LineageNode, PromptRecord };
export type PromptSummary = Json<ServerPromptSummary>;
export type PromptVersions = Json<Awaited<ReturnType<typeof listPromptVersions>>>;
export type PromptVersionEntry = PromptVersions['versions'][number];
export type LabelMoves = Json<Awaited<ReturnType<typeof promptLabelMoves>>>;
export type LabelMoveRecord = LabelMoves['moves'][number];
export type PromptDiff = Json<Awaited<ReturnType<typeof diffPrompt>>>;
export type LabelChange = Json<Awaited<ReturnType<typeof labelPrompt | typeof rollbackPrompt>>>;
export type DatasetVersionSummary = Json<VersionListing>;
export type DatasetVersion = Json<VersionDetail>;
export type DatasetExamplePage = Json<ExamplePage>;
export type DatasetExample = DatasetExamplePage['examples'][number];
export type Artifact = Json<ArtifactSummary>;
export type ArtifactVersion = Json<HistoryEntry>;
export type ArtifactKind =
  paths['/api/agents/{id}/artifacts/{kind}/history']['get']['parameters']['path']['kind'];
export type Split = NonNullable<
  NonNullable<paths['/api/datasets/{versionId}/examples']['get']['parameters']['query']>['split']
>;
/** One version of an agent's whole configuration (GET /api/agents/{id}/config-history). */
export type ConfigVersion = Json<ConfigHistoryEntry>;
