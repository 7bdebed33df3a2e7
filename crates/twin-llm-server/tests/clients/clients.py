"""Drives a running `twin llm serve` with the official `openai` and `ollama` Python clients,
as Cherry Studio and similar tools would. Usage: clients.py BASE_URL MODEL_ID"""
import json
import sys

import ollama
import openai

base, model = sys.argv[1], sys.argv[2]
passed = 0


def check(name, cond, detail=""):
    global passed
    if not cond:
        print(f"FAIL {name}: {detail}")
        print(f"clients: {passed} passed, 1 failed")
        sys.exit(1)
    passed += 1
    print(f"ok   {name}")


msgs = [{"role": "user", "content": "Say hello in one word."}]
oa = openai.OpenAI(base_url=base + "/v1", api_key="any-key", max_retries=0, timeout=120)

ids = [m.id for m in oa.models.list().data]
check("openai models.list", model in ids, ids)

r = oa.chat.completions.create(model=model, messages=msgs, max_tokens=16, temperature=0)
check("openai chat", r.choices[0].message.content is not None
      and r.choices[0].finish_reason in ("stop", "length")
      and r.usage.completion_tokens >= 1 and r.usage.prompt_tokens >= 1, r)

chunks = list(oa.chat.completions.create(
    model=model, messages=msgs, max_tokens=16, temperature=0, stream=True,
    stream_options={"include_usage": True}))
text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
usage = [c.usage for c in chunks if c.usage]
finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
check("openai chat stream", text == r.choices[0].message.content and usage
      and usage[-1].completion_tokens == r.usage.completion_tokens and finish, (text, usage))

c = oa.completions.create(model=model, prompt="Once upon a time", max_tokens=8, temperature=0)
check("openai completions", c.choices[0].text is not None and c.usage.completion_tokens >= 1, c)

e = oa.embeddings.create(model=model, input=["The cat sat.", "A cat sits."])
check("openai embeddings", len(e.data) == 2 and len(e.data[0].embedding) == 576
      and e.usage.prompt_tokens >= 4, e.usage)

try:
    oa.chat.completions.create(model="no-such-model", messages=msgs)
    check("openai unknown model", False, "no error")
except openai.NotFoundError as e:
    check("openai unknown model", "not found" in str(e), e)

try:
    oa.chat.completions.create(model=model, messages=msgs, max_tokens=-1)
    check("openai negative max_tokens", False, "no error")
except openai.APIStatusError as e:
    check("openai negative max_tokens", e.status_code in (400, 422) and "max_tokens" in str(e), e)

tools = [{"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}]
r = oa.chat.completions.create(
    model=model, messages=[{"role": "user", "content": "Weather in Paris?"}], tools=tools,
    tool_choice={"type": "function", "function": {"name": "get_weather"}},
    max_tokens=48, temperature=0)
calls = r.choices[0].message.tool_calls or []
check("openai tools", r.choices[0].finish_reason == "tool_calls" and len(calls) == 1
      and calls[0].function.name == "get_weather"
      and isinstance(json.loads(calls[0].function.arguments).get("city"), str), r)
follow = oa.chat.completions.create(model=model, max_tokens=16, temperature=0, tools=tools, messages=[
    {"role": "user", "content": "Weather in Paris?"},
    r.choices[0].message.model_dump(exclude_none=True),
    {"role": "tool", "tool_call_id": calls[0].id, "content": '{"sky": "clear", "celsius": 21}'}])
check("openai tools round trip", follow.choices[0].finish_reason in ("stop", "length", "tool_calls"), follow)

ol = ollama.Client(host=base, timeout=120)
tags = ol.list()
check("ollama list", any(m.model == model for m in tags.models), tags)
r = ol.chat(model=model, messages=msgs, options={"num_predict": 8, "temperature": 0})
check("ollama chat", r.done and r.message.role == "assistant" and r.eval_count >= 1, r)
parts = list(ol.chat(model=model, messages=msgs, stream=True,
                     options={"num_predict": 8, "temperature": 0}))
streamed = "".join(p.message.content or "" for p in parts)
check("ollama chat stream", parts[-1].done and streamed == r.message.content, (streamed, r))
g = ol.generate(model=model, prompt="Hello", options={"num_predict": 8})
check("ollama generate", g.done and g.response is not None, g)
s = ol.show(model)
check("ollama show", s.details.format == "gguf", s)
p = ol.ps()
check("ollama ps", len(p.models) == 1, p)

print(f"clients: {passed} passed, 0 failed")
