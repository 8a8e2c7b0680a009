#!/usr/bin/env python3
"""Reference runs of Optuna's TPESampler for the TPE port benchmark.

Usage:
    python3 bench/python/optuna_tpe.py [--jobs N] < input.json > output.json

Input (one JSON object on stdin):
    {
      "trials": 100,
      "seeds": [0, 1, ...],
      "functions": ["branin", "hartmann6", "rosenbrock4", "styblinskiTang5", "ackley5",
                    "instructionDemo"],
      "table": {                       # only needed for "instructionDemo"
        "values": [[...], ...],        # values[i][d]: noiseless loss of instruction i, demo set d
        "noise": {"0": [n_0, n_1, ...], ...}   # per seed (string key): noise added to the
                                               # value the sampler observes for trial t (0-based)
      }
    }

Output (one JSON object on stdout):
    {
      "optunaVersion": "4.9.0",
      "results": {"<function>": {"<seed>": [v_0, ..., v_{trials-1}], ...}, ...}
    }
where v_t is the TRUE (noiseless) objective of trial t's parameters. For the continuous
functions there is no noise, so the observed value equals the true value; for the table the
sampler observes values[i][d] + noise[seed][t].

Every run is TPESampler(seed=seed) with all defaults (univariate, n_startup_trials=10, ...),
direction "minimize", an in-memory study. Runs are independent and deterministic, so they are
spread over --jobs worker processes (default: the CPU count); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import sys
import time
from typing import Any, Callable

import optuna

# --------------------------------------------------------------------------------------------
# Continuous test functions (all minimized). Each entry: (bounds per parameter, function).

_PI = math.pi


def _branin(x: list[float]) -> float:
    x0, x1 = x
    b = 5.1 / (4 * _PI**2)
    c = 5 / _PI
    t = 1 / (8 * _PI)
    return (x1 - b * x0**2 + c * x0 - 6) ** 2 + 10 * (1 - t) * math.cos(x0) + 10


_H6_ALPHA = [1.0, 1.2, 3.0, 3.2]
_H6_A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
_H6_P = [
    [1e-4 * v for v in row]
    for row in [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
]


def _hartmann6(x: list[float]) -> float:
    total = 0.0
    for i in range(4):
        inner = sum(_H6_A[i][j] * (x[j] - _H6_P[i][j]) ** 2 for j in range(6))
        total += _H6_ALPHA[i] * math.exp(-inner)
    return -total


def _rosenbrock(x: list[float]) -> float:
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


def _styblinski_tang(x: list[float]) -> float:
    return 0.5 * sum(v**4 - 16 * v**2 + 5 * v for v in x)


def _ackley(x: list[float]) -> float:
    n = len(x)
    s1 = sum(v * v for v in x) / n
    s2 = sum(math.cos(2 * _PI * v) for v in x) / n
    return -20 * math.exp(-0.2 * math.sqrt(s1)) - math.exp(s2) + 20 + math.e


CONTINUOUS: dict[str, tuple[list[tuple[float, float]], Callable[[list[float]], float]]] = {
    "branin": ([(-5.0, 10.0), (0.0, 15.0)], _branin),
    "hartmann6": ([(0.0, 1.0)] * 6, _hartmann6),
    "rosenbrock4": ([(-5.0, 10.0)] * 4, _rosenbrock),
    "styblinskiTang5": ([(-5.0, 5.0)] * 5, _styblinski_tang),
    "ackley5": ([(-32.768, 32.768)] * 5, _ackley),
}

# --------------------------------------------------------------------------------------------


def run_one(fn_name: str, seed: int, n_trials: int, table: dict[str, Any] | None) -> list[float]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    true_values: list[float] = []

    if fn_name in CONTINUOUS:
        bounds, f = CONTINUOUS[fn_name]

        def objective(trial: optuna.Trial) -> float:
            x = [trial.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(bounds)]
            v = f(x)
            true_values.append(v)
            return v

    elif fn_name == "instructionDemo":
        if table is None:
            raise ValueError("instructionDemo needs input.table")
        values = table["values"]
        noise = table["noise"][str(seed)]
        n_instr = len(values)
        n_demo = len(values[0])
        instr_choices = list(range(n_instr))
        demo_choices = list(range(n_demo))

        def objective(trial: optuna.Trial) -> float:
            i = trial.suggest_categorical("instruction", instr_choices)
            d = trial.suggest_categorical("demos", demo_choices)
            v = float(values[i][d])
            true_values.append(v)
            return v + float(noise[trial.number])

    else:
        raise ValueError(f"unknown function {fn_name!r}")

    study.optimize(objective, n_trials=n_trials)
    assert len(true_values) == n_trials
    return true_values


def _worker(args: tuple[str, int, int, dict[str, Any] | None]) -> tuple[str, int, list[float], float]:
    fn_name, seed, n_trials, table = args
    t0 = time.perf_counter()
    vals = run_one(fn_name, seed, n_trials, table)
    return fn_name, seed, vals, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    spec = json.load(sys.stdin)
    n_trials = int(spec["trials"])
    seeds = [int(s) for s in spec["seeds"]]
    functions = list(spec["functions"])
    table = spec.get("table")

    tasks = [
        (fn, seed, n_trials, table if fn == "instructionDemo" else None)
        for fn in functions
        for seed in seeds
    ]
    results: dict[str, dict[str, list[float]]] = {fn: {} for fn in functions}
    t0 = time.perf_counter()

    def record(done: int, r: tuple[str, int, list[float], float]) -> None:
        fn, seed, vals, dt = r
        results[fn][str(seed)] = vals
        print(
            f"[{done}/{len(tasks)}] {fn} seed={seed} best={min(vals):.6g} ({dt:.1f}s)",
            file=sys.stderr,
            flush=True,
        )

    if args.jobs <= 1:
        for k, task in enumerate(tasks, 1):
            record(k, _worker(task))
    else:
        with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
            for k, r in enumerate(pool.imap_unordered(_worker, tasks), 1):
                record(k, r)

    print(f"total {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
    # Keep the output order stable: functions and seeds in input order.
    ordered = {fn: {str(s): results[fn][str(s)] for s in seeds} for fn in functions}
    json.dump({"optunaVersion": optuna.__version__, "results": ordered}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
