// Strict JSON (docs/record-format.md §Encoding, rule J1): an object that repeats a key is
// refused, at any depth. `JSON.parse` keeps the last of two equal keys while the Rust decoders
// refuse them, so one hashed line could otherwise be read two ways (review 19-stations-ballot-v2
// L2). Every JSON text the voter app's crypto reads goes through `parseJson`.

import { DecodeError } from './group.js';

/** Parses JSON text; throws DecodeError if it is not JSON or if any object repeats a key. */
export function parseJson(text, what = 'JSON') {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    throw new DecodeError(`${what}: not valid JSON`);
  }
  // The text is valid JSON: walk its tokens only to compare each object's keys.
  const repeated = firstRepeatedKey(text);
  if (repeated !== null) throw new DecodeError(`${what}: the key ${JSON.stringify(repeated)} repeats in an object`);
  return value;
}

// The first key that repeats within one object of valid JSON text, or null.
function firstRepeatedKey(text) {
  const stack = []; // per open container: a Set of keys (object) or null (array)
  let expectKey = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)); // decodes escapes: "t\u0079pe" is "type"
        const keys = stack[stack.length - 1];
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = j;
    } else if (ch === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (ch === '[') {
      stack.push(null);
    } else if (ch === '}' || ch === ']') {
      stack.pop();
    } else if (ch === ',') {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
  }
  return null;
}
