/**
 * Just enough of the Dockerfile and .dockerignore formats to check the repository's own files against the
 * Kubernetes manifests (no Docker daemon needed): instructions with their continuation lines joined, the JSON
 * (exec) form of arguments, and .dockerignore's match rule for the plain names and `*` it uses.
 */

export interface Instruction {
  /** Upper case: FROM, RUN, COPY, ... */
  readonly name: string
  /** The rest of the instruction, continuation lines joined with a space. */
  readonly args: string
  readonly line: number
}

export function parseDockerfile (text: string): Instruction[] {
  const out: Instruction[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const start = i
    let line = lines[i]!.trim()
    if (line === '' || line.startsWith('#')) continue
    while (line.endsWith('\\') && i + 1 < lines.length) {
      const next = lines[++i]!.trim()
      line = line.slice(0, -1).trimEnd() + (next.startsWith('#') ? '' : ' ' + next)
    }
    const m = /^(\S+)\s*(.*)$/.exec(line)!
    out.push({ name: m[1]!.toUpperCase(), args: m[2]!, line: start + 1 })
  }
  return out
}

/** The arguments of an exec-form instruction (`["a", "b"]`); throws, naming the line, for the shell form. */
export function execForm (i: Instruction): string[] {
  const parsed: unknown = JSON.parse(i.args)
  if (!Array.isArray(parsed) || !parsed.every(a => typeof a === 'string')) throw new Error(`line ${i.line}: ${i.name} is not in exec form: ${i.args}`)
  return parsed
}

/** `KEY=value KEY2=value2` (ENV, ARG) without quotes, as this Dockerfile writes them. */
export function assignments (args: string): Map<string, string> {
  return new Map(args.split(/\s+/).filter(a => a !== '').map(a => {
    const at = a.indexOf('=')
    return at < 0 ? [a, ''] : [a.slice(0, at), a.slice(at + 1)]
  }))
}

/** The instructions of the last stage, the image that runs. */
export function finalStage (instructions: readonly Instruction[]): Instruction[] {
  const from = instructions.map(i => i.name).lastIndexOf('FROM')
  return instructions.slice(from)
}

const glob = (pattern: string): RegExp =>
  new RegExp('^' + pattern.split('*').map(part => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*') + '$')

/**
 * Whether `.dockerignore` leaves `path` (relative, `/`-separated) out of the build context: the last pattern
 * that matches the path or one of its parent folders decides, `!` taking it back in (Docker's rule).
 */
export function ignored (dockerignore: string, path: string): boolean {
  const patterns = dockerignore.split('\n').map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#'))
  const parts = path.split('/')
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'))
  let out = false
  for (const p of patterns) {
    const negated = p.startsWith('!')
    const re = glob((negated ? p.slice(1) : p).replace(/\/+$/, ''))
    if (prefixes.some(prefix => re.test(prefix))) out = !negated
  }
  return out
}
