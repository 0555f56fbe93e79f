// One JavaScript execution in a Deno process that has no permission at all: loads, says "ready", runs the
// job's `main(inputs)` once and answers with its JSON (see protocol.js).
import { Printed, readJob, writeLine } from "./protocol.js";

// The user's code is evaluated under this name, so that its stack frames are told from the harness's.
const SOURCE = "code.js";
// A frame of it reads "at main (code.js, <anonymous>:2:9)".
const FRAME = new RegExp(`${SOURCE.replace(".", "\\.")}[^:]*:(\\d+):(\\d+)`);
const inspect = Deno.inspect;
const stringify = JSON.stringify;

function userTraceback(error) {
  if (!(error instanceof Error)) return { traceback: `Uncaught ${inspect(error)}`, line: null };
  const frames = String(error.stack || "").split("\n").slice(1).filter((frame) => FRAME.test(frame));
  const located = frames.map((frame) => {
    const [, line, column] = frame.match(FRAME);
    const name = frame.trim().match(/^at (\S+) \(/);
    return { text: `    at ${name ? name[1] : "<top level>"} (line ${line}, column ${column})`, line: Number(line) };
  });
  const head = `${error.name}: ${error.message}`;
  return { traceback: [head, ...located.map((frame) => frame.text)].join("\n"), line: located.length ? located[0].line : null };
}

// Deno keeps these on disk; the code gets none of them.
for (const name of ["localStorage", "sessionStorage", "caches"]) delete globalThis[name];

writeLine("ready");
const job = await readJob();
const printed = new Printed(job.maxPrintBytes);
const print = (...values) => printed.add(values.map((value) => (typeof value === "string" ? value : inspect(value))).join(" ") + "\n");
globalThis.console = { log: print, info: print, warn: print, error: print, debug: print, trace: print };

let answer;
try {
  // Indirect eval: the code runs in the global scope, as a script; the appended expression hands back
  // `main` whether it was declared with `function`, `const` or `let`.
  const main = (0, eval)(`${job.code}\n;(typeof main === "function" ? main : undefined)\n//# sourceURL=${SOURCE}`);
  if (typeof main !== "function") throw new TypeError("define a function main(inputs) that returns a JSON value");
  let value = main(job.inputs);
  if (value instanceof Promise) value = await value;
  const json = stringify(value);
  if (json === undefined) throw new TypeError(`main returned ${typeof value}; return a JSON value`);
  answer = { ok: true, json, printed: printed.text() };
} catch (error) {
  if (printed.overflow) answer = { error: "output_limit", printed: printed.text() };
  else if (error instanceof RangeError && /allocation failed|Array buffer allocation/i.test(error.message)) answer = { error: "memory", printed: printed.text() };
  else answer = { error: "error", ...userTraceback(error), printed: printed.text() };
}
writeLine(stringify(answer));
Deno.exit(0);
