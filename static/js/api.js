// The REST API client every page uses: JSON in and out, CSRF on writes, errors as ApiError.

export class ApiError extends Error {
  constructor(status, body) {
    super(describeError(status, body));
    this.status = status;
    this.body = body;
  }

  // A 400's problems as [{path, message}]: fields ("name", "nodeIds[2]") and graph places
  // ("nodes[3].data.temperature") alike; [] when the server gave none.
  get fieldErrors() {
    if (this.body && Array.isArray(this.body.errors)) return this.body.errors;
    return [];
  }
}

function describeError(status, body) {
  if (body && typeof body === "object") {
    // Every API error has a detail; a 400's names its first problem ("name: This field is required.").
    if (typeof body.detail === "string") return body.detail;
  }
  if (status === 0) return "The server could not be reached. Check your connection and try again.";
  return `The server answered ${status}.`;
}

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

// Every request of every page goes through here. A FormData body is sent as multipart (uploads).
export async function request(method, url, body) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin" };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = csrfToken();
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(0, null);
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: text.slice(0, 200) };
    }
  }
  if (response.status === 401) {
    // The session ended (logged out in another tab, or expired): log in again and come back here.
    window.location.assign(`/accounts/login/?next=${encodeURIComponent(window.location.pathname)}`);
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// Multipart upload of one image file: POST /api/uploads -> {id, url, width, height, ...}.
function uploadImage(file) {
  const body = new FormData();
  body.append("file", file);
  return request("POST", "/api/uploads", body);
}

export const api = {
  uploadImage,
  uploadContentUrl: (id) => `/api/uploads/${id}/content`,
  nodeKinds: () => request("GET", "/api/node-kinds"),
  portTypes: () => request("GET", "/api/port-types"),
  listWorkflows: (params = {}) => request("GET", `/api/workflows${query(params)}`),
  getWorkflow: (id) => request("GET", `/api/workflows/${id}`),
  createWorkflow: (body) => request("POST", "/api/workflows", body),
  updateWorkflow: (id, body) => request("PUT", `/api/workflows/${id}`, body),
  deleteWorkflow: (id) => request("DELETE", `/api/workflows/${id}`),
  duplicateWorkflow: (id) => request("POST", `/api/workflows/${id}/duplicate`),
  importWorkflow: (body) => request("POST", "/api/workflows/import", body),
  listTemplates: () => request("GET", "/api/workflow-templates"),
  createFromTemplate: (template) => request("POST", "/api/workflows/from-template", { template }),
  exportUrl: (id) => `/api/workflows/${id}/export`,
  listVersions: (id) => request("GET", `/api/workflows/${id}/versions`),
  getVersion: (id, number) => request("GET", `/api/workflows/${id}/versions/${number}`),
  restoreVersion: (id, number) => request("POST", `/api/workflows/${id}/versions/${number}/restore`),
  publishWorkflow: (id, version) => request("POST", `/api/workflows/${id}/publish`, version ? { version } : {}),
  unpublishWorkflow: (id) => request("DELETE", `/api/workflows/${id}/publish`),
  getWorkflowTool: (id) => request("GET", `/api/workflows/${id}/mcp`),
  putWorkflowTool: (id, body) => request("PUT", `/api/workflows/${id}/mcp`, body),
  execute: (body) => request("POST", "/api/execute", body),
  planExecution: (body) => request("POST", "/api/execute/plan", body),
  listRuns: (params = {}) => request("GET", `/api/runs${query(params)}`),
  getRun: (id) => request("GET", `/api/runs/${id}`),
  // `url` is a run's logsNext or a log page's next: an absolute URL the server built.
  getLogPage: (url) => request("GET", url),
  // `url` is an approvals page's next, likewise.
  getApprovalPage: (url) => request("GET", url),
  runEventsUrl: (id) => `/api/runs/${id}/events`,
  cancelRun: (id) => request("POST", `/api/runs/${id}/cancel`),
  rerun: (id) => request("POST", `/api/runs/${id}/rerun`),
  nodeOutputUrl: (runId, nodeId) => `/api/runs/${runId}/nodes/${encodeURIComponent(nodeId)}/output`,
  resumeRun: (id) => request("POST", `/api/runs/${id}/resume`),
  listApprovals: (params = {}) => request("GET", `/api/approvals${query(params)}`),
  // body: {decision: "approve" | "reject", comment}
  decideApproval: (runId, nodeId, body) =>
    request("POST", `/api/runs/${runId}/approvals/${encodeURIComponent(nodeId)}`, body),
  usage: (params = {}) => request("GET", `/api/usage${query(params)}`),
  listModels: () => request("GET", "/api/models"),
  listConnections: () => request("GET", "/api/connections?limit=100"),
  createConnection: (body) => request("POST", "/api/connections", body),
  deleteConnection: (id) => request("DELETE", `/api/connections/${id}`),
  testConnection: (id) => request("POST", `/api/connections/${id}/test`),
  listConnectionTools: (id, refresh = false) =>
    request("GET", `/api/connections/${id}/tools${refresh ? "?refresh=true" : ""}`),
  listDatasets: () => request("GET", "/api/datasets?limit=100"),
  createDataset: (body) => request("POST", "/api/datasets", body),
  // rows: a JSON list of rows, or a File (CSV or JSONL) sent as multipart.
  addDatasetRows: (id, rows) => {
    if (!(rows instanceof File)) return request("POST", `/api/datasets/${id}/rows`, { rows });
    const body = new FormData();
    body.append("file", rows);
    return request("POST", `/api/datasets/${id}/rows`, body);
  },
  datasetRows: (id) => request("GET", `/api/datasets/${id}/rows?limit=20`),
  listExperiments: (workflowId) => request("GET", `/api/experiments?workflowId=${workflowId}&limit=100`),
  planExperiment: (body) => request("POST", "/api/experiments/plan", body),
  startExperiment: (body) => request("POST", "/api/experiments", body),
  getExperiment: (id) => request("GET", `/api/experiments/${id}`),
  experimentItems: (id, params = {}) => request("GET", `/api/experiments/${id}/items${query({ limit: 100, ...params })}`),
  cancelExperiment: (id) => request("POST", `/api/experiments/${id}/cancel`),
  compareExperiments: (a, b) => request("GET", `/api/experiments/compare${query({ a, b })}`),
  versionDiff: (id, from, to) => request("GET", `/api/workflows/${id}/diff${query({ from, to })}`),
  listTokens: () => request("GET", "/api/tokens"),
  createToken: (name) => request("POST", "/api/tokens", { name }),
  revokeToken: (id) => request("DELETE", `/api/tokens/${id}`),
};
