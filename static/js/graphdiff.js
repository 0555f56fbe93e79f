// A version diff (GET /api/workflows/{id}/diff, engine/diff.py) as lines a person reads: nodes by their
// labels, never their ids. The Versions tab and the Experiments compare view both show it; `brief(value)`,
// when given, adds each changed field's old and new values.

export function diffLines(diff, { brief = null } = {}) {
  const name = (id) => (diff.labels && diff.labels[id]) || id;
  const lines = [
    ...diff.nodes.added.map((node) => `Added ${name(node.id)} (${node.type})`),
    ...diff.nodes.changed.flatMap((node) =>
      node.fields.map((field) =>
        brief
          ? `Changed ${name(node.id)} ${field.field}: ${brief(field.old)} → ${brief(field.new)}`
          : `Changed ${name(node.id)}: ${field.field}`,
      ),
    ),
    ...diff.nodes.removed.map((node) => `Removed ${name(node.id)} (${node.type})`),
    ...diff.edges.added.map((edge) => `Connected ${name(edge.source)} → ${name(edge.target)}`),
    ...diff.edges.removed.map((edge) => `Disconnected ${name(edge.source)} → ${name(edge.target)}`),
  ];
  for (const [key, what] of [["notes", "sticky note"], ["groups", "group"]]) {
    const changes = diff[key];
    if (!changes) continue;
    for (const verb of ["added", "changed", "removed"]) {
      const count = changes[verb].length;
      if (count) lines.push(`${count} ${what}${count === 1 ? "" : "s"} ${verb}`);
    }
  }
  return lines;
}
