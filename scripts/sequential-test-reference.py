#!/usr/bin/env python3
"""Reference values for the rollout analysis's sequential test (release/sequential-test.ts),
computed independently of its closed forms. Writes test/fixtures/sequential-test-reference.json.

Usage (from the repository root; needs numpy and scipy):
    python3 scripts/sequential-test-reference.py [output-path]

What is independent of the TypeScript:
- `likelihoodRatio`: the mSPRT statistic as the integral it is defined by,
  Λ(θ₀) = ∫ N(θ̂; θ, s²) / N(θ̂; θ₀, s²) · N(θ; θ₀, τ²) dθ, by scipy.integrate.quad;
- `halfWidth`: the confidence sequence's half-width as the root of Λ(θ̂ − w) = 1/α of that
  integral (scipy.optimize.brentq), not the closed form;
- `powerTarget`: the minimum sample's standard error MDE / (Φ⁻¹(1 − α/2) + Φ⁻¹(power)) with
  scipy's normal quantile;
- `simulations`: the decision rule re-implemented in numpy on Bernoulli traffic, many seeded
  repetitions, each looking after every batch of traffic. Rates are estimates; the TypeScript
  test simulates with its own generator and checks it agrees within sampling error.

Formatting: json.dump (indent 2), then node_modules/.bin/prettier --write if installed.
"""

import json
import math
import os
import subprocess
import sys

import numpy as np
import scipy
from scipy import integrate, optimize
from scipy.stats import norm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "test", "fixtures", "sequential-test-reference.json")


def likelihood_ratio(estimate, se, null, tau):
    """The N(null, tau²) mixture of normal likelihood ratios, integrated numerically."""

    def integrand(theta):
        return (
            norm.pdf(estimate, loc=theta, scale=se)
            / norm.pdf(estimate, loc=null, scale=se)
            * norm.pdf(theta, loc=null, scale=tau)
        )

    # The mass sits near null (prior) and near the estimate (likelihood): split there.
    lo = min(null, estimate) - 12 * max(tau, se)
    hi = max(null, estimate) + 12 * max(tau, se)
    points = sorted({null, estimate})
    value, _ = integrate.quad(integrand, lo, hi, points=points, limit=400, epsabs=0, epsrel=1e-12)
    return value


def half_width(se, alpha, tau):
    """w with Λ(θ̂ − w) = 1/α (Λ grows with |θ̂ − θ₀|)."""
    f = lambda w: math.log(likelihood_ratio(0.0, se, -w, tau)) - math.log(1 / alpha)
    hi = se
    while f(hi) < 0:
        hi *= 2
    return optimize.brentq(f, 1e-12, hi, xtol=1e-14, rtol=1e-13)


def power_target(alpha, power, mde):
    """The fixed-sample test's standard error for detecting mde with the given power."""
    return mde / (norm.ppf(1 - alpha / 2) + norm.ppf(power))


def closed_half_width(se, alpha, tau):
    """For the simulations only (speed); the fixture's halfWidth cases check it."""
    s2, t2 = se * se, tau * tau
    return np.sqrt(s2 * (s2 + t2) / t2 * (np.log((s2 + t2) / s2) + 2 * math.log(1 / alpha)))


def shrunk_variance(successes, trials):
    p = (successes + 0.5) / (trials + 1)
    return p * (1 - p)


def simulate(name, p_candidate, p_baseline, candidate_per_look, baseline_per_look, looks, runs, seed,
             alpha, power, mde, threshold, rule, min_samples):
    """
    Traffic arrives in batches; after each batch the rule looks at the cumulative counts.
    rule: "fail" — ever U < threshold (a failure condition result < baseline + threshold holds);
          "promote" — ever L > threshold once the power check passes (it is ruled out);
          "naive" — ever |θ̂ − threshold| / s > Φ⁻¹(1 − α/2), a fixed-sample z-test at every look.
    """
    rng = np.random.default_rng(seed)
    xc = rng.binomial(candidate_per_look, p_candidate, size=(runs, looks)).cumsum(axis=1)
    xb = rng.binomial(baseline_per_look, p_baseline, size=(runs, looks)).cumsum(axis=1)
    nc = candidate_per_look * np.arange(1, looks + 1)
    nb = baseline_per_look * np.arange(1, looks + 1)
    est = xc / nc - xb / nb
    se = np.sqrt(shrunk_variance(xc, nc) / nc + shrunk_variance(xb, nb) / nb)
    w = closed_half_width(se, alpha, mde)
    enough = (nc >= min_samples) & (nb >= min_samples)
    if rule == "fail":
        hit = (est + w < threshold) & enough
    elif rule == "promote":
        pooled = shrunk_variance(xc + xb, nc + nb)
        planned = np.sqrt(pooled * (1 / nc + 1 / nb))
        ready = planned <= power_target(alpha, power, mde)
        hit = (est - w > threshold) & enough & ready
    elif rule == "naive":
        hit = (np.abs(est - threshold) / se > norm.ppf(1 - alpha / 2)) & enough
    else:
        raise ValueError(rule)
    rate = float(hit.any(axis=1).mean())
    return {
        "name": name,
        "rule": rule,
        "pCandidate": p_candidate,
        "pBaseline": p_baseline,
        "candidatePerLook": candidate_per_look,
        "baselinePerLook": baseline_per_look,
        "looks": looks,
        "runs": runs,
        "alpha": alpha,
        "power": power,
        "minimumDetectableEffect": mde,
        "threshold": threshold,
        "minSamples": min_samples,
        "rate": rate,
    }


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    lr_cases = [
        (0.0, 0.05, 0.0, 0.1),
        (0.1, 0.05, 0.0, 0.1),
        (-0.22, 0.1565, -0.1, 0.1),
        (0.3, 0.02, 0.05, 0.2),
        (-0.05, 0.01, 0.0, 0.05),
    ]
    hw_cases = [(0.01, 0.05, 0.1), (0.0256, 0.05, 0.1), (0.05, 0.05, 0.1), (0.1565, 0.05, 0.1),
                (0.03, 0.01, 0.2), (0.2, 0.1, 0.05)]
    power_cases = [(0.05, 0.8, 0.1), (0.05, 0.8, 0.2), (0.05, 0.9, 0.05), (0.01, 0.8, 0.15)]
    d = {
        "numpyVersion": np.__version__,
        "scipyVersion": scipy.__version__,
        "likelihoodRatio": [
            {"estimate": e, "standardError": s, "nullValue": n, "mixingScale": t,
             "value": likelihood_ratio(e, s, n, t)}
            for e, s, n, t in lr_cases
        ],
        "halfWidth": [
            {"standardError": s, "alpha": a, "mixingScale": t, "value": half_width(s, a, t)}
            for s, a, t in hw_cases
        ],
        "powerTarget": [
            {"alpha": a, "power": p, "minimumDetectableEffect": m, "value": power_target(a, p, m)}
            for a, p, m in power_cases
        ],
        "normalQuantile": [{"p": p, "value": float(norm.ppf(p))} for p in (0.5, 0.8, 0.9, 0.975, 0.995)],
        "simulations": [
            # The default failure condition at its boundary (the candidate exactly 10 points
            # worse): how often is it ever declared to hold, over 50 looks at a 10 % canary?
            simulate("fail at the boundary, 10% canary, 50 looks", 0.4, 0.5, 20, 180, 50, 20000, 1,
                     0.05, 0.8, 0.1, -0.1, "fail", 20),
            # No tolerance (failure condition result < baseline), equal rates, even split.
            simulate("fail with no tolerance, equal rates, 50/50, 100 looks", 0.3, 0.3, 10, 10, 100, 20000, 2,
                     0.05, 0.8, 0.1, 0.0, "fail", 20),
            # Promotion of a candidate exactly at the tolerance (10 points worse).
            simulate("promote at the boundary, 50/50, 60 looks", 0.5, 0.6, 25, 25, 60, 20000, 3,
                     0.05, 0.8, 0.1, -0.1, "promote", 20),
            # The same looks with a fixed-sample z-test each time: what the sequential test prevents.
            simulate("naive z-test, equal rates, 50/50, 100 looks", 0.3, 0.3, 10, 10, 100, 20000, 4,
                     0.05, 0.8, 0.1, 0.0, "naive", 20),
            # Power: a candidate 25 points worse is caught (threshold −0.1, true −0.25).
            simulate("detect a 25-point regression, 10% canary, 30 looks", 0.35, 0.6, 10, 90, 30, 20000, 5,
                     0.05, 0.8, 0.1, -0.1, "fail", 20),
        ],
    }
    with open(out, "w") as f:
        json.dump(d, f, indent=2)
        f.write("\n")
    prettier = os.path.join(ROOT, "node_modules", ".bin", "prettier")
    if os.path.exists(prettier):
        subprocess.run([prettier, "--write", out], check=True, cwd=ROOT)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
