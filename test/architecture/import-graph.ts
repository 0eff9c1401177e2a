import { readdirSync, readFileSync } from 'node:fs'
import { posix } from 'node:path'
import ts from 'typescript'

/**
 * The import graph of src/, for the boundary check in boundaries.ts. Imports are found with TypeScript's own
 * parser rather than a regular expression, so an import split over lines, a type-position `import('./x.ts')`
 * or an `import` inside a comment or a string is read the way tsc and Node read it.
 */

/** One import of one file, as written, with the file it names when the specifier is a path. */
export interface Import {
  readonly specifier: string
  /** Repo-relative path (`src/model/stamp.ts`, `lab/lab.ts`) for a path specifier; undefined for a package. */
  readonly file: string | undefined
  /** 1-based line of the import statement or call, for the message. */
  readonly line: number
  /** `import type`, `export type`, `import { type A }` or `import('./x.ts').T`: reported, and judged the same. */
  readonly typeOnly: boolean
}

/** Every file under src/ (repo-relative path) and its imports in source order. */
export type ImportGraph = ReadonlyMap<string, readonly Import[]>

type Found = Omit<Import, 'file'>

const literal = (node: ts.Node | undefined): string | undefined =>
  node !== undefined && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : undefined

const allTypes = (elements: ts.NodeArray<ts.ImportSpecifier | ts.ExportSpecifier>): boolean =>
  elements.length > 0 && elements.every(e => e.isTypeOnly)

function typeOnlyImport (clause: ts.ImportClause | undefined): boolean {
  if (clause === undefined) return false
  if (clause.isTypeOnly) return true
  const named = clause.namedBindings
  return clause.name === undefined && named !== undefined && ts.isNamedImports(named) && allTypes(named.elements)
}

/**
 * The static imports and re-exports of one source text, plus `import('literal')`, `import x = require('...')`
 * and `require('literal')` (what `createRequire` hands back loads modules too). `declare module 'x'` declares a
 * module, it does not import one.
 */
export function importsOf (fileName: string, source: string): Found[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const found: Found[] = []
  const add = (at: ts.Node, specifier: string | undefined, typeOnly: boolean): void => {
    if (specifier === undefined) return
    found.push({ specifier, line: sf.getLineAndCharacterOfPosition(at.getStart(sf)).line + 1, typeOnly })
  }
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      add(node, literal(node.moduleSpecifier), typeOnlyImport(node.importClause))
    } else if (ts.isExportDeclaration(node)) {
      const clause = node.exportClause
      add(node, literal(node.moduleSpecifier), node.isTypeOnly || (clause !== undefined && ts.isNamedExports(clause) && allTypes(clause.elements)))
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, literal(node.moduleReference.expression), node.isTypeOnly)
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, literal(node.argument.literal), true)
    } else if (ts.isCallExpression(node) && node.arguments.length >= 1) {
      const callee = node.expression
      const loads = callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')
      if (loads) add(node, literal(node.arguments[0]), false)
    }
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return found
}

/**
 * The repo-relative file a path specifier names, seen from `from`. Specifiers carry their `.ts` extension in
 * this project (Node runs the sources by type stripping), so the joined path is the file; the `.ts` and
 * `/index.ts` fallbacks only matter for a specifier Node itself would reject.
 */
export function resolveFile (from: string, specifier: string, known: ReadonlySet<string>): string {
  const joined = specifier.startsWith('/') ? specifier : posix.normalize(posix.join(posix.dirname(from), specifier))
  if (known.has(joined)) return joined
  return [`${joined}.ts`, `${joined}/index.ts`].find(c => known.has(c)) ?? joined
}

const isPath = (specifier: string): boolean => specifier.startsWith('.') || specifier.startsWith('/')

/** The graph of source texts keyed by repo-relative path: pure, so tests can build one in memory. */
export function graphOf (sources: ReadonlyMap<string, string>): ImportGraph {
  const known = new Set(sources.keys())
  const graph = new Map<string, Import[]>()
  for (const [file, source] of [...sources].sort(([a], [b]) => a.localeCompare(b))) {
    graph.set(file, importsOf(file, source).map(i => ({
      ...i,
      file: isPath(i.specifier) ? resolveFile(file, i.specifier, known) : undefined
    })))
  }
  return graph
}

function tsFilesUnder (root: string, dir: string): string[] {
  return readdirSync(posix.join(root, dir), { withFileTypes: true }).flatMap(e => {
    const path = posix.join(dir, e.name)
    if (e.isDirectory()) return tsFilesUnder(root, path)
    return e.isFile() && e.name.endsWith('.ts') ? [path] : []
  })
}

/** Reads every .ts file under `<root>/src` (declaration files included) and returns its graph. */
export function readSrcGraph (root: string): ImportGraph {
  return graphOf(new Map(tsFilesUnder(root, 'src').map(f => [f, readFileSync(posix.join(root, f), 'utf8')])))
}
