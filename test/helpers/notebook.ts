/**
 * Runs a Jupyter notebook top to bottom with nbclient, in the stack's Python venv (where
 * `stack.sh up` installs bash_kernel, nbclient and jupyterlab and registers the bash kernel
 * with `--sys-prefix`). The stored notebook is only read; the executed copy goes to
 * `outPath`.
 */
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'

/** One notebook cell as nbformat 4 stores it. */
export interface NotebookCell {
  id?: string
  cell_type: 'code' | 'markdown' | 'raw'
  source: string | string[]
  metadata: Record<string, unknown>
  execution_count?: number | null
  outputs?: unknown[]
}

export interface Notebook {
  nbformat: number
  nbformat_minor: number
  metadata: {
    kernelspec?: { name?: string; display_name?: string; language?: string }
    language_info?: { name?: string }
  }
  cells: NotebookCell[]
}

export const cellSource = (cell: Pick<NotebookCell, 'source'>) =>
  Array.isArray(cell.source) ? cell.source.join('') : cell.source

export interface CellRun {
  id: string
  /** from nbclient's execute_input to execute_reply (its record_timing metadata) */
  seconds: number | null
}

export interface NotebookRun {
  ok: boolean
  /** wall time of NotebookClient.execute(), kernel start included */
  seconds: number
  cells: CellRun[]
  /** the first cell that failed: its id, source and text output (ANSI colours removed) */
  failed?: { index: number; id: string; source: string; output: string }
  /** the exception nbclient raised, as text */
  error?: string
}

/** The stack's Python venv (`.stack/run/venv` names it), or why there is none. */
export function stackVenv(stateDir: string): { python: string } | { missing: string } {
  const recorded = join(stateDir, 'run', 'venv')
  const venv = existsSync(recorded) ? readFileSync(recorded, 'utf8').trim() : ''
  if (!venv) return { missing: `no ${recorded}: run \`npm run stack:up\` first` }
  const python = join(venv, 'bin', 'python')
  const kernel = join(venv, 'share', 'jupyter', 'kernels', 'bash', 'kernel.json')
  if (!existsSync(python)) return { missing: `no ${python}: run \`npm run stack:up\`` }
  if (!existsSync(kernel))
    return {
      missing: `the bash kernel is not registered in ${venv} (no ${kernel}): run \`npm run stack:up\``,
    }
  return { python }
}

// Executes argv[1] with its folder argv[3] as the working directory and argv[4] s per cell,
// writes the executed notebook to argv[2] and prints one JSON line (a NotebookRun).
const RUNNER = String.raw`
import json, re, sys, time
import nbformat
from nbclient import NotebookClient

src, out, cwd, timeout = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
nb = nbformat.read(src, as_version=4)
client = NotebookClient(
    nb, kernel_name="bash", timeout=timeout, resources={"metadata": {"path": cwd}}
)
ansi = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

def text(cell):
    parts = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream":
            parts.append(o.get("text", ""))
        elif o.get("output_type") == "error":
            parts.append("[the cell ended with exit status %s]\n" % o.get("evalue"))
        elif "data" in o:
            parts.append(o["data"].get("text/plain", "<%s>" % ",".join(o["data"])))
    return ansi.sub("", "".join(parts))

def seconds(cell):
    ex = cell.get("metadata", {}).get("execution", {})
    a, b = ex.get("iopub.execute_input"), ex.get("shell.execute_reply")
    if not (a and b):
        return None
    from datetime import datetime
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
    return round((parse(b) - parse(a)).total_seconds(), 2)

report = {"ok": True}
start = time.monotonic()
try:
    client.execute()
except BaseException as e:
    report["ok"] = False
    report["error"] = "%s: %s" % (type(e).__name__, e)
report["seconds"] = round(time.monotonic() - start, 2)
report["cells"] = [
    {"id": c.get("id", str(i)), "seconds": seconds(c)}
    for i, c in enumerate(nb.cells)
    if c.cell_type == "code"
]
for i, c in enumerate(nb.cells):
    failed = c.cell_type == "code" and any(
        o.get("output_type") == "error" for o in c.get("outputs", [])
    )
    if failed:
        report["ok"] = False
        report["failed"] = {
            "index": i, "id": c.get("id", str(i)), "source": c.source, "output": text(c)
        }
        break
if not report["ok"] and "failed" not in report:
    # a timeout or a dead kernel: the last cell that started
    ran = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("execution_count")]
    if ran:
        c = nb.cells[ran[-1]]
        report["failed"] = {
            "index": ran[-1], "id": c.get("id", str(ran[-1])), "source": c.source, "output": text(c)
        }
nbformat.write(nb, out)
print(json.dumps(report))
`

/**
 * Executes `notebook` with the bash kernel, its folder as the working directory, `env` on top
 * of this process's environment. Resolves with the run's report (it does not throw when a
 * cell fails); rejects when the runner itself cannot start or says nothing.
 */
export async function runNotebook(opts: {
  python: string
  notebook: string
  outPath: string
  env: Record<string, string>
  cellTimeoutSeconds: number
  /** the whole run is killed after this long */
  limitMs: number
  /** called with the child's pid once it runs (to stop it from a teardown) */
  onSpawn?: (kill: () => void) => void
}): Promise<NotebookRun & { stderr: string }> {
  await mkdir(dirname(opts.outPath), { recursive: true })
  const args = [
    '-c',
    RUNNER,
    opts.notebook,
    opts.outPath,
    dirname(opts.notebook),
    String(opts.cellTimeoutSeconds),
  ]
  const child = spawn(opts.python, args, {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
  }
  opts.onSpawn?.(kill)
  const timer = setTimeout(kill, opts.limitMs)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (c) => resolve(c))
  }).finally(() => clearTimeout(timer))
  const last = stdout.trim().split('\n').pop() ?? ''
  let report: NotebookRun
  try {
    report = JSON.parse(last) as NotebookRun
  } catch {
    throw new Error(
      `the notebook runner (${opts.python}) exited ${code} without a report` +
        `\n--- stdout\n${stdout.slice(-4000)}\n--- stderr\n${stderr.slice(-4000)}`,
    )
  }
  return { ...report, stderr }
}
