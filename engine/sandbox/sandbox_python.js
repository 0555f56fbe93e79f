// One Python execution: Pyodide (CPython compiled to WebAssembly) inside a Deno process that may read only
// Pyodide's own folder. Loads, says "ready", runs the job's `main(inputs)` once and answers (see protocol.js).
import { Printed, readJob, writeLine } from "./protocol.js";

// Runs inside Pyodide. The user's code is compiled as "<code>", so its frames are told from the harness's.
const HARNESS = String.raw`
import json, linecache, sys, traceback

class PrintLimit(Exception):
    pass

class Printed:
    def __init__(self, add):
        self.add = add
    def write(self, text):
        try:
            self.add(text)
        except Exception:
            raise PrintLimit("printed more than the limit") from None
        return len(text)
    def flush(self):
        pass
    def isatty(self):
        return False

def user_traceback(error, code):
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == "<code>"]
    line = frames[-1].lineno if frames else None
    if isinstance(error, SyntaxError) and error.filename == "<code>":
        line = error.lineno
    text = "".join(["Traceback (most recent call last):\n", *traceback.format_list(frames)] if frames else [])
    text += "".join(traceback.format_exception_only(error))
    return {"error": "error", "traceback": text.rstrip(), "line": line}

def run(code, inputs_json, add):
    linecache.cache["<code>"] = (len(code), None, code.splitlines(True), "<code>")
    sys.stdout = sys.stderr = Printed(add)
    namespace = {"__name__": "__main__"}
    try:
        exec(compile(code, "<code>", "exec"), namespace)
        main = namespace.get("main")
        if not callable(main):
            raise TypeError("define a function main(inputs) that returns a JSON value")
        value = main(json.loads(inputs_json))
    except PrintLimit:
        return json.dumps({"error": "output_limit"})
    except MemoryError:
        return json.dumps({"error": "memory"})
    except BaseException as error:
        return json.dumps(user_traceback(error, code))
    finally:
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    try:
        return json.dumps({"ok": True, "json": json.dumps(value, ensure_ascii=False, allow_nan=False)})
    except (TypeError, ValueError) as error:
        return json.dumps({"error": "error", "traceback": f"main returned a value that is not JSON: {error}", "line": None})
`;

const indexURL = Deno.args[0];
const { loadPyodide } = await import(`file://${indexURL}/pyodide.mjs`);
const pyodide = await loadPyodide({ indexURL, stdout: () => {}, stderr: () => {} });
const run = pyodide.runPython(`${HARNESS}\nrun`);

writeLine("ready");
const job = await readJob();
const printed = new Printed(job.maxPrintBytes);
// Output that goes around sys.stdout (to sys.__stdout__) counts against the same limit and is kept too.
pyodide.setStdout({ batched: (line) => printed.overflow || printed.add(line + "\n") });
pyodide.setStderr({ batched: (line) => printed.overflow || printed.add(line + "\n") });
let answer;
try {
  answer = JSON.parse(run(job.code, JSON.stringify(job.inputs), (text) => printed.add(text)));
} catch (error) {
  // The WebAssembly runtime itself failed (the code broke Pyodide's own state, or it ran out of memory).
  const memory = /memory|allocation/i.test(String(error));
  answer = memory ? { error: "memory" } : { error: "error", traceback: `the Python runtime stopped: ${String(error).slice(0, 500)}`, line: null };
}
if (printed.overflow) answer = { error: "output_limit" };
answer.printed = printed.text();
writeLine(JSON.stringify(answer));
Deno.exit(0);
