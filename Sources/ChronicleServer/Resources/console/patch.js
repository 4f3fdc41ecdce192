// JSON Patch (RFC 6902) for the timeline: apply the patches the server computed, one event
// at a time, so each change can be shown with the value it replaced.

const decode = (token) => token.replace(/~1/g, "/").replace(/~0/g, "~");

/** The tokens of a JSON Pointer (`/a/b~1c` → `["a", "b/c"]`). */
export function pointerTokens(pointer) {
  return pointer === "" ? [] : pointer.split("/").slice(1).map(decode);
}

/** The value at a pointer, or `undefined`. */
export function valueAt(document, pointer) {
  let value = document;
  for (const token of pointerTokens(pointer)) {
    if (value === null || typeof value !== "object") return undefined;
    value = Array.isArray(value) ? value[token === "-" ? value.length : Number(token)] : value[token];
  }
  return value;
}

function setAt(document, pointer, value, insert) {
  const tokens = pointerTokens(pointer);
  if (tokens.length === 0) return structuredClone(value);
  let parent = document;
  for (const token of tokens.slice(0, -1)) parent = Array.isArray(parent) ? parent[Number(token)] : parent[token];
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) {
    const index = last === "-" ? parent.length : Number(last);
    if (insert) parent.splice(index, 0, structuredClone(value)); else parent[index] = structuredClone(value);
  } else {
    parent[last] = structuredClone(value);
  }
  return document;
}

function removeAt(document, pointer) {
  const tokens = pointerTokens(pointer);
  if (tokens.length === 0) return undefined;
  let parent = document;
  for (const token of tokens.slice(0, -1)) parent = Array.isArray(parent) ? parent[Number(token)] : parent[token];
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) parent.splice(Number(last), 1); else delete parent[last];
  return document;
}

/** Applies a patch to a copy of `document`; answers the new document. */
export function applyPatch(document, patch) {
  let result = structuredClone(document);
  for (const operation of patch) {
    switch (operation.op) {
      case "add": result = setAt(result, operation.path, operation.value, true); break;
      case "replace": result = setAt(result, operation.path, operation.value, false); break;
      case "remove": result = removeAt(result, operation.path); break;
      case "move": {
        const value = valueAt(result, operation.from);
        result = setAt(removeAt(result, operation.from), operation.path, value, true);
        break;
      }
      case "copy": result = setAt(result, operation.path, valueAt(result, operation.from), true); break;
      default: break;
    }
  }
  return result;
}

/** Each operation of `patch` as a readable line, with the value it replaced in `before`:
 * `{ kind: "added" | "removed" | "changed" | "moved", path, before, after }`. */
export function describePatch(before, patch) {
  const lines = [];
  let current = before;
  for (const operation of patch) {
    const path = operation.path === "" ? "(whole state)" : operation.path;
    const old = valueAt(current, operation.path);
    switch (operation.op) {
      case "add": lines.push({ kind: old === undefined ? "added" : "changed", path, before: old, after: operation.value }); break;
      case "replace": lines.push({ kind: "changed", path, before: old, after: operation.value }); break;
      case "remove": lines.push({ kind: "removed", path, before: old }); break;
      case "move": lines.push({ kind: "moved", path, before: operation.from, after: valueAt(current, operation.from) }); break;
      case "copy": lines.push({ kind: "added", path, after: valueAt(current, operation.from) }); break;
      default: lines.push({ kind: "changed", path, after: operation });
    }
    current = applyPatch(current, [operation]);
  }
  return lines;
}
