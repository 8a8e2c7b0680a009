/**
 * HDBSCAN parity: our port (diagnosis/hdbscan.ts) against scikit-learn's HDBSCAN on seeded data
 * sets (blobs with uniform noise, blobs of different densities, two moons, higher-dimensional
 * blobs, directions on a sphere under the cosine metric) and a few option variants. Prints
 * the adjusted Rand index between the two labelings, the share of points labelled
 * identically after matching cluster numbers, the largest membership-strength gap, and, as
 * the yardstick, the ARI between scikit-learn on the data and scikit-learn on the same data
 * shuffled: its binary tree orders tied merges by an unstable sort, so its own labels move
 * with the input order by about as much as ours differ from them (ours do not move).
 *
 *   npx tsx bench/hdbscan-parity.ts [--seed 1]
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { adjustedRandIndex } from '../diagnosis/adjusted-rand-index.js';
import { hdbscan, type HdbscanOptions } from '../diagnosis/hdbscan.js';
import { nextFloat, nextInt, seedPrng, type PrngState } from '../optimizers/prng.js';
import { pythonForBenchmarks, runPython } from './python-env.js';

const SKLEARN = 'scikit-learn==1.9.1';
const root = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({ options: { seed: { type: 'string', default: '1' } } });
const prng = seedPrng(Number(args.seed));

function gaussian(state: PrngState): number {
  const u = 1 - nextFloat(state);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * nextFloat(state));
}

function blobs(centres: number[][], sizes: number[], spreads: number[]): number[][] {
  return centres.flatMap((c, k) =>
    Array.from({ length: sizes[k] as number }, () =>
      c.map((x) => x + (spreads[k] as number) * gaussian(prng)),
    ),
  );
}

function uniform(count: number, lo: number, hi: number, dims: number): number[][] {
  return Array.from({ length: count }, () =>
    Array.from({ length: dims }, () => lo + (hi - lo) * nextFloat(prng)),
  );
}

function moons(count: number, noise: number): number[][] {
  return Array.from({ length: count }, (_, i) => {
    const t = Math.PI * nextFloat(prng);
    const [x, y] = i % 2 === 0 ? [Math.cos(t), Math.sin(t)] : [1 - Math.cos(t), 0.5 - Math.sin(t)];
    return [x + noise * gaussian(prng), y + noise * gaussian(prng)];
  });
}

interface Dataset {
  name: string;
  data: number[][];
  metric: 'euclidean' | 'cosine';
  options: HdbscanOptions;
}

const noisyBlobs = [
  ...blobs(
    [
      [0, 0],
      [6, 0],
      [3, 5],
    ],
    [60, 50, 40],
    [0.7, 0.7, 0.7],
  ),
  ...uniform(40, -3, 9, 2),
];
const densities = blobs(
  [
    [0, 0],
    [5, 5],
    [12, 0],
  ],
  [80, 60, 50],
  [0.3, 1, 2],
);
const highDim = blobs(
  Array.from({ length: 5 }, () => Array.from({ length: 10 }, () => 10 * nextFloat(prng))),
  [40, 40, 30, 30, 20],
  [1, 1, 1, 1.5, 0.5],
);
// Directions around 6 random unit vectors in 64 dimensions, plus scattered directions: how
// text embeddings look to the cosine metric.
const directions = [
  ...blobs(
    Array.from({ length: 6 }, () => Array.from({ length: 64 }, () => gaussian(prng))),
    [30, 25, 20, 20, 15, 10],
    [0.35, 0.35, 0.35, 0.5, 0.5, 0.3],
  ),
  ...Array.from({ length: 20 }, () => Array.from({ length: 64 }, () => gaussian(prng))),
];

const datasets: Dataset[] = [
  { name: 'blobs+noise eom', data: noisyBlobs, metric: 'euclidean', options: { minClusterSize: 5 } },
  {
    name: 'blobs+noise leaf',
    data: noisyBlobs,
    metric: 'euclidean',
    options: { minClusterSize: 5, clusterSelectionMethod: 'leaf' },
  },
  {
    name: 'blobs+noise mcs15 ms3',
    data: noisyBlobs,
    metric: 'euclidean',
    options: { minClusterSize: 15, minSamples: 3 },
  },
  {
    name: 'blobs+noise eps 1.0',
    data: noisyBlobs,
    metric: 'euclidean',
    options: { minClusterSize: 5, clusterSelectionEpsilon: 1 },
  },
  { name: 'varying densities', data: densities, metric: 'euclidean', options: { minClusterSize: 10 } },
  {
    name: 'varying densities ms1',
    data: densities,
    metric: 'euclidean',
    options: { minClusterSize: 10, minSamples: 1 },
  },
  { name: 'two moons', data: moons(200, 0.08), metric: 'euclidean', options: { minClusterSize: 10 } },
  { name: '10-d blobs', data: highDim, metric: 'euclidean', options: { minClusterSize: 8 } },
  {
    name: 'single blob allowSingle',
    data: blobs([[0, 0]], [80], [1]),
    metric: 'euclidean',
    options: { minClusterSize: 10, allowSingleCluster: true },
  },
  {
    name: 'cosine directions',
    data: directions,
    metric: 'cosine',
    options: { minClusterSize: 5, minSamples: 3 },
  },
];

/** Share of points with the same label once each of our clusters is mapped to the sklearn cluster it overlaps most. */
function agreement(ours: number[], theirs: number[]): number {
  const votes = new Map<number, Map<number, number>>();
  ours.forEach((o, i) => {
    const row = votes.get(o) ?? new Map<number, number>();
    row.set(theirs[i] as number, (row.get(theirs[i] as number) ?? 0) + 1);
    votes.set(o, row);
  });
  const mapped = new Map<number, number>([[-1, -1]]);
  for (const [o, row] of votes) if (o !== -1) mapped.set(o, [...row].sort((a, b) => b[1] - a[1])[0]![0]);
  return ours.filter((o, i) => mapped.get(o) === theirs[i]).length / ours.length;
}

/** A seeded shuffle: `order[k]` is the original index of the k-th shuffled point. */
function shuffled(count: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = nextInt(prng, i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}
const orders = new Map(datasets.map((d) => [d.name, shuffled(d.data.length)]));

const env = pythonForBenchmarks(root);
if ('missing' in env) {
  console.error(`scikit-learn reference unavailable: ${env.missing}`);
  process.exit(1);
}
if (spawnSync(env.python, ['-c', 'import sklearn'], { stdio: 'ignore' }).status !== 0) {
  console.error(`installing ${SKLEARN} into .flywheel/pyenv ...`);
  const pip = spawnSync(env.python, ['-m', 'pip', 'install', '-q', SKLEARN], { stdio: 'inherit' });
  if (pip.status !== 0) throw new Error(`pip install ${SKLEARN} failed`);
}
const request = (d: Dataset, name: string, data: number[][]) => ({
  name,
  data,
  metric: d.metric,
  minClusterSize: d.options.minClusterSize,
  minSamples: d.options.minSamples ?? null,
  clusterSelectionMethod: d.options.clusterSelectionMethod ?? 'eom',
  allowSingleCluster: d.options.allowSingleCluster ?? false,
  clusterSelectionEpsilon: d.options.clusterSelectionEpsilon ?? 0,
});
const reference = runPython(env.python, path.join(root, 'bench', 'python', 'sklearn_hdbscan.py'), {
  datasets: datasets.flatMap((d) => [
    request(d, d.name, d.data),
    request(
      d,
      `${d.name} shuffled`,
      orders.get(d.name)!.map((i) => d.data[i]!),
    ),
  ]),
}) as { sklearnVersion: string; results: Record<string, { labels: number[]; probabilities: number[] }> };

console.log(`scikit-learn ${reference.sklearnVersion}, seed ${args.seed}`);
console.log(
  'data set                    n  clusters(ours/sk)  noise(ours/sk)  ARI     same label  max |Δprob|  sk vs sk shuffled',
);
for (const d of datasets) {
  const ours = hdbscan(d.data, { ...d.options, metric: d.metric });
  const sk = reference.results[d.name]!;
  const clusters = (labels: number[]) => new Set(labels.filter((l) => l >= 0)).size;
  const noise = (labels: number[]) => labels.filter((l) => l < 0).length;
  const gap = Math.max(...ours.probabilities.map((p, i) => Math.abs(p - sk.probabilities[i]!)));
  const skShuffled = new Array<number>(d.data.length);
  orders
    .get(d.name)!
    .forEach((original, k) => (skShuffled[original] = reference.results[`${d.name} shuffled`]!.labels[k]!));
  console.log(
    [
      d.name.padEnd(26),
      String(d.data.length).padStart(3),
      `${clusters(ours.labels)}/${clusters(sk.labels)}`.padStart(18),
      `${noise(ours.labels)}/${noise(sk.labels)}`.padStart(15),
      adjustedRandIndex(ours.labels, sk.labels).toFixed(4).padStart(7),
      agreement(ours.labels, sk.labels).toFixed(4).padStart(11),
      gap.toExponential(2).padStart(12),
      adjustedRandIndex(sk.labels, skShuffled).toFixed(4).padStart(18),
    ].join(' '),
  );
}
