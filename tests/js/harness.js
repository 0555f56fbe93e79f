// A tiny test harness for the pure ES modules in static/js, run inside Chromium by tests/browser/test_js_units.py.

const tests = [];

export function test(name, fn) {
  tests.push({ name, fn });
}

export function assert(condition, message = "assertion failed") {
  if (!condition) throw new Error(message);
}

export function equal(actual, expected, message = "") {
  const a = JSON.stringify(actual);
  const b = JSON.stringify(expected);
  if (a !== b) throw new Error(`${message ? `${message}: ` : ""}expected ${b}, got ${a}`);
}

export function throws(fn, pattern, message = "") {
  try {
    fn();
  } catch (error) {
    if (pattern && !pattern.test(error.message)) {
      throw new Error(`${message}: error "${error.message}" does not match ${pattern}`);
    }
    return error;
  }
  throw new Error(`${message || "expected an error"}: nothing was thrown`);
}

export async function run() {
  const results = [];
  for (const { name, fn } of tests) {
    try {
      await fn();
      results.push({ name, ok: true });
    } catch (error) {
      results.push({ name, ok: false, error: String(error && error.stack ? error.stack : error) });
    }
  }
  return results;
}

export function node(id, type, data = {}, position = { x: 0, y: 0 }) {
  return { id, type, position, data };
}
