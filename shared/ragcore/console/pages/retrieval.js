// Retrieval testing: one /retrieval call with the knobs RAGFlow's console shows; each result with its term and
// vector similarity and the matched terms highlighted.
import { call } from "../api.js";
import { field, fill, guard, h, highlighted, pageMap } from "../ui.js";
import { modelSelect } from "../modelpick.js";

export async function retrievalTab(body, ds) {
  const question = h("input", { type: "text", required: true, placeholder: "Ask something the documents answer" });
  const weight = h("input", { type: "number", min: 0, max: 1, step: 0.05, value: ds.vector_similarity_weight ?? 0.3 });
  const threshold = h("input", { type: "number", min: 0, max: 1, step: 0.05, value: ds.similarity_threshold ?? 0.2 });
  const topK = h("input", { type: "number", min: 1, max: 2048, step: 1, value: 1024 });
  const pageSize = h("input", { type: "number", min: 1, max: 100, step: 1, value: 10 });
  const rerank = await modelSelect("rerank", { none: "none" });
  const keyword = h("input", { type: "checkbox" });
  const results = h("section", { "aria-live": "polite", "aria-label": "Retrieval results" });

  async function run(ev) {
    ev.preventDefault();
    fill(results, h("p", { class: "muted" }, "Searching…"));
    const req = { question: question.value, dataset_ids: [ds.id], vector_similarity_weight: Number(weight.value),
      similarity_threshold: Number(threshold.value), top_k: Number(topK.value), page: 1, page_size: Number(pageSize.value),
      keyword: keyword.checked, highlight: true };
    if (rerank.value) req.rerank_id = rerank.value;
    const started = performance.now();
    const res = await guard(() => call("POST", "/retrieval", { json: req }));
    if (!res) { fill(results); return; }
    const { chunks, total } = res.data;
    const ms = Math.round(performance.now() - started);
    fill(results, h("p", { class: "muted" }, `${total} matching chunk(s), ${ms} ms`),
      h("div", { class: "cards" }, chunks.map((c, i) => h("article", { class: "card result", "data-chunk": c.id },
        h("header", {}, h("span", {}, `#${i + 1}`),
          h("a", { href: `#/datasets/${c.dataset_id}/documents/${c.document_id}` }, c.document_keyword || c.document_name || c.document_id),
          h("span", { class: "spacer" }),
          h("span", { class: "scores" },
            h("span", {}, "similarity ", h("b", {}, (c.similarity ?? 0).toFixed(3))),
            h("span", {}, "term ", h("b", {}, (c.term_similarity ?? 0).toFixed(3))),
            h("span", {}, "vector ", h("b", {}, (c.vector_similarity ?? 0).toFixed(3))))),
        highlighted(c.highlight || c.content), pageMap(c.positions)))));
  }

  body.append(h("form", { class: "panel", onsubmit: run, "aria-label": "Retrieval test" },
    h("div", { class: "row" }, h("div", { class: "grow" }, field("Question", question)),
      h("button", { class: "primary", type: "submit" }, "Test retrieval")),
    h("div", { class: "row knobs" },
      field("Vector similarity weight", weight, "0: words only · 1: meaning only; the score mixes term and vector similarity"),
      field("Similarity threshold", threshold, "chunks scoring less are left out"),
      field("Top-k candidates", topK, "chunks compared by meaning before ranking"),
      field("Results", pageSize, "how many to show"),
      field("Rerank model", rerank, "re-scores the candidates with a rerank model (slower, often better)"),
      h("label", { class: "inline" }, keyword, "Extract keywords with the chat model"))),
  results);
  question.focus();
}
