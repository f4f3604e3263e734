"""The OpenAI SDK, unchanged, against a chat assistant's OpenAI-compatible URL.

    RAGFLOW_BASE_URL=http://127.0.0.1:9380 RAGFLOW_API_KEY=ragflow-… CHAT_ID=… python examples/openai_chat.py
"""

import os

from openai import OpenAI

base = os.environ.get("RAGFLOW_BASE_URL", "http://127.0.0.1:9380")
client = OpenAI(api_key=os.environ["RAGFLOW_API_KEY"], base_url=f"{base}/api/v1/chats_openai/{os.environ['CHAT_ID']}")

reply = client.chat.completions.create(model="model", messages=[{"role": "user", "content": "What is in the knowledge base?"}])
print(reply.choices[0].message.content)
print("usage:", reply.usage)

stream = client.chat.completions.create(model="model", messages=[{"role": "user", "content": "你好"}], stream=True)
for chunk in stream:
    print(chunk.choices[0].delta.content or "", end="", flush=True)
print()
