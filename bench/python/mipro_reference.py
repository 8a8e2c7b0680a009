#!/usr/bin/env python3
"""DSPy's MIPROv2 (the `dspy` package, pinned in requirements.txt) on a simulator scenario, for
bench:optimizers' `mipro-reference` method.

Usage:
    python3 bench/python/mipro_reference.py < input.json > output.json

Input (one JSON object on stdin, written by bench/mipro-reference.ts):
    {"simulatorUrl": "http://127.0.0.1:PORT/v1", "agentModel": "sim-agent",
     "teacherModel": "sim-teacher", "agentSeed": 0, "seed": 3, "budget": 6000,
     "basePrompt": "...", "auto": "medium", "valsetSize": null,
     "tools": [{"name", "description", "parameters"}],
     "train": [{"id", "messages": [{"role", "content"}], "expected": {"action", "arguments", "content"?},
                "critique": str | null}],
     "options": {}}  # optional extra MIPROv2.compile keyword arguments

Output (one JSON object on stdout):
    {"dspyVersion": "3.4.1", "best": "<system prompt>", "bestScore": s,
     "curve": [{"rollouts": n, "system": "<system prompt>", "score": s}],
     "rollouts": n, "errors": [...], "seconds": s}

`curve` holds the pick each time MIPROv2's best full-valset score rose (the default program's
evaluation first), with the rollouts spent by then; `system` is the whole system prompt the
agent gets (instruction and demos), which bench/mipro-reference.ts scores on the test split.

Both models are `dspy.LM("openai/<model>", api_base=<simulator URL>)`: DSPy 3.4.1's default
engine ("auto") calls such an OpenAI-compatible endpoint with its own OpenAI chat client (lm15)
and keeps litellm, which it installs, as the fallback; either sends the same HTTP requests. The
program is one `dspy.Predict` (conversation -> step) whose instruction starts as the agent's
system prompt. Its adapter sends the agent's step exactly as our executor does
(activities/search-executor.ts, optimization/render-candidate.ts): the instruction as the
system prompt with any demos appended under "## Examples of correct behaviour", the example's
messages, the tools; the first tool call is the step. The metric is ours (outcome match).
The prompt model (the teacher) gets DSPy's own proposer prompts through its ChatAdapter.
Everything else is MIPROv2's defaults for the preset, as a user would call it:
`MIPROv2(metric, prompt_model, task_model, auto=..., seed).compile(program, trainset=train)`.

A rollout is one agent call the simulator answers. DSPy's LM cache is switched off; the
adapter remembers each (system prompt, conversation) step instead, as our executor stores a
candidate's outputs, so a repeated evaluation costs nothing in either.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import os
import random
import sys
import threading
import time
from importlib.metadata import version
from typing import Any

# Python salts str hashes per process, and set order follows them; a run must replay the same
# with the same seed, so the script runs itself again with a fixed salt (stdin is still unread).
if os.environ.get("PYTHONHASHSEED") != "0":
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})

# litellm (DSPy's fallback engine) fetches a model price list from the internet at import unless told not to.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("DSPY_CACHEDIR", os.path.join(os.environ.get("TMPDIR", "/tmp"), "flywheel-dspy-cache"))

import dspy  # noqa: E402
from dspy.teleprompt import mipro_optimizer_v2  # noqa: E402


def compact(value: Any) -> str:
    """JSON.stringify's output for JSON values: the metric compares arguments by it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def render_step(step: dict[str, Any]) -> str:
    """llm/prompt-templates.ts renderStep."""
    args = compact(step["arguments"]) if step.get("arguments") else "{}"
    reply = f"\nreply: {step['content']}" if step.get("content") else ""
    return f"action: {step['action']}\narguments: {args}{reply}"


def render_conversation(messages: list[dict[str, Any]]) -> str:
    """llm/prompt-templates.ts renderConversation."""
    return "\n".join(f"{m['role']}: {m.get('content') or ''}" for m in messages if m["role"] != "system")


def outcome_match(expected: dict[str, Any], actual: dict[str, Any]) -> float:
    """evaluation/evaluator.ts outcomeMatch: the action, and every argument the expectation names."""
    if expected["action"] != actual["action"]:
        return 0.0
    for key, value in expected.get("arguments", {}).items():
        if compact(actual.get("arguments", {}).get(key)) != compact(value):
            return 0.0
    return 1.0


def system_prompt(instruction: str, demos: list[Any]) -> str:
    """schemas/prompt.ts promptForAgent with config.demos, as llm/prompt-templates.ts renderDemos
    writes a demo set: each demo's conversation and step."""
    if not demos:
        return instruction
    shown = "\n\n".join(f"{d['conversation']}\n{d['step']}" for d in demos)
    return f"{instruction.rstrip()}\n\n## Examples of correct behaviour\n{shown}"


class AgentStepAdapter(dspy.Adapter):
    """Sends the agent's step as the product does and reads the step back; counts rollouts."""

    def __init__(self, spec: dict[str, Any], messages_of: dict[str, list[dict[str, Any]]]) -> None:
        super().__init__()
        self.seed = spec["agentSeed"]
        self.tools = [
            {
                "type": "function",
                "function": {"name": t["name"], "description": t["description"], "parameters": t["parameters"]},
            }
            for t in spec["tools"]
        ]
        self.messages_of = messages_of
        self.steps: dict[tuple[str, str], dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.rollouts = 0
        self.errors: list[str] = []

    def __call__(self, lm, lm_kwargs, signature, demos, inputs):
        conversation = inputs["conversation"]
        system = system_prompt(signature.instructions, demos)
        key = (system, conversation)
        with self.lock:
            step = self.steps.get(key)
        if step is None:
            messages = [{"role": "system", "content": system}] + [
                {"role": m["role"], "content": m.get("content") or ""}
                for m in self.messages_of[conversation]
                if m["role"] != "system"
            ]
            # runAgentStep's request: temperature 0 and the executor's seed, whatever DSPy's
            # bootstrapping rounds ask for (the simulated agent ignores temperature anyway).
            kwargs = {k: v for k, v in lm_kwargs.items() if k not in ("temperature", "n", "rollout_id")}
            try:
                output = lm(messages=messages, tools=self.tools, temperature=0, seed=self.seed, **kwargs)[0]
            except Exception as error:
                # DSPy's Evaluate would score the example 0 and go on; the benchmark wants to know.
                self.errors.append(f"{type(error).__name__}: {error}")
                raise
            step = self.read_step(output)
            with self.lock:
                if key not in self.steps:
                    self.steps[key] = step
                    self.rollouts += 1
        return [{"step": render_step(step), "_step": step}]

    @staticmethod
    def read_step(output: Any) -> dict[str, Any]:
        """llm/agent-step.ts runAgentStep: the first tool call is the step, else a reply."""
        if isinstance(output, str):
            return {"action": "respond", "arguments": {}, "content": output}
        calls = output.get("tool_calls") or []
        if calls:
            function = calls[0]["function"] if isinstance(calls[0], dict) else calls[0].function
            name = function["name"] if isinstance(function, dict) else function.name
            raw = function["arguments"] if isinstance(function, dict) else function.arguments
            try:
                args = json.loads(raw or "{}")
            except json.JSONDecodeError:
                args = {"_raw": raw}
            return {"action": name, "arguments": args if isinstance(args, dict) else {}}
        return {"action": "respond", "arguments": {}, "content": output.get("text") or ""}


class SampledLM(dspy.LM):
    """The prompt model with a new sampling seed per call (run seed × 100,000 + call number), as
    our teacher calls send seed + sample number and gepa-reference does: asked twice, it answers
    twice, reproducibly per run. DSPy copies its LMs (a rollout id per proposal), so the count
    lives outside the instance."""

    calls = itertools.count(1)
    base_seed = 0

    def __call__(self, prompt=None, *, messages=None, **kwargs):
        kwargs["seed"] = SampledLM.base_seed * 100_000 + next(SampledLM.calls)
        return super().__call__(prompt, messages=messages, **kwargs)


class AgentStep(dspy.Signature):
    conversation: str = dspy.InputField()
    step: str = dspy.OutputField()


# One adapter for every copy of the program MIPROv2 makes (it deep-copies programs; a copied
# adapter would count rollouts and remember steps apart).
AGENT_ADAPTER: AgentStepAdapter | None = None


class Agent(dspy.Module):
    def __init__(self, instruction: str) -> None:
        super().__init__()
        self.respond = dspy.Predict(AgentStep.with_instructions(instruction))

    def forward(self, conversation: str):
        with dspy.context(adapter=AGENT_ADAPTER):
            return self.respond(conversation=conversation)


def main() -> None:
    spec = json.load(sys.stdin)
    if not spec.get("verbose"):
        # DSPy's log handler holds the real stderr; its INFO and per-call warnings are noise here.
        logging.getLogger("dspy").setLevel(logging.ERROR)
    dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)
    base = spec["simulatorUrl"]
    task_model = dspy.LM(f"openai/{spec['agentModel']}", api_base=base, api_key="simulator", cache=False)
    SampledLM.base_seed = spec["seed"]
    prompt_model = SampledLM(f"openai/{spec['teacherModel']}", api_base=base, api_key="simulator", cache=False)

    # compile() cuts its trainset into demo/summary examples (the first 20 %) and a valset (the
    # rest) in the order given; the harness's train split is sorted by id, which in a scenario
    # can group a whole failure mode. A user's data comes in no such order: shuffle with the seed.
    examples = list(spec["train"])
    random.Random(spec["seed"]).shuffle(examples)
    messages_of: dict[str, list[dict[str, Any]]] = {}
    expected_of: dict[str, dict[str, Any]] = {}
    train = []
    for e in examples:
        conversation = render_conversation(e["messages"])
        if conversation in messages_of:
            raise SystemExit(f"two train examples share the conversation {conversation!r}")
        messages_of[conversation] = e["messages"]
        expected_of[conversation] = e["expected"]
        fields = {"conversation": conversation, "step": render_step(e["expected"])}
        if e.get("critique"):
            fields["reviewer_note"] = e["critique"]
        train.append(dspy.Example(**fields).with_inputs("conversation"))

    global AGENT_ADAPTER
    adapter = AGENT_ADAPTER = AgentStepAdapter(spec, messages_of)

    def metric(example, prediction, trace=None):
        return outcome_match(expected_of[example.conversation], prediction["_step"])

    # The pick over rollouts: MIPROv2 updates its best program after each full evaluation on
    # its valset (the default program's first); observe those evaluations to draw the curve.
    curve: list[dict[str, Any]] = []
    state = {"best": -1.0}
    original_eval = mipro_optimizer_v2.eval_candidate_program

    def observed_eval(batch_size, trainset, candidate_program, evaluate, rng=None):
        result = original_eval(batch_size, trainset, candidate_program, evaluate, rng)
        if batch_size >= len(trainset) and result.score > state["best"]:
            state["best"] = result.score
            predictor = candidate_program.predictors()[0]
            curve.append(
                {
                    "rollouts": adapter.rollouts,
                    "system": system_prompt(predictor.signature.instructions, predictor.demos),
                    # Evaluate reports a percentage.
                    "score": result.score / 100,
                }
            )
        return result

    mipro_optimizer_v2.eval_candidate_program = observed_eval

    started = time.perf_counter()
    real_stdout, real_stderr = sys.stdout, sys.stderr
    # Nothing DSPy prints may corrupt the JSON answer on stdout; its progress bars, warnings and
    # log (a screenful per trial) are shown only when the run fails or `verbose` is set.
    log = sys.stderr if spec.get("verbose") else io.StringIO()
    sys.stdout = sys.stderr = log
    try:
        optimizer = dspy.MIPROv2(
            metric=metric,
            prompt_model=prompt_model,
            task_model=task_model,
            auto=spec.get("auto", "medium"),
            seed=spec["seed"],
            num_threads=1,
            verbose=bool(spec.get("verbose")),
        )
        # valsetSize (a sensitivity knob, unset in the benchmark): pass the last n examples as
        # the valset, as our MIPRO splits, instead of compile's 80 %.
        n = spec.get("valsetSize")
        split = {"trainset": train[:-n], "valset": train[-n:]} if n else {"trainset": train}
        best = optimizer.compile(Agent(spec["basePrompt"]), **split, **spec.get("options", {}))
    except BaseException:
        if isinstance(log, io.StringIO):
            real_stderr.write(log.getvalue())
        raise
    finally:
        sys.stdout, sys.stderr = real_stdout, real_stderr
    predictor = best.predictors()[0]
    json.dump(
        {
            "dspyVersion": version("dspy"),
            "best": system_prompt(predictor.signature.instructions, predictor.demos),
            "bestScore": getattr(best, "score", None),
            "curve": curve,
            "rollouts": adapter.rollouts,
            "errors": adapter.errors,
            "seconds": time.perf_counter() - started,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
