import { CATALOG } from "./catalog.js";
import { assert, equal, node, test } from "./harness.js";
import { catalogByType, updateNodeData } from "/static/js/graph.js";
import { allErrors, clientErrors, createState, isDirty, nodeLabel, snapshot } from "/static/js/editor/model.js";

function editorState() {
  const state = createState({ catalog: CATALOG, kinds: catalogByType(CATALOG) });
  state.graph = {
    nodes: [node("t", "text", { text: "owls", label: "Topic" }), node("p", "prompt", { template: "About {{topic}}" })],
    edges: [],
  };
  state.savedSnapshot = snapshot(state);
  return state;
}

test("every editor module but the entry can be imported without starting anything", async () => {
  for (const name of ["model", "render", "edits", "settings", "saving", "runs", "palette", "keyboard"]) {
    const module = await import(`/static/js/editor/${name}.js`);
    assert(Object.keys(module).length > 0, `${name}.js exports nothing`);
  }
  equal(document.body.dataset.ready, undefined);
});

test("the editor state knows when it differs from what was saved", () => {
  const state = editorState();
  equal(isDirty(state), false);
  state.graph = updateNodeData(state.graph, "t", { text: "bats" }, CATALOG);
  equal(isDirty(state), true);
  state.name = "renamed";
  equal(isDirty(state), true);
});

test("errors rechecked while typing match a full check", () => {
  const state = editorState();
  equal(Object.keys(allErrors(state)), ["p"], "the unconnected placeholder");
  state.graph = updateNodeData(state.graph, "p", { template: "No placeholders" }, CATALOG);
  equal(allErrors(state), clientErrors(state));
  equal(allErrors(state), {});
  state.graph = updateNodeData(state.graph, "p", { template: "About {{a}}" }, CATALOG);
  equal(allErrors(state), clientErrors(state));
  equal(Object.keys(allErrors(state)), ["p"]);
});

test("nodes are named by their label for people, by kind and id without one", () => {
  const state = editorState();
  equal(nodeLabel(state, "t"), "Topic");
  equal(nodeLabel(state, "p"), "Prompt p");
  state.graph.nodes.push(node("llm-2", "llm"));
  equal(nodeLabel(state, "llm-2"), "LLM 2");
});

test("while a field is typed in the graph counts as changed; leaving it compares for real", () => {
  const state = editorState();
  state.typing = true;
  equal(isDirty(state), true);
  state.typing = false;
  equal(isDirty(state), false, "nothing really changed");
});
