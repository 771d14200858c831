/**
 * Every relative link in README.md and docs/**\/*.md resolves: the file (or folder) exists,
 * and a `#anchor` names a heading of the target page, by GitHub's slug rules.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import t from 'tap'

export const PAGES = [
  'README.md',
  ...readdirSync('docs', { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.md'))
    .map((e) => join(e.parentPath, e.name)),
]

/** A page's lines, those of fenced code blocks blanked (line numbers stay). */
function prose(text: string): string[] {
  let fenced = false
  return text.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced
      return ''
    }
    return fenced ? '' : line
  })
}

/**
 * GitHub's heading anchor (github-slugger): the heading's text without markup, lower
 * case, every character but letters, digits, marks, spaces, `-` and `_` removed, each
 * space a `-`; a repeated slug gets `-1`, `-2`, … in page order.
 */
export function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[`*]/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
    .replace(/ /g, '-')
}

export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>()
  const result = new Set<string>()
  for (const line of prose(text)) {
    const m = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line)
    if (!m) continue
    const base = slug(m[1]!)
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    result.add(n === 0 ? base : `${base}-${n}`)
  }
  return result
}

/** Inline links `[text](target)` of a page's prose (not in code), with their line. */
function links(text: string): { target: string; line: number }[] {
  const found: { target: string; line: number }[] = []
  prose(text).forEach((raw, i) => {
    const line = raw.replace(/`[^`]*`/g, '')
    for (const m of line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g))
      found.push({ target: m[1]!, line: i + 1 })
  })
  return found
}

t.test('the slug rules', async (t) => {
  t.equal(slug('Batch scoring (`jobs/score.py`)'), 'batch-scoring-jobsscorepy')
  t.equal(slug('The fault suite — `npm run chaos`'), 'the-fault-suite--npm-run-chaos')
  t.equal(slug('SPARKGATE_HOST'), 'sparkgate_host')
  t.same([...anchors('# A\n## A\n```\n# not a heading\n```\n### A')], ['a', 'a-1', 'a-2'])
})

t.test('every relative link in README.md and docs/ resolves', async (t) => {
  t.ok(PAGES.length > 5, 'README and the docs pages')
  for (const page of PAGES) {
    for (const { target, line } of links(readFileSync(page, 'utf8'))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue // http:, https:, mailto:
      const [path = '', anchor] = target.split('#')
      const file = path ? normalize(join(dirname(page), decodeURI(path))) : page
      const where = `${page} line ${line}: ${target}`
      if (!existsSync(file)) {
        t.fail(`${where}: no such file ${file}`)
        continue
      }
      if (anchor === undefined) continue
      if (!file.endsWith('.md')) {
        t.fail(`${where}: an anchor into a file that is not markdown`)
        continue
      }
      t.ok(anchors(readFileSync(file, 'utf8')).has(anchor), `${where}: heading #${anchor}`)
    }
  }
})
