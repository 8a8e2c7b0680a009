"""Serves one GGUF model with llama.cpp's OpenAI-compatible HTTP server (xllamacpp), on CPU.

Used by `npm run smoke:real-model` only. Runs until SIGTERM/SIGINT.

    python serve_llama.py --model file.gguf --alias name --port 8101 [--threads 1] [--ctx 8192] [--max-tokens 512]
"""
import argparse
import os
import signal

import xllamacpp

# ChatML with the tools listed as JSON in the system turn and a bare
# {"name": ..., "arguments": {...}} reply asked for: with it llama.cpp returns proper
# `tool_calls` (the template embedded in the Qwen2.5-Coder GGUF makes the model answer in a
# fenced block that the server does not recognise as a call).
CHATML_TOOLS_TEMPLATE = r"""
{%- set sys = messages[0].content if messages and messages[0].role == 'system' else '' -%}
{%- if tools or sys -%}
<|im_start|>system
{{ sys }}
{%- if tools %}

# Tools

You may call one of these tools:
{% for tool in tools -%}
{{ tool | tojson }}
{% endfor %}
To call a tool, reply with only a JSON object of the form {"name": "<tool name>", "arguments": {<arguments>}} and nothing else. Otherwise reply in plain text.
{%- endif %}<|im_end|>
{% endif -%}
{%- for message in messages -%}
{%- if not (loop.first and message.role == 'system') -%}
<|im_start|>{{ 'user' if message.role == 'tool' else message.role }}
{%- if message.role == 'assistant' and message.tool_calls %}
{%- for call in message.tool_calls %}
{"name": "{{ call.function.name }}", "arguments": {{ call.function.arguments | tojson if call.function.arguments is mapping else call.function.arguments }}}
{%- endfor %}
{%- else %}
{{ message.content if message.content else '' }}
{%- endif %}<|im_end|>
{% endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}
<|im_start|>assistant
{% endif -%}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--alias", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ctx", type=int, default=8192)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--max-tokens", type=int, default=512, help="cap on generated tokens per request")
    args = parser.parse_args()

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model_alias = args.alias
    params.hostnames = [args.host]
    params.port = args.port
    params.n_ctx = args.ctx
    params.n_parallel = args.parallel
    params.n_predict = args.max_tokens
    params.use_jinja = True
    params.chat_template = CHATML_TOOLS_TEMPLATE
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    server = xllamacpp.Server(params)  # noqa: F841  (the HTTP server lives as long as this object)
    print(f"llama.cpp serving {args.alias} on http://{args.host}:{args.port}/v1", flush=True)

    def stop(*_: object) -> None:
        # At once, without waiting for a generation in progress: nothing here needs saving.
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
