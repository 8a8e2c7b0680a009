#!/usr/bin/env python3
"""Reference runs of scikit-learn's HDBSCAN for the HDBSCAN parity benchmark.

Usage:
    python3 bench/python/sklearn_hdbscan.py < input.json > output.json

Input (one JSON object on stdin):
    {"datasets": [{"name": "...", "data": [[...], ...], "metric": "euclidean" | "cosine",
                   "minClusterSize": 5, "minSamples": null | int,
                   "clusterSelectionMethod": "eom" | "leaf", "allowSingleCluster": false,
                   "clusterSelectionEpsilon": 0.0}, ...]}

Output (one JSON object on stdout):
    {"sklearnVersion": "1.9.1", "results": {"<name>": {"labels": [...], "probabilities": [...]}}}

Every run is sklearn.cluster.HDBSCAN with algorithm="brute", the dense-matrix path our port
follows, and otherwise the options given.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import sklearn
from sklearn.cluster import HDBSCAN


def main() -> None:
    request = json.load(sys.stdin)
    results = {}
    for dataset in request["datasets"]:
        model = HDBSCAN(
            min_cluster_size=dataset["minClusterSize"],
            min_samples=dataset.get("minSamples"),
            metric=dataset["metric"],
            cluster_selection_method=dataset.get("clusterSelectionMethod", "eom"),
            allow_single_cluster=dataset.get("allowSingleCluster", False),
            cluster_selection_epsilon=dataset.get("clusterSelectionEpsilon", 0.0),
            algorithm="brute",
        )
        model.fit(np.asarray(dataset["data"], dtype=np.float64))
        results[dataset["name"]] = {
            "labels": model.labels_.tolist(),
            "probabilities": model.probabilities_.tolist(),
        }
    json.dump({"sklearnVersion": sklearn.__version__, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
