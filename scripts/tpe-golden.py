#!/usr/bin/env python3
"""Golden values for the TypeScript port of Optuna's TPESampler, computed with Optuna's own
internals (optuna/samplers/_tpe/{sampler,parzen_estimator,probability_distributions,
_truncnorm}.py). Writes test/fixtures/tpe-golden.json.

Usage (from the repository root, with the pinned optuna from bench/python/requirements.txt):
    python3 scripts/tpe-golden.py [output-path]

Formatting: json.dump, then node_modules/.bin/prettier --write (if installed) so that
`npm run format:check` passes; prettier keeps every number's text unchanged.

Numbers: floats are written with Python's shortest round-trip repr (full double precision).
Non-finite results are written as the strings "Infinity", "-Infinity" and "NaN" (JavaScript's
Number() parses all three); every other number is a JSON number. Reading a number field with
Number(v) therefore works in all cases.

JSON layout (top level keys in this order):
{
  "optunaVersion": "4.9.0",
  "numpyVersion": "2.x.y",
  "gamma":   [{"n": int, "value": int}, ...],                 # default_gamma(n)
  "weights": [{"n": int, "value": [float, ...]}, ...],        # default_weights(n), length n
  "truncnorm": {
    "logNdtr":      [{"x": f, "value": f}, ...],              # _log_ndtr(x)
    "ndtriExp":     [{"y": f, "value": f}, ...],              # _ndtri_exp(y)
    "logGaussMass": [{"a": f, "b": f, "value": f}, ...],      # _log_gauss_mass(a, b)
    "ppf":          [{"q": f, "a": f, "b": f, "value": f}, ...],               # ppf(q, a, b)
    "logpdf":       [{"x": f, "a": f, "b": f, "loc": f, "scale": f, "value": f}, ...]
  },                # every case is evaluated on its own (arrays of size 1); see note (1)
  "parzen": [       # one entry per _ParzenEstimator
    {
      "name": str,
      "group": str | null,      # cases sharing a group are the per-parameter estimators of one
                                # univariate (independent) fit, e.g. "mixed3-univariate"
      "searchSpace": {          # parameter order == key order (== Optuna's column order)
        "<param>": {"type": "float", "low": f, "high": f, "log": bool, "step": f | null}
                 | {"type": "int", "low": int, "high": int, "log": bool, "step": int}
                 | {"type": "categorical", "choices": [...]}
      },
      "observations": {"<param>": [f, ...]},   # INTERNAL repr, original (not log) space,
                                               # categorical = choice index; trial order
                                               # (oldest first: default_weights ramps the oldest)
      "parameters": {"priorWeight": 1.0, "considerMagicClip": true,
                     "considerEndpoints": false, "multivariate": bool,
                     "weights": "default_weights"},
      "weights": [f, ...],      # normalized mixture weights, length n_obs + 1 (last = prior);
                                # just [1.0] when n_obs == 0 (the prior only)
      "distributions": {
        "<numeric param>": {
          "kind": "truncnorm" | "truncLognorm" | "discreteTruncnorm" | "discreteTruncLognorm",
          "mu": [f, ...], "sigma": [f, ...],   # kernel space: log() applied for log params,
                                               # last entry = prior kernel
          "low": f, "high": f,                 # the NamedTuple fields as Optuna stores them:
          "step": f | null,                    #   ORIGINAL bounds (not widened, not logged)
          "kernelLow": f, "kernelHigh": f      # truncation bounds in kernel space that
                                               # log_pdf/sample use: low - step/2 / high + step/2
                                               # if step, then log() if log
        },
        "<categorical param>": {"kind": "categorical",
                                "categoricalWeights": [[f, ...], ...]}   # (n_obs + 1) x n_choices
      },
      "logPdf": {
        "space": "original",    # points are internal repr in the ORIGINAL space: log params are
                                # NOT pre-logged (Optuna's distributions apply log() themselves)
        "points": [{"<param>": f, ...}, ...],
        "values": [f, ...]      # _ParzenEstimator.log_pdf(points)
      },
      "notes": str | null
    }, ...
  ],
  "split": [        # sampler._split_trials(study, trials, n_below, constraints_enabled=False)
    {
      "name": str,
      "direction": "minimize" | "maximize",
      "constantLiar": bool,     # true: RUNNING trials are passed in (they always go to "above")
      "trials": [{"number": int, "state": "COMPLETE" | "RUNNING", "value": f | null}, ...],
      "nComplete": int,         # number of non-RUNNING trials passed in (the n of gamma(n))
      "nBelow": int,            # n_below passed to _split_trials (default_gamma(nComplete)
                                # unless "nBelowFromGamma" is false)
      "nBelowFromGamma": bool,
      "below": [int, ...],      # trial numbers, ascending
      "above": [int, ...]       # trial numbers, ascending
    }, ...
  ]
}

Notes:
(1) _ndtri_exp and ppf iterate Newton until ALL elements of the batch have converged
    (rtol 1e-8), so a value computed inside a larger batch can differ in the last ulps.
(2) np.argsort (used for the univariate bandwidth) is not stable on this numpy build, so with
    tied observations the per-kernel sigmas among tied mus may be permuted relative to a
    stable sort; such cases carry a note and should be compared as multisets (logPdf is
    unaffected when the tied kernels have equal weights).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from typing import Any

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.samplers._tpe import _truncnorm
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator, _ParzenEstimatorParameters
from optuna.samplers._tpe.probability_distributions import (
    _BatchedCategoricalDistributions,
    _BatchedDiscreteTruncLogNormDistributions,
    _BatchedDiscreteTruncNormDistributions,
    _BatchedTruncLogNormDistributions,
    _BatchedTruncNormDistributions,
)
from optuna.samplers._tpe.sampler import _split_trials, default_gamma, default_weights
from optuna.trial import TrialState, create_trial

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "test", "fixtures", "tpe-golden.json")


def num(v: Any) -> Any:
    """JSON-safe scalar: Python int/float, non-finite floats as strings."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    f = float(v)
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "Infinity" if f > 0 else "-Infinity"
    return f


def nums(a: Any) -> list[Any]:
    return [num(v) for v in np.asarray(a, dtype=float).ravel()]


def one(fn: Any, *args: float) -> float:
    """Evaluate an array function on size-1 arrays and return the scalar."""
    out = fn(*[np.array([float(x)]) for x in args])
    return float(np.asarray(out).ravel()[0])


# ------------------------------------------------------------------------------------------
# gamma / weights


def gamma_cases() -> list[dict[str, Any]]:
    return [
        {"n": n, "value": int(default_gamma(n))}
        for n in [0, 1, 5, 9, 10, 11, 50, 99, 100, 249, 250, 251, 1000]
    ]


def weights_cases() -> list[dict[str, Any]]:
    return [
        {"n": n, "value": nums(default_weights(n))} for n in [0, 1, 5, 24, 25, 26, 30, 60]
    ]


# ------------------------------------------------------------------------------------------
# truncnorm


def truncnorm_cases() -> dict[str, list[dict[str, Any]]]:
    log_ndtr = []
    for x in [-40, -35, -30, -25, -20.5, -20.0, -19.9, -15, -10, -8, -6, -5, -3, -2, -1,
              -0.5, -1e-3, 0.0, 1e-3, 0.5, 1, 2, 3, 5, 5.9, 6.0, 6.1, 7, 8, 10]:
        log_ndtr.append({"x": num(x), "value": num(one(_truncnorm._log_ndtr, x))})

    ndtri_exp = []
    for y in [-1000, -500, -100, -50, -20, -10, -5.5, -5, -4.9, -3, -2, -1, -0.6931471805599453,
              -0.5, -0.1, -0.0101, -0.01, -0.0099, -1e-3, -1e-4, -1e-6, -1e-8, -1e-10]:
        ndtri_exp.append({"y": num(y), "value": num(one(_truncnorm._ndtri_exp, y))})

    bounds = [-30.0, -10.0, -3.0, -0.5, 0.5, 3.0, 10.0, 30.0]
    ab_pairs = [(a, b) for a in bounds for b in bounds if a < b]
    # Narrow intervals (discrete kernels) and intervals straddling / touching 0.
    ab_pairs += [
        (-0.5, 0.0), (0.0, 0.5), (-1e-3, 1e-3), (1.0, 1.0 + 1e-6), (-1.0 - 1e-6, -1.0),
        (5.0, 5.1), (-5.1, -5.0), (25.0, 25.5), (-25.5, -25.0), (-2.25, -1.75), (0.25, 0.75),
        (-40.0, 40.0), (-0.1, 0.1),
    ]
    log_gauss_mass = [
        {"a": num(a), "b": num(b), "value": num(one(_truncnorm._log_gauss_mass, a, b))}
        for a, b in ab_pairs
    ]

    ppf = []
    ppf_ab = [(-0.5, 0.5), (-3.0, 3.0), (-10.0, 10.0), (-30.0, 30.0), (-3.0, -0.5), (0.5, 3.0),
              (3.0, 10.0), (-10.0, -3.0), (10.0, 30.0), (-30.0, -10.0), (-0.5, 30.0),
              (-30.0, 0.5), (0.0, 3.0), (-3.0, 0.0)]
    qs = [0.0, 1e-12, 1e-6, 0.01, 0.25, 0.5, 0.75, 0.99, 1 - 1e-6, 1 - 1e-12, 1.0]
    for a, b in ppf_ab:
        for q in qs:
            ppf.append({"q": num(q), "a": num(a), "b": num(b),
                        "value": num(one(_truncnorm.ppf, q, a, b))})
    ppf.append({"q": 0.5, "a": 1.0, "b": 1.0, "value": num(one(_truncnorm.ppf, 0.5, 1.0, 1.0))})

    logpdf = []
    lp_cases = [
        # (x, low, high, loc, scale) in the *original* units; a=(low-loc)/scale etc.
        (0.0, -5.0, 10.0, 2.5, 15.0),
        (7.3, -5.0, 10.0, 2.5, 15.0),
        (-5.0, -5.0, 10.0, 2.5, 15.0),
        (10.0, -5.0, 10.0, 2.5, 15.0),
        (0.31, 0.0, 1.0, 0.3, 0.05),
        (0.95, 0.0, 1.0, 0.3, 0.05),
        (0.0, 0.0, 1.0, 0.98, 0.0333),
        (1.0, 0.0, 1.0, 0.98, 0.0333),
        (-32.0, -32.768, 32.768, 30.0, 0.6),
        (30.0, -32.768, 32.768, -30.0, 0.6),
        (0.5, 0.0, 1.0, 0.5, 1.0),
        (2.0, -1.0, 1.0, 0.0, 0.1),    # outside -> -inf
        (-1.5, -1.0, 1.0, 0.0, 0.1),   # outside -> -inf
        (0.0, 0.0, 0.0, 0.0, 1.0),     # a == b -> nan
    ]
    for x, lo, hi, loc, scale in lp_cases:
        a = (lo - loc) / scale
        b = (hi - loc) / scale
        v = _truncnorm.logpdf(np.array([x]), a=np.array([a]), b=np.array([b]),
                              loc=np.array([loc]), scale=np.array([scale]))
        logpdf.append({"x": num(x), "a": num(a), "b": num(b), "loc": num(loc),
                       "scale": num(scale), "value": num(np.asarray(v).ravel()[0])})
    # Direct standardized cases in the tails.
    for x, a, b in [(-29.5, -30.0, -10.0), (29.5, 10.0, 30.0), (-9.9, -10.0, 10.0),
                    (0.0, -0.5, 0.5), (2.9, -3.0, 3.0), (-3.0, -3.0, -0.5)]:
        v = _truncnorm.logpdf(np.array([x]), a=np.array([a]), b=np.array([b]))
        logpdf.append({"x": num(x), "a": num(a), "b": num(b), "loc": 0.0, "scale": 1.0,
                       "value": num(np.asarray(v).ravel()[0])})

    return {
        "logNdtr": log_ndtr,
        "ndtriExp": ndtri_exp,
        "logGaussMass": log_gauss_mass,
        "ppf": ppf,
        "logpdf": logpdf,
    }


# ------------------------------------------------------------------------------------------
# Parzen estimator


def space_to_json(dist: BaseDistribution) -> dict[str, Any]:
    if isinstance(dist, FloatDistribution):
        return {"type": "float", "low": num(dist.low), "high": num(dist.high), "log": dist.log,
                "step": None if dist.step is None else num(dist.step)}
    if isinstance(dist, IntDistribution):
        return {"type": "int", "low": int(dist.low), "high": int(dist.high), "log": dist.log,
                "step": int(dist.step)}
    if isinstance(dist, CategoricalDistribution):
        return {"type": "categorical", "choices": list(dist.choices)}
    raise TypeError(dist)


def batched_to_json(d: Any) -> dict[str, Any]:
    if isinstance(d, _BatchedCategoricalDistributions):
        return {"kind": "categorical",
                "categoricalWeights": [nums(row) for row in np.asarray(d.weights)]}
    if isinstance(d, _BatchedTruncNormDistributions):
        kind, step, log = "truncnorm", None, False
    elif isinstance(d, _BatchedTruncLogNormDistributions):
        kind, step, log = "truncLognorm", None, True
    elif isinstance(d, _BatchedDiscreteTruncNormDistributions):
        kind, step, log = "discreteTruncnorm", d.step, False
    elif isinstance(d, _BatchedDiscreteTruncLogNormDistributions):
        kind, step, log = "discreteTruncLognorm", d.step, True
    else:
        raise TypeError(d)
    klo = d.low - (step / 2 if step is not None else 0.0)
    khi = d.high + (step / 2 if step is not None else 0.0)
    if log:
        klo, khi = math.log(klo), math.log(khi)
    return {
        "kind": kind,
        "mu": nums(d.mu),
        "sigma": nums(d.sigma),
        "low": num(d.low),
        "high": num(d.high),
        "step": None if step is None else num(step),
        "kernelLow": num(klo),
        "kernelHigh": num(khi),
    }


def parzen_case(
    name: str,
    space: dict[str, BaseDistribution],
    observations: dict[str, list[float]],
    points: list[dict[str, float]],
    multivariate: bool,
    group: str | None = None,
    notes: str | None = None,
) -> dict[str, Any]:
    params = _ParzenEstimatorParameters(
        prior_weight=1.0,
        consider_magic_clip=True,
        consider_endpoints=False,
        weights=default_weights,
        multivariate=multivariate,
        categorical_distance_func={},
    )
    obs_np = {k: np.asarray(v, dtype=float) for k, v in observations.items()}
    pe = _ParzenEstimator(obs_np, space, params)
    mix = pe._mixture_distribution
    pts = {k: np.asarray([p[k] for p in points], dtype=float) for k in space}
    log_pdf = pe.log_pdf(pts)
    return {
        "name": name,
        "group": group,
        "searchSpace": {k: space_to_json(d) for k, d in space.items()},
        "observations": {k: nums(v) for k, v in observations.items()},
        "parameters": {"priorWeight": 1.0, "considerMagicClip": True,
                       "considerEndpoints": False, "multivariate": multivariate,
                       "weights": "default_weights"},
        "weights": nums(mix.weights),
        "distributions": {k: batched_to_json(d) for k, d in zip(space, mix.distributions)},
        "logPdf": {
            "space": "original",
            "points": [{k: num(p[k]) for k in space} for p in points],
            "values": nums(log_pdf),
        },
        "notes": notes,
    }


def parzen_cases() -> list[dict[str, Any]]:
    rng = np.random.RandomState(12345)
    cases: list[dict[str, Any]] = []

    fx = FloatDistribution(-5.0, 10.0)
    fx_pts = [{"x": v} for v in [-5.0, -1.3, 2.5, 7.77, 10.0]]
    cases.append(parzen_case("float-0obs", {"x": fx}, {"x": []}, fx_pts, False))
    cases.append(parzen_case("float-0obs-multivariate", {"x": fx}, {"x": []}, fx_pts, True))
    cases.append(parzen_case("float-1obs", {"x": fx}, {"x": [1.7]}, fx_pts, False,
                             notes="with 1 observation consider_endpoints=False has no effect "
                                   "(needs >= 2): sigma = max(mu - low, high - mu)"))
    cases.append(parzen_case("float-1obs-multivariate", {"x": fx}, {"x": [1.7]}, fx_pts, True))
    cases.append(parzen_case("float-2obs", {"x": fx}, {"x": [4.0, -2.0]}, fx_pts, False))
    cases.append(parzen_case("float-3obs", {"x": fx}, {"x": [3.1, -4.2, 9.5]}, fx_pts, False))
    cases.append(parzen_case("float-3obs-multivariate", {"x": fx}, {"x": [3.1, -4.2, 9.5]},
                             fx_pts, True))
    obs30 = list(np.round(rng.uniform(-5.0, 10.0, size=30), 6))
    cases.append(parzen_case("float-30obs", {"x": fx}, {"x": obs30}, fx_pts, False))
    cases.append(parzen_case("float-30obs-multivariate", {"x": fx}, {"x": obs30}, fx_pts, True))
    obs_cl = [0.0, 0.01, 0.02, 0.03, 0.04, 9.99]
    cases.append(parzen_case("float-clustered-magic-clip", {"x": fx}, {"x": obs_cl}, fx_pts,
                             False, notes="small gaps -> sigmas clipped up to (high-low)/7"))
    obs_ties = [0.3, 0.3, 0.3, 0.7, 0.1]
    cases.append(parzen_case(
        "float-ties", {"x": FloatDistribution(0.0, 1.0)}, {"x": obs_ties},
        [{"x": v} for v in [0.0, 0.1, 0.3, 0.5, 1.0]], False,
        notes="tied observations: numpy's argsort is not stable here, so the sigmas of the "
              "tied kernels (indices 0,1,2) may be permuted relative to a stable sort; compare "
              "them as a multiset. logPdf is unaffected (equal weights)."))

    flog = FloatDistribution(1e-4, 1.0, log=True)
    cases.append(parzen_case("float-log", {"lr": flog}, {"lr": [1e-3, 0.05, 0.2, 3e-4]},
                             [{"lr": v} for v in [1e-4, 5e-4, 0.01, 0.3, 1.0]], False))
    cases.append(parzen_case("float-log-0obs", {"lr": flog}, {"lr": []},
                             [{"lr": v} for v in [1e-4, 5e-4, 0.01, 0.3, 1.0]], False))

    fstep = FloatDistribution(0.0, 5.0, step=0.5)
    cases.append(parzen_case("float-step", {"s": fstep}, {"s": [1.0, 2.5, 2.5, 4.5]},
                             [{"s": v} for v in [0.0, 0.5, 2.5, 3.0, 5.0]], False,
                             notes="two identical observations (2.5): tied sigmas may be "
                                   "permuted, see top-level note (2)"))
    fstep_log = FloatDistribution(1.0, 9.0, step=2.0, log=False)
    cases.append(parzen_case("float-step2", {"s": fstep_log}, {"s": [3.0, 9.0]},
                             [{"s": v} for v in [1.0, 3.0, 5.0, 7.0, 9.0]], False))

    ist = IntDistribution(1, 10)
    cases.append(parzen_case("int-step1", {"n": ist}, {"n": [2, 7, 9]},
                             [{"n": v} for v in [1, 2, 5, 9, 10]], False))
    ist3 = IntDistribution(0, 12, step=3)
    cases.append(parzen_case("int-step3", {"n": ist3}, {"n": [3, 12]},
                             [{"n": v} for v in [0, 3, 6, 9, 12]], False))
    ilog = IntDistribution(1, 128, log=True)
    cases.append(parzen_case("int-log", {"k": ilog}, {"k": [2, 16, 100]},
                             [{"k": v} for v in [1, 2, 8, 64, 128]], False,
                             notes="log int: step=1, range widened by 0.5 BEFORE log: "
                                   "kernel bounds log(0.5), log(128.5)"))
    cases.append(parzen_case("int-log-0obs", {"k": ilog}, {"k": []},
                             [{"k": v} for v in [1, 2, 8, 64, 128]], False))

    cat = CategoricalDistribution(["a", "b", "c", "d"])
    cat_pts = [{"c": v} for v in [0, 1, 2, 3, 1]]
    cases.append(parzen_case("categorical-4", {"c": cat}, {"c": [1, 3, 1]}, cat_pts, False))
    cases.append(parzen_case("categorical-4-0obs", {"c": cat}, {"c": []}, cat_pts, False))
    cases.append(parzen_case("categorical-4-30obs", {"c": cat},
                             {"c": list(rng.randint(0, 4, size=30).astype(float))}, cat_pts,
                             False))

    mixed_space: dict[str, BaseDistribution] = {
        "x": FloatDistribution(-2.0, 3.0),
        "n": IntDistribution(0, 20),
        "c": CategoricalDistribution([10, 20, 30]),
    }
    mixed_obs = {
        "x": [0.5, -1.75, 2.9, 0.0, 1.2],
        "n": [3, 17, 8, 20, 0],
        "c": [0, 2, 2, 1, 0],
    }
    mixed_pts = [
        {"x": -2.0, "n": 0, "c": 0},
        {"x": 0.4, "n": 3, "c": 1},
        {"x": 1.0, "n": 10, "c": 2},
        {"x": 2.5, "n": 17, "c": 0},
        {"x": 3.0, "n": 20, "c": 2},
    ]
    for p in mixed_space:
        cases.append(parzen_case(
            f"mixed3-univariate/{p}", {p: mixed_space[p]}, {p: mixed_obs[p]},
            [{p: pt[p]} for pt in mixed_pts], False, group="mixed3-univariate",
            notes="one of the per-parameter estimators TPESampler builds in independent mode"))
    cases.append(parzen_case("mixed3-multivariate", mixed_space, mixed_obs, mixed_pts, True,
                             notes="multivariate sigma = 0.2 * n^(-1/(d+4)) * (kernelHigh - "
                                   "kernelLow), d = 3 (all params, categorical included)"))
    # Larger fit with the weight ramp (30 obs). The int range is wide enough for 30 distinct
    # observations: with ramped (unequal) weights, tied numeric observations would make sigma
    # assignment AND logPdf depend on numpy's unstable argsort (see note (2)).
    space30: dict[str, BaseDistribution] = {
        "x": FloatDistribution(-2.0, 3.0),
        "n": IntDistribution(0, 100),
        "c": CategoricalDistribution([10, 20, 30]),
    }
    m30 = {
        "x": list(np.round(rng.uniform(-2.0, 3.0, size=30), 6)),
        "n": list(rng.choice(101, size=30, replace=False).astype(float)),
        "c": list(rng.randint(0, 3, size=30).astype(float)),
    }
    pts30 = [
        {"x": -2.0, "n": 0, "c": 0},
        {"x": 0.4, "n": 13, "c": 1},
        {"x": 1.0, "n": 50, "c": 2},
        {"x": 2.5, "n": 77, "c": 0},
        {"x": 3.0, "n": 100, "c": 2},
    ]
    cases.append(parzen_case("mixed3-30obs-multivariate", space30, m30, pts30, True))
    for p in space30:
        cases.append(parzen_case(
            f"mixed3-30obs-univariate/{p}", {p: space30[p]}, {p: m30[p]},
            [{p: pt[p]} for pt in pts30], False, group="mixed3-30obs-univariate"))
    return cases


# ------------------------------------------------------------------------------------------
# _split_trials


def split_cases() -> list[dict[str, Any]]:
    # 12 trials: 10 complete (values with ties), 2 running.
    spec: list[tuple[str, float | None]] = [
        ("COMPLETE", 0.5),
        ("COMPLETE", 0.2),
        ("RUNNING", None),
        ("COMPLETE", 0.9),
        ("COMPLETE", 0.2),   # tie with #1
        ("COMPLETE", 0.7),
        ("COMPLETE", 0.1),
        ("RUNNING", None),
        ("COMPLETE", 0.9),   # tie with #3
        ("COMPLETE", 0.3),
        ("COMPLETE", 0.2),   # tie with #1, #4
        ("COMPLETE", 0.6),
    ]
    dist = {"x": FloatDistribution(0.0, 1.0)}
    out = []
    for direction in ["minimize", "maximize"]:
        study = optuna.create_study(direction=direction)
        for i, (state, value) in enumerate(spec):
            study.add_trial(create_trial(
                state=TrialState[state], value=value, params={"x": (i + 0.5) / 12},
                distributions=dist))
        all_trials = study.get_trials(deepcopy=False)
        n_complete = sum(t.state != TrialState.RUNNING for t in all_trials)
        for constant_liar in [True, False]:
            if constant_liar:
                trials = [t for t in all_trials
                          if t.state in (TrialState.COMPLETE, TrialState.RUNNING)]
            else:
                trials = [t for t in all_trials if t.state == TrialState.COMPLETE]
            for n_below, from_gamma in [(default_gamma(n_complete), True), (3, False),
                                        (5, False)]:
                below, above = _split_trials(study, trials, n_below, False)
                out.append({
                    "name": f"{direction}-{'liar' if constant_liar else 'noliar'}-nbelow{n_below}",
                    "direction": direction,
                    "constantLiar": constant_liar,
                    "trials": [{"number": t.number, "state": t.state.name,
                                "value": None if t.value is None else num(t.value)}
                               for t in trials],
                    "nComplete": n_complete,
                    "nBelow": int(n_below),
                    "nBelowFromGamma": from_gamma,
                    "below": [t.number for t in below],
                    "above": [t.number for t in above],
                })
    return out


# ------------------------------------------------------------------------------------------


def sanity_check(doc: dict[str, Any]) -> None:
    for w in doc["weights"]:
        assert len(w["value"]) == w["n"], w
    for c in doc["parzen"]:
        s = sum(c["weights"])
        assert abs(s - 1.0) < 1e-12, (c["name"], s)
        n_obs = len(next(iter(c["observations"].values())))
        assert len(c["weights"]) == max(n_obs + 1, 1), c["name"]
        for p, d in c["distributions"].items():
            if d["kind"] == "categorical":
                assert len(d["categoricalWeights"]) == len(c["weights"]), c["name"]
                for row in d["categoricalWeights"]:
                    assert abs(sum(row) - 1.0) < 1e-12, (c["name"], row)
            else:
                assert len(d["mu"]) == len(d["sigma"]) == len(c["weights"]), c["name"]
                width = d["kernelHigh"] - d["kernelLow"]
                assert abs(d["sigma"][-1] - width) < 1e-12 * max(1, width), c["name"]
                assert abs(d["mu"][-1] - 0.5 * (d["kernelLow"] + d["kernelHigh"])) < 1e-12
        for v in c["logPdf"]["values"]:
            assert isinstance(v, float) and math.isfinite(v), (c["name"], v)
    for s in doc["split"]:
        assert sorted(s["below"] + s["above"]) == sorted(t["number"] for t in s["trials"])
        assert len(s["below"]) == min(s["nBelow"], s["nComplete"])


def _quiet(fn: Any) -> Any:
    with np.errstate(all="ignore"):
        return fn()


def main() -> None:
    out_path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    doc = {
        "optunaVersion": optuna.__version__,
        "numpyVersion": np.__version__,
        "gamma": gamma_cases(),
        "weights": weights_cases(),
        # q = 0 / q = 1 / a == b edge cases make numpy warn (log(0), nan) inside Optuna.
        "truncnorm": _quiet(truncnorm_cases),
        "parzen": parzen_cases(),
        "split": split_cases(),
    }
    sanity_check(doc)
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w") as f:
        json.dump(doc, f, indent=1, allow_nan=False)
        f.write("\n")
    # The repository checks formatting with prettier; let it lay the file out (it keeps every
    # number's text unchanged). Skipped when node_modules is not installed.
    prettier = os.path.join(ROOT, "node_modules", ".bin", "prettier")
    if os.path.exists(prettier):
        subprocess.run([prettier, "--log-level", "warn", "--write", out_path], check=True)
    print(f"wrote {out_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
