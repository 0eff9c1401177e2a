/**
 * The top-level keys of one JSON object text, in order and with repeats: JSON.parse keeps only the last of a
 * repeated key, so a duplicate cannot be seen after parsing. Assumes valid JSON (each line is parsed too).
 */
export function topLevelKeys (json: string): string[] {
  const keys: string[] = []
  let depth = 0
  // At depth 1, the next string is a key (after `{` or a `,`), else a value.
  let expectKey = false
  for (let i = 0; i < json.length; i++) {
    const c = json[i]
    if (c === '"') {
      let j = i + 1
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1
      if (depth === 1 && expectKey) keys.push(JSON.parse(json.slice(i, j + 1)) as string)
      expectKey = false
      i = j
    } else if (c === '{' || c === '[') {
      depth++
      expectKey = depth === 1 && c === '{'
    } else if (c === '}' || c === ']') {
      depth--
    } else if (c === ',' && depth === 1) {
      expectKey = true
    }
  }
  return keys
}

/** The keys that occur more than once at the top level of a JSON object text. */
export function repeatedKeys (json: string): string[] {
  const keys = topLevelKeys(json)
  return [...new Set(keys.filter((k, i) => keys.indexOf(k) !== i))]
}
