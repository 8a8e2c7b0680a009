import { useEffect, useRef } from 'preact/hooks';
import { useLineage } from '../api/registry-queries.js';
import type { LineageGraph, LineageKind, LineageNode } from '../api/registry-types.js';
import { Link, paths } from '../router.js';
import { QueryState } from './query-state.js';

type Direction = 'upstream' | 'downstream';

interface TreeNode {
  node: LineageNode;
  relation: string | null;
  repeated: boolean;
  omitted: number;
  children: TreeNode[];
}

/**
 * The graph as a tree from its root in one direction; a node reached twice is shown once in
 * full (the same rule as registry/lineage-graph.ts lineageTree, which the CLI prints).
 */
function treeOf(graph: LineageGraph, direction: Direction): TreeNode {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const next = new Map<string, { id: string; relation: string }[]>();
  for (const e of graph.edges) {
    const [a, b] = direction === 'downstream' ? [e.from, e.to] : [e.to, e.from];
    next.set(a, [...(next.get(a) ?? []), { id: b, relation: e.relation }]);
  }
  const omitted = new Map(
    graph.truncated.filter((t) => t.direction === direction).map((t) => [t.node, t.omitted]),
  );
  const expanded = new Set<string>();
  const visit = (id: string, relation: string | null): TreeNode => {
    const repeated = expanded.has(id);
    expanded.add(id);
    const node = byId.get(id) ?? { id, kind: 'trace' as LineageKind, ref: id, label: '' };
    const children = repeated ? [] : (next.get(id) ?? []).slice().sort((a, b) => a.id.localeCompare(b.id));
    return {
      node,
      relation,
      repeated,
      omitted: repeated ? 0 : (omitted.get(id) ?? 0),
      children: children.map((c) => visit(c.id, c.relation)),
    };
  };
  return visit(graph.root, null);
}

const words = (s: string) => s.replace(/_/g, ' ');

/** Where a lineage node has a console page: cycles, rollouts, dataset versions, prompt versions. */
function NodeName({ node }: { node: LineageNode }) {
  const text = (
    <>
      {words(node.kind)} <code>{node.ref}</code>
    </>
  );
  const prompt = node.kind === 'prompt_version' ? /^(.*)@v(\d+)$/.exec(node.ref) : null;
  const href =
    node.kind === 'cycle'
      ? paths.cycle(node.ref)
      : node.kind === 'rollout'
        ? paths.rollout(node.ref)
        : node.kind === 'dataset_version'
          ? paths.datasetVersion(node.ref)
          : prompt
            ? paths.prompt(prompt[1] ?? '')
            : null;
  return href ? <Link href={href}>{text}</Link> : text;
}

function Branch({ tree }: { tree: TreeNode }) {
  return (
    <li>
      {tree.relation && <span class="muted">{tree.relation}: </span>}
      <NodeName node={tree.node} />
      {tree.node.label && <> — {tree.node.label}</>}
      {tree.repeated && <span class="muted"> (shown above)</span>}
      {(tree.children.length > 0 || tree.omitted > 0) && (
        <ul>
          {tree.children.map((c) => (
            <Branch key={c.node.id} tree={c} />
          ))}
          {tree.omitted > 0 && <li class="muted">… {tree.omitted} more</li>}
        </ul>
      )}
    </li>
  );
}

function LineageDirection({
  graph,
  direction,
  title,
}: {
  graph: LineageGraph;
  direction: Direction;
  title: string;
}) {
  const tree = treeOf(graph, direction);
  return (
    <div class="lineage-direction">
      <h4>{title}</h4>
      {tree.children.length === 0 && tree.omitted === 0 ? (
        <p class="muted">Nothing recorded.</p>
      ) : (
        <ul class="lineage-tree">
          {tree.children.map((c) => (
            <Branch key={c.node.id} tree={c} />
          ))}
          {tree.omitted > 0 && <li class="muted">… {tree.omitted} more</li>}
        </ul>
      )}
    </div>
  );
}

/** What one id came from and what it led to (GET /api/lineage/:id), as two trees. */
export function LineageView({ id, onClose }: { id: string; onClose: () => void }) {
  const lineage = useLineage(id);
  const heading = useRef<HTMLHeadingElement>(null);
  // Opened from a row further down the page: bring the reader to it.
  useEffect(() => heading.current?.focus(), [id]);
  return (
    <section class="lineage" aria-labelledby="lineage-heading">
      <h3 id="lineage-heading" tabIndex={-1} ref={heading}>
        Lineage of <code>{id}</code>
      </h3>
      <QueryState query={lineage} what="the lineage">
        {(graph) => (
          <>
            <LineageDirection graph={graph} direction="upstream" title="Came from" />
            <LineageDirection graph={graph} direction="downstream" title="Led to" />
          </>
        )}
      </QueryState>
      <button type="button" class="secondary" onClick={onClose}>
        Close lineage
      </button>
    </section>
  );
}
