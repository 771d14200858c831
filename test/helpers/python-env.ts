/**
 * A packed Python environment for a batch's `pythonEnv` (issue 24, item 5): a venv-pack
 * tar.gz of a fresh venv holding test/fixtures/python/sparkgate_probe (`__version__` 1.2.3),
 * a package the cluster's own Python lacks. test/fixtures/spark/import_probe.py imports it
 * and prints `sparkgate_probe <version>`.
 */
import { execFile } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const script = fileURLToPath(new URL('../fixtures/python/pack-probe-env.sh', import.meta.url))

/** The probe package's version, as the fixture prints it. */
export const PROBE_VERSION = '1.2.3'

/**
 * Builds the tar.gz (about 5 KB; venv-pack from PyPI, installed once into
 * ~/.cache/sparkgate) and returns its path. `python`: the cluster's Python (default
 * $PYSPARK_PYTHON, else python3), whose interpreter the archive links to.
 */
export async function packProbeEnv(
  out?: string,
  python = process.env['PYSPARK_PYTHON'] ?? 'python3',
): Promise<string> {
  const path = out ?? join(await mkdtemp(join(tmpdir(), 'sparkgate-pyenv-')), 'probe-env.tar.gz')
  await run('bash', [script, path, python], { timeout: 180_000 })
  return path
}
