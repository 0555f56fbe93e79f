import { CATALOG } from "./catalog.js";
import { assert, equal, node, test } from "./harness.js";
import { catalogByType, updateNodeData } from "/static/js/graph.js";
import { allErrors, clientErrors, createState, isDirty, nodeLabel, publishedLabel, snapshot } from "/static/js/editor/model.js";
import { mcpClientConfig } from "/static/js/editor/mcptool.js";
import { curlExample, loadPublished } from "/static/js/editor/publish.js";
import { inputsForRun, rememberInputs, rememberedInputs } from "/static/js/editor/runform.js";

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
  for (const name of [
    "model", "render", "edits", "settings", "saving", "runs", "palette", "keyboard", "runform", "publish",
    "runbanner", "typing", "servererrors", "mcptool", "mcppicker",
  ]) {
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

test("the publish state names the published version and the one being edited", () => {
  equal(publishedLabel(null, 5), "Not published");
  equal(publishedLabel(3, 3), "Published: v3");
  equal(publishedLabel(3, 5), "Published: v3 (editing v5)");
  const state = createState();
  loadPublished(state, { publishedVersion: 2, published: { version: 2, inputs: [], outputs: [] } });
  equal([state.publishedVersion, state.published.version], [2, 2]);
  loadPublished(state, { publishedVersion: null, published: null });
  equal([state.publishedVersion, state.published], [null, null]);
});

test("the curl example posts every published input (defaults filled in) and quotes for the shell", () => {
  const command = curlExample("http://weft.test", "w1", [
    { name: "topic", type: "text", default: null },
    { name: "style", type: "text", default: "it's plain" },
    { name: "photo", type: "image", default: null },
  ]);
  assert(command.startsWith("curl -X POST 'http://weft.test/api/workflows/w1/runs'"), command);
  assert(command.includes('Authorization: Bearer $WEFT_TOKEN'), command);
  const body = command.split("-d '")[1].slice(0, -1).replaceAll("'\\''", "'");
  equal(JSON.parse(body), { inputs: { topic: "<topic>", style: "it's plain", photo: "<upload id or https:// URL>" }, wait: 30 });
});

test("the MCP client configuration points at /mcp with a Bearer header", () => {
  const config = JSON.parse(mcpClientConfig("https://weft.test"));
  equal(config, { mcpServers: { weft: { type: "http", url: "https://weft.test/mcp", headers: { Authorization: "Bearer <your API token>" } } } });
});

function memoryStorage() {
  const items = new Map();
  return { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => items.set(key, String(value)) };
}

test("a node run reuses the last inputs without asking; a graph without Input nodes sends none", async () => {
  const storage = memoryStorage();
  const state = createState({ catalog: CATALOG, kinds: catalogByType(CATALOG) });
  state.graph = { nodes: [node("i", "input", { name: "topic" }), node("p", "prompt", { template: "{{topic}}" })], edges: [] };
  const editor = { state, boot: { id: "w1" } };
  equal(await inputsForRun(editor, "node", storage), {});
  rememberInputs("w1", { topic: "owls", gone: "x" }, storage);
  equal(rememberedInputs("w1", storage), { topic: "owls", gone: "x" });
  equal(await inputsForRun(editor, "selection", storage), { topic: "owls" });
  state.graph = { nodes: [node("p", "prompt", { template: "plain" })], edges: [] };
  equal(await inputsForRun(editor, "full", storage), {});
});
