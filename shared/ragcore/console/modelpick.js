// Model pickers: the models the tenant can use of one type, with the default named for what it is — above all when
// the default chat model is the extractive answerer (no language model configured), which a new user would otherwise
// only learn from their first answer.
import { get } from "./api.js";
import { h } from "./ui.js";

export const EXTRACTIVE = "extractive@Builtin";
export const EXTRACTIVE_NOTE = "extractive (no language model configured) — add a provider under Models";

const nameOf = (m) => `${m.name}@${m.model_provider || m.provider_name}`;

/** The tenant's models of a type and which one answers when none is named: {models, effective, builtin} where
 *  `effective` is the default's name ("" when the server's own, unnamed) and `builtin` says it is built in. */
export async function modelsOf(type) {
  const [models, defaults] = await Promise.all([get("/models", { type }), get("/models/default")]);
  const set = ((defaults && defaults.models) || []).find((d) => d.model_type === type);
  if (set) return { models: models || [], effective: `${set.model_name}@${set.model_provider}`, builtin: false };
  const own = (models || []).find((m) => (m.model_provider || m.provider_name) === "Builtin");
  return { models: models || [], effective: own ? nameOf(own) : "", builtin: Boolean(own) };
}

/** How a model name reads in a picker or a header. */
export function modelLabel(name) {
  return name === EXTRACTIVE ? EXTRACTIVE_NOTE : name;
}

/** A <select> of a type's models whose first option ("") is the default, saying which model that is; with
 *  `none`, the first option is that text instead (a rerank model is used only when one is named). */
export async function modelSelect(type, { current = "", none = "" } = {}) {
  const { models, effective: found } = await modelsOf(type);
  const effective = none ? "" : found;
  const first = none || (effective ? `default: ${modelLabel(effective)}` : "the server's default");
  const select = h("select", {}, h("option", { value: "" }, first));
  for (const m of models) {
    const name = nameOf(m);
    if (name === effective && name !== current) continue;  // the first option already is that model
    select.append(h("option", { value: name, selected: name === current }, modelLabel(name)));
  }
  return select;
}
