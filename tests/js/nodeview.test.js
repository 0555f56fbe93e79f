import { CATALOG } from "./catalog.js";
import { equal, test } from "./harness.js";
import { dropText, jsonPath, templateFields } from "/static/js/editor/nodeview.js";

const kinds = new Map(CATALOG.kinds.map((kind) => [kind.type, kind]));

test("a field's JSONPath names keys, indexes and odd keys", () => {
  equal(jsonPath([]), "$");
  equal(jsonPath(["label"]), "$.label");
  equal(jsonPath(["items", 0, "name"]), "$.items[0].name");
  equal(jsonPath(["odd key", "it's"]), "$['odd key']['it\\'s']");
});

test("template fields come from the kind's placeholder rule", () => {
  equal(templateFields(kinds.get("prompt")), ["template"]);
  equal(templateFields(kinds.get("http")), ["url", "query", "headers", "body"]);
  equal(templateFields(kinds.get("extract")), []);
});

test("a dragged field becomes a placeholder in a template and a JSONPath elsewhere", () => {
  const dragged = { port: "reply", keys: ["label"] };
  equal(dropText(kinds.get("prompt"), "template", dragged), "{{reply}}");
  equal(dropText(kinds.get("extract"), "path", dragged), "$.label");
  equal(dropText(kinds.get("http"), "url", { port: "site", keys: [] }), "{{site}}");
});
