// Undo and redo: a bounded stack of graph snapshots. Pure: it stores whatever state it is given.

export class History {
  constructor(limit = 200) {
    this.limit = limit;
    this.past = [];
    this.future = [];
  }

  // Call before applying an edit, with the state the edit starts from.
  record(before) {
    this.past.push(freeze(before));
    if (this.past.length > this.limit) this.past.shift();
    this.future = [];
  }

  get canUndo() {
    return this.past.length > 0;
  }

  get canRedo() {
    return this.future.length > 0;
  }

  // Returns the state to show, or null when there is nothing to undo.
  undo(current) {
    if (!this.past.length) return null;
    this.future.push(freeze(current));
    return thaw(this.past.pop());
  }

  redo(current) {
    if (!this.future.length) return null;
    this.past.push(freeze(current));
    return thaw(this.future.pop());
  }

  clear() {
    this.past = [];
    this.future = [];
  }
}

// Snapshots are stored as JSON text so that later edits can never reach into them.
function freeze(state) {
  return JSON.stringify(state);
}

function thaw(text) {
  return JSON.parse(text);
}
