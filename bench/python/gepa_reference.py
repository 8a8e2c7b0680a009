#!/usr/bin/env python3
"""The reference GEPA (the `gepa` package, pinned in requirements.txt) on a simulator scenario,
for bench:optimizers' `gepa-reference` method.

Usage:
    python3 bench/python/gepa_reference.py < input.json > output.json

Input (one JSON object on stdin, written by bench/gepa-reference.ts):
    {"simulatorUrl": "http://127.0.0.1:PORT/v1", "agentModel": "sim-agent",
     "teacherModel": "sim-teacher", "agentSeed": 0, "seed": 3, "budget": 6000,
     "seedCandidate": {"system": "..."},
     "tools": [{"name", "description", "parameters"}],
     "train": [{"id", "messages": [{"role", "content"}], "expected": {"action", "arguments", "content"?},
                "critique": str | null}],
     "options": {}}  # optional extra gepa.optimize keyword arguments

Output (one JSON object on stdout):
    {"gepaVersion": "0.1.4", "candidates": [{"system": "..."}], "valScores": [...],
     "discoveryMetricCalls": [...], "valsetSize": n, "totalMetricCalls": n,
     "reflectionCalls": n, "seconds": s}

Every model call goes to the simulator's OpenAI-compatible HTTP API: the agent step (system
prompt, the example's messages, the tools) to `agentModel`, the reflection prompt to
`teacherModel` as free text. The score and the feedback are the ones our optimizers see
(activities/search-executor.ts: `evaluateCandidate`, `evidenceFor`). Everything else is
gepa.optimize's defaults, as a user would call it.
"""

from __future__ import annotations

import http.client
import json
import sys
import time
from importlib.metadata import version
from typing import Any
from urllib.parse import urlparse

from gepa import EvaluationBatch, optimize


def compact(value: Any) -> str:
    """JSON.stringify's output for JSON values: the metric compares arguments by it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Simulator:
    """One kept-alive connection to the simulator; a fresh connection per call would cost more
    than the simulated model does."""

    def __init__(self, url: str) -> None:
        parsed = urlparse(url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 80
        self.base = parsed.path.rstrip("/")
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        payload = json.dumps(body)
        for attempt in range(2):
            try:
                self.connection.request(
                    "POST", f"{self.base}/chat/completions", payload, {"content-type": "application/json"}
                )
                response = self.connection.getresponse()
                data = response.read()
                if response.status != 200:
                    raise RuntimeError(f"simulator answered {response.status}: {data[:300]!r}")
                return json.loads(data)
            except (http.client.HTTPException, ConnectionError):
                # The server may close an idle kept-alive connection; reconnect once.
                self.connection.close()
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")


def render_step(step: dict[str, Any]) -> str:
    """llm/prompt-templates.ts renderStep."""
    args = compact(step["arguments"]) if step.get("arguments") else "{}"
    reply = f"\nreply: {step['content']}" if step.get("content") else ""
    return f"action: {step['action']}\narguments: {args}{reply}"


def render_conversation(messages: list[dict[str, Any]]) -> str:
    """llm/prompt-templates.ts renderConversation."""
    return "\n".join(f"{m['role']}: {m.get('content') or ''}" for m in messages if m["role"] != "system")


def outcome_match(expected: dict[str, Any], actual: dict[str, Any]) -> tuple[float, str]:
    """evaluation/evaluator.ts outcomeMatch: the action, and every argument the expectation names."""
    if expected["action"] != actual["action"]:
        return 0.0, f"expected action {expected['action']}, agent did {actual['action']}"
    wrong = [
        key
        for key, value in expected.get("arguments", {}).items()
        if compact(actual.get("arguments", {}).get(key)) != compact(value)
    ]
    if wrong:
        return 0.0, f"right action {actual['action']}, wrong arguments: {', '.join(wrong)}"
    return 1.0, f"matched {expected['action']}"


class SimulatedAgentAdapter:
    """GEPAAdapter over the simulated agent. A candidate is {"system": prompt}; each example is
    one agent step replayed with the candidate's system prompt, scored 1 when the step matches
    the expected one."""

    # gepa looks for this attribute; None means "use the default reflective proposer".
    propose_new_texts = None

    def __init__(self, simulator: Simulator, spec: dict[str, Any]) -> None:
        self.simulator = simulator
        self.model = spec["agentModel"]
        self.seed = spec["agentSeed"]
        self.tools = [
            {
                "type": "function",
                "function": {"name": t["name"], "description": t["description"], "parameters": t["parameters"]},
            }
            for t in spec["tools"]
        ]
        self.metric_calls = 0

    def step(self, system: str, example: dict[str, Any]) -> dict[str, Any]:
        """llm/agent-step.ts runAgentStep: the first tool call is the step, else a reply."""
        messages = [{"role": "system", "content": system}] + [
            {"role": m["role"], "content": m.get("content") or ""} for m in example["messages"] if m["role"] != "system"
        ]
        body: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": 0, "seed": self.seed}
        if self.tools:
            body["tools"] = self.tools
        message = self.simulator.chat(body)["choices"][0]["message"]
        calls = message.get("tool_calls") or []
        if calls:
            call = calls[0]["function"]
            try:
                args = json.loads(call.get("arguments") or "{}")
            except json.JSONDecodeError:
                args = {"_raw": call.get("arguments")}
            return {"action": call["name"], "arguments": args if isinstance(args, dict) else {}}
        return {"action": "respond", "arguments": {}, "content": message.get("content") or ""}

    def evaluate(self, batch: list[dict[str, Any]], candidate: dict[str, str], capture_traces: bool = False):
        outputs, scores, trajectories = [], [], []
        for example in batch:
            self.metric_calls += 1
            step = self.step(candidate["system"], example)
            score, explanation = outcome_match(example["expected"], step)
            outputs.append(step)
            scores.append(score)
            trajectories.append({"example": example, "step": step, "score": score, "explanation": explanation})
        return EvaluationBatch(outputs=outputs, scores=scores, trajectories=trajectories if capture_traces else None)

    def make_reflective_dataset(self, candidate, eval_batch, components_to_update):
        """The evidence our reflection shows (search-executor.ts evidenceFor): the input, the
        step taken, and for a wrong step the expected step plus the reviewer's note if any."""
        records = []
        for t in eval_batch.trajectories or []:
            example = t["example"]
            if t["score"] >= 1:
                feedback = f"Correct ({t['explanation']})."
            else:
                feedback = f"Incorrect: {t['explanation']}. The expected step was:\n{render_step(example['expected'])}"
                if example.get("critique"):
                    feedback += f"\nReviewer's note on the original trace: {example['critique']}"
            records.append(
                {
                    "Inputs": render_conversation(example["messages"]),
                    "Generated Outputs": render_step(t["step"]),
                    "Feedback": feedback,
                }
            )
        return {name: records for name in components_to_update}


class QuietLogger:
    """gepa logs to stdout by default; stdout carries the answer here, so its log goes to stderr
    only when asked."""

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose

    def log(self, message: str) -> None:
        if self.verbose:
            print(message, file=sys.stderr)


def main() -> None:
    spec = json.load(sys.stdin)
    simulator = Simulator(spec["simulatorUrl"])
    adapter = SimulatedAgentAdapter(simulator, spec)
    reflection_calls = 0

    def reflection_lm(prompt: str | list[dict[str, Any]]) -> str:
        nonlocal reflection_calls
        reflection_calls += 1
        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
        # Like our teacher calls (seed + sample number): a new sample per call, reproducible per run.
        body = {
            "model": spec["teacherModel"],
            "messages": messages,
            "temperature": 1,
            "seed": spec["seed"] * 100_000 + reflection_calls,
        }
        return simulator.chat(body)["choices"][0]["message"]["content"] or ""

    started = time.perf_counter()
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # nothing gepa prints may corrupt the JSON answer
    try:
        result = optimize(
            seed_candidate=spec["seedCandidate"],
            trainset=spec["train"],
            adapter=adapter,
            reflection_lm=reflection_lm,
            max_metric_calls=spec["budget"],
            seed=spec["seed"],
            logger=QuietLogger(bool(spec.get("verbose"))),
            # Empty in the benchmark (gepa's defaults); one-off sensitivity runs set e.g.
            # {"cache_evaluation": true} here.
            **spec.get("options", {}),
        )
    finally:
        sys.stdout = real_stdout
    json.dump(
        {
            "gepaVersion": version("gepa"),
            "candidates": [dict(c) for c in result.candidates],
            "valScores": list(result.val_aggregate_scores),
            "discoveryMetricCalls": list(result.discovery_eval_counts),
            "valsetSize": len(spec["train"]),
            "totalMetricCalls": result.total_metric_calls,
            "adapterMetricCalls": adapter.metric_calls,
            "reflectionCalls": reflection_calls,
            "seconds": time.perf_counter() - started,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
