"""ragflow-sdk against ragflow-serverless: dataset → upload → parse → retrieve → chat.

    RAGFLOW_BASE_URL=http://127.0.0.1:9380 RAGFLOW_API_KEY=ragflow-… python examples/sdk_quickstart.py
"""

import os

from ragflow_sdk import RAGFlow

rag = RAGFlow(api_key=os.environ["RAGFLOW_API_KEY"], base_url=os.environ.get("RAGFLOW_BASE_URL", "http://127.0.0.1:9380"))

dataset = rag.create_dataset(name="sdk quickstart")
docs = dataset.upload_documents([
    {"display_name": "tea.md", "blob": b"# Tea\n\nGreen tea and black tea come from the same plant, Camellia sinensis.\n"},
    {"display_name": "coffee.txt", "blob": b"Coffee beans are the seeds of the Coffea plant.\n"},
])
for doc_id, run, chunks, _tokens in dataset.parse_documents([d.id for d in docs]):
    print(f"parsed {doc_id}: {run}, {chunks} chunks")

for chunk in rag.retrieve(question="Which plant does tea come from?", dataset_ids=[dataset.id]):
    print(f"{chunk.similarity:.3f} {chunk.content!r}")

chat = rag.create_chat("tea expert", dataset_ids=[dataset.id])
session = chat.create_session("quickstart")
for message in session.ask("Which plant does tea come from?", stream=True):
    print(message.content, end="", flush=True)
print()

rag.delete_chats(ids=[chat.id])
rag.delete_datasets(ids=[dataset.id])
