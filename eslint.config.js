// The one lint and format authority (STYLE.md, "Tooling"): neostandard, i.e. standard style (no semicolons,
// two spaces, single quotes, a space before function parens), with its TypeScript support switched on.
// Rules stay as neostandard ships them; any rule turned off below says why.
import neostandard from 'neostandard'

export default neostandard({
  ts: true,
  // The project has no JSX; this also keeps neostandard from adding **/*.jsx to the files it looks for.
  noJsx: true,
  // What is linted: every .ts under src/, lab/, bench/ and test/, plus this file (the only .js in the repo).
  // Generated or local-only output is not ours to lint.
  ignores: ['.cache/**', 'bench/results/**', 'data/**', '**/node_modules/**'],
})
