/**
 * The lineage graph of one artifact: what it came from (upstream: the release decision's
 * gate report, candidate, optimization run, dataset version, train examples and their
 * traces, clusters and annotations) and what it became (downstream: a trace's cycles,
 * scores, cluster, annotation, dataset examples, the runs that trained on them, candidates,
 * gate reports, decisions and rollouts). Edges always point from cause to effect.
 * Assembly and rendering are pure; store/lineage-repository.ts runs the queries.
 */

export const LINEAGE_KINDS = [
  'trace',
  'cycle',
  'sample',
  'cluster',
  'annotation_item',
  'annotation',
  'dataset_example',
  'dataset_version',
  'optimization_run',
  'candidate',
  'gate_report',
  'release_decision',
  'rollout',
  'rollout_steps',
  'prompt_version',
] as const;
export type LineageKind = (typeof LINEAGE_KINDS)[number];

export interface LineageRef {
  kind: LineageKind;
  ref: string;
}
export const nodeId = (r: LineageRef) => `${r.kind}:${r.ref}`;

export interface LineageNode extends LineageRef {
  id: string;
  label: string;
}

export interface LineageEdge {
  /** The cause (upstream end). */
  from: string;
  /** The effect (downstream end). */
  to: string;
  relation: string;
}

export interface LineageGraph {
  root: string;
  nodes: LineageNode[];
  edges: LineageEdge[];
  /** Expansions cut short: how many neighbours of a node were left out, per direction. */
  truncated: { node: string; direction: Direction; omitted: number }[];
}

export type Direction = 'upstream' | 'downstream';

/** A neighbour an expansion found: its reference and how it relates to the expanded node. */
export interface Neighbour extends LineageRef {
  relation: string;
}

/** Accumulates nodes and edges; adding the same node or edge twice is a no-op. */
export class LineageGraphBuilder {
  private readonly nodes = new Map<string, LineageRef>();
  private readonly edges = new Map<string, LineageEdge>();
  private readonly truncated: LineageGraph['truncated'] = [];

  constructor(readonly root: LineageRef) {
    this.nodes.set(nodeId(root), root);
  }

  has(r: LineageRef): boolean {
    return this.nodes.has(nodeId(r));
  }

  get size(): number {
    return this.nodes.size;
  }

  /** Links `from` to a neighbour found in `direction`; returns true when the neighbour is new. */
  link(from: LineageRef, n: Neighbour, direction: Direction): boolean {
    const isNew = !this.has(n);
    this.nodes.set(nodeId(n), { kind: n.kind, ref: n.ref });
    const [cause, effect] = direction === 'upstream' ? [nodeId(n), nodeId(from)] : [nodeId(from), nodeId(n)];
    this.edges.set(`${cause}>${effect}`, { from: cause, to: effect, relation: n.relation });
    return isNew;
  }

  truncate(node: LineageRef, direction: Direction, omitted: number): void {
    if (omitted > 0) this.truncated.push({ node: nodeId(node), direction, omitted });
  }

  refs(): LineageRef[] {
    return [...this.nodes.values()];
  }

  build(labels: ReadonlyMap<string, string>): LineageGraph {
    return {
      root: nodeId(this.root),
      nodes: [...this.nodes.values()].map((r) => ({
        ...r,
        id: nodeId(r),
        label: labels.get(nodeId(r)) ?? '',
      })),
      edges: [...this.edges.values()],
      truncated: this.truncated,
    };
  }
}

export interface LineageTreeNode {
  node: LineageNode;
  relation: string | null;
  /** Already shown elsewhere in this tree: not expanded again. */
  repeated: boolean;
  omitted: number;
  children: LineageTreeNode[];
}

/** The graph as a tree from the root in one direction; a node reached twice is shown once in full. */
export function lineageTree(graph: LineageGraph, direction: Direction): LineageTreeNode {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const next = new Map<string, { id: string; relation: string }[]>();
  for (const e of graph.edges) {
    const [a, b] = direction === 'downstream' ? [e.from, e.to] : [e.to, e.from];
    next.set(a, [...(next.get(a) ?? []), { id: b, relation: e.relation }]);
  }
  const omitted = new Map(
    graph.truncated.filter((t) => t.direction === direction).map((t) => [t.node, t.omitted]),
  );
  const order = (id: string) => LINEAGE_KINDS.indexOf(byId.get(id)!.kind);
  const expanded = new Set<string>();
  const visit = (id: string, relation: string | null): LineageTreeNode => {
    const repeated = expanded.has(id);
    expanded.add(id);
    const children = repeated
      ? []
      : (next.get(id) ?? []).slice().sort((a, b) => order(a.id) - order(b.id) || a.id.localeCompare(b.id));
    const tree: LineageTreeNode = {
      node: byId.get(id)!,
      relation,
      repeated,
      omitted: repeated ? 0 : (omitted.get(id) ?? 0),
      children: [],
    };
    for (const c of children) tree.children.push(visit(c.id, c.relation));
    return tree;
  };
  return visit(graph.root, null);
}

/** An indented tree, one node per line: `relation → kind id  label`. */
export function renderLineageTree(tree: LineageTreeNode, indent = '  '): string {
  const lines: string[] = [];
  const walk = (t: LineageTreeNode, depth: number) => {
    const pad = indent.repeat(depth);
    const rel = t.relation ? `${t.relation}: ` : '';
    const label = t.node.label ? `  ${t.node.label}` : '';
    lines.push(`${pad}${rel}${t.node.kind} ${t.node.ref}${label}${t.repeated ? '  (shown above)' : ''}`);
    for (const c of t.children) walk(c, depth + 1);
    if (t.omitted > 0) lines.push(`${indent.repeat(depth + 1)}… ${t.omitted} more`);
  };
  walk(tree, 0);
  return lines.join('\n');
}

/** Whether the graph holds a path from `from` to `to` along cause → effect edges. */
export function reaches(graph: LineageGraph, from: string, to: string): boolean {
  const out = new Map<string, string[]>();
  for (const e of graph.edges) out.set(e.from, [...(out.get(e.from) ?? []), e.to]);
  const seen = new Set([from]);
  const queue = [from];
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (id === to) return true;
    for (const n of out.get(id) ?? []) {
      if (!seen.has(n)) {
        seen.add(n);
        queue.push(n);
      }
    }
  }
  return false;
}
