// What both sandbox scripts share: reading the one job from stdin, printing with a cap, writing the answer.
// The parent (engine/sandbox/process.py) reads "ready" once the sandbox is loaded, sends one JSON job line,
// and takes the last line of stdout as the answer; the process runs one job and exits.

const encoder = new TextEncoder();
const stdout = Deno.stdout;
const stdin = Deno.stdin;

export function writeLine(text) {
  const bytes = encoder.encode(text + "\n");
  let written = 0;
  while (written < bytes.length) written += stdout.writeSync(bytes.subarray(written));
}

export async function readJob() {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stdin.readable) {
    text += decoder.decode(chunk, { stream: true });
    const end = text.indexOf("\n");
    if (end >= 0) return JSON.parse(text.slice(0, end));
  }
  return JSON.parse(text);
}

// Collects what the user's code prints, up to `limit` UTF-8 bytes; past it `overflow` is set and the
// write throws, which ends a printing loop.
export class Printed {
  constructor(limit) {
    this.limit = limit;
    this.size = 0;
    this.parts = [];
    this.overflow = false;
  }

  add(text) {
    this.size += encoder.encode(text).length;
    if (this.size > this.limit) {
      this.overflow = true;
      throw new RangeError(`printed more than ${this.limit} bytes`);
    }
    this.parts.push(text);
  }

  text() {
    return this.parts.join("");
  }
}
