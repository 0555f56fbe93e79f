// The node-kind catalog as GET /api/node-kinds returns it (trimmed to what the tests need).

export const CATALOG = [
  { type: "text", label: "Text", inputs: [], outputs: [{ name: "text", type: "text" }],
    dataSchema: { type: "object", properties: { text: { type: "string", default: "" }, label: { type: "string" } } } },
  { type: "prompt", label: "Prompt", inputs: [], outputs: [{ name: "text", type: "text" }], dynamicInputs: true,
    dataSchema: { type: "object", properties: { template: { type: "string", default: "" } } } },
  { type: "image", label: "Image", inputs: [], outputs: [{ name: "image", type: "image" }],
    dataSchema: { type: "object", properties: { url: { type: ["string", "null"], default: null } } } },
  { type: "llm", label: "LLM",
    inputs: [
      { name: "prompt", type: "text", required: true, multiple: false },
      { name: "system", type: "text", required: false, multiple: false },
      { name: "images", type: "image", required: false, multiple: true },
    ],
    outputs: [{ name: "text", type: "text" }],
    dataSchema: { type: "object", properties: {
      temperature: { type: "number", minimum: 0, maximum: 2, default: 0.7 },
      maxOutputTokens: { type: "integer", minimum: 1, maximum: 65536, default: 1024 },
    } } },
  { type: "debug", label: "Debug", inputs: [{ name: "value", type: "any", required: false, multiple: false }],
    outputs: [{ name: "value", type: "any" }], dataSchema: { type: "object", properties: {} } },
  { type: "input", label: "Input", inputs: [], outputs: [{ name: "value", type: "any" }], dynamicOutputs: true,
    dataSchema: { type: "object", properties: {
      name: { type: "string" }, type: { type: "string", enum: ["text", "image"], default: "text" },
      default: { type: ["string", "null"], default: null },
    } } },
  { type: "output", label: "Output", inputs: [{ name: "value", type: "any", required: true, multiple: false }],
    outputs: [], dataSchema: { type: "object", properties: { name: { type: "string" } } } },
];

export function node(id, type, data = {}, position = { x: 0, y: 0 }) {
  return { id, type, position, data };
}
