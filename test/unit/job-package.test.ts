/**
 * The zip of jobs/sparkgate_jobs/ that training and scoring jobs get as a py-file: the same
 * files give the same bytes (so it is staged once per content), and Python imports the
 * package from it. Python is PYSPARK_PYTHON when set (the stack's venv: the modules that
 * import pyspark are imported too), else python3 (the pyspark-free modules only).
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cp, mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { JOB_PACKAGE_DIR, jobPackage, pythonFiles, storedZip } from '../../src/runs/job-package.js'

const run = promisify(execFile)
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

async function tempDir(t: Test) {
  const dir = await mkdtemp(join(tmpdir(), 'sparkgate-job-package-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

t.test('the same files give the same zip, whatever their times and the clutter', async (t) => {
  const zip = await jobPackage()
  t.equal(sha256(await jobPackage()), sha256(zip), 'built twice: the same bytes')

  const copy = join(await tempDir(t), 'sparkgate_jobs')
  await cp(JOB_PACKAGE_DIR, copy, {
    recursive: true,
    filter: (source) => !source.includes('__pycache__'),
  })
  for (const name of await readdir(copy)) await utimes(join(copy, name), 1e9, 1e9)
  await mkdir(join(copy, '__pycache__'))
  await writeFile(join(copy, '__pycache__', 'spec.cpython-311.pyc'), 'bytecode')
  await writeFile(join(copy, 'notes.txt'), 'not Python')
  t.equal(sha256(await jobPackage(copy)), sha256(zip), 'other times, a __pycache__: same bytes')

  await writeFile(join(copy, 'errors.py'), '# changed\n', { flag: 'a' })
  t.not(sha256(await jobPackage(copy)), sha256(zip), 'other content: other bytes')
})

t.test('the zip holds the package’s .py files, sorted, under sparkgate_jobs/', async (t) => {
  const entries = await pythonFiles(JOB_PACKAGE_DIR, 'sparkgate_jobs')
  const names = entries.map((e) => e.name)
  t.ok(names.includes('sparkgate_jobs/__init__.py'))
  t.ok(names.includes('sparkgate_jobs/training.py'))
  t.ok(names.includes('sparkgate_jobs/scoring.py'))
  t.strictSame(names, [...names].sort(), 'in path order')
  t.ok(
    names.every((n) => n.endsWith('.py') && !n.includes('__pycache__')),
    'Python sources only',
  )
  t.same(storedZip([]).length, 22, 'an empty zip is its end record')
})

t.test('Python reads the zip and imports the package from it', async (t) => {
  const dir = await tempDir(t)
  const zip = join(dir, 'sparkgate_jobs.zip')
  await writeFile(zip, await jobPackage())
  const expected = (await pythonFiles(JOB_PACKAGE_DIR, 'sparkgate_jobs')).map((e) => e.name)
  const script = [
    'import importlib, importlib.util, json, sys, zipfile',
    'archive = zipfile.ZipFile(sys.argv[1])',
    'bad = archive.testzip()',
    'infos = archive.infolist()',
    'sys.path.insert(0, sys.argv[1])',
    'modules = ["sparkgate_jobs", "sparkgate_jobs.errors"]',
    'if importlib.util.find_spec("pyspark"):',
    '    modules += ["sparkgate_jobs.training", "sparkgate_jobs.scoring"]',
    'files = {m: importlib.import_module(m).__file__ for m in modules}',
    'print(json.dumps({"bad": bad, "names": [i.filename for i in infos],',
    '  "dates": sorted({i.date_time for i in infos}), "stored": all(i.compress_type == 0 for i in infos),',
    '  "files": files}))',
  ].join('\n')
  const python = process.env['PYSPARK_PYTHON'] ?? 'python3'
  const { stdout } = await run(python, ['-c', script, zip], { cwd: dir, timeout: 60_000 })
  const out = JSON.parse(stdout) as {
    bad: string | null
    names: string[]
    dates: number[][]
    stored: boolean
    files: Record<string, string>
  }
  t.equal(out.bad, null, 'every CRC checks')
  t.strictSame(out.names, expected, 'the files, in order')
  t.strictSame(out.dates, [[1980, 1, 1, 0, 0, 0]], 'one fixed timestamp')
  t.ok(out.stored, 'stored')
  t.ok(Object.keys(out.files).length >= 2, `imported ${Object.keys(out.files).join(', ')}`)
  for (const [module, file] of Object.entries(out.files))
    t.ok(file.startsWith(join(zip, 'sparkgate_jobs')), `${module} comes from the zip (${file})`)
})
