// Dropping image files onto the canvas: each becomes a node of the first kind that holds an image (its
// catalog entry has `imageSource`: the Image kind) where it was dropped.

import { api } from "../api.js";
import { toast } from "../ui.js";
import { addKind } from "./edits.js";

export function acceptImageDrops(editor) {
  const root = editor.canvas.root;
  const hasFiles = (event) => [...(event.dataTransfer ? event.dataTransfer.types : [])].includes("Files");
  root.addEventListener("dragover", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    root.classList.add("is-drop-target");
  });
  root.addEventListener("dragleave", () => root.classList.remove("is-drop-target"));
  root.addEventListener("drop", async (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    root.classList.remove("is-drop-target");
    const images = [...event.dataTransfer.files].filter((file) => editor.boot.imageTypes.includes(file.type));
    const kind = editor.state.catalog.kinds.find((candidate) => candidate.imageSource);
    if (!images.length || !kind) {
      toast(`Only images (${editor.boot.imageTypes.join(", ")}) can be dropped on the canvas.`, "error");
      return;
    }
    const at = editor.canvas.clientToWorld(event.clientX, event.clientY);
    for (const [index, file] of images.entries()) {
      try {
        const stored = await api.uploadImage(file);
        const label = file.name.replace(/\.[^.]+$/, "").slice(0, 80);
        const { upload, url } = kind.imageSource;
        addKind(editor, kind.type, { x: at.x - 20 + index * 30, y: at.y - 16 + index * 30 }, { [upload]: stored.id, [url]: null, label });
      } catch (error) {
        toast(`Could not upload ${file.name}: ${error.message}`, "error");
      }
    }
  });
}
