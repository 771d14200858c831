/**
 * The shell wrapper of a local batch and how to recognise it: it records its pid, runs
 * spark-submit and writes the exit code into the batch folder, so a batch's status
 * survives a gateway restart. Pids are reused, so "is this pid still our wrapper?" is
 * read from /proc where there is one.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { absent, code } from './optional-files.js'

/** argv[0] of every wrapper: how /proc tells our wrappers from other processes */
export const WRAPPER = 'sparkgate-local'
/** the marker of a batch that status declared never started: its wrapper must not run */
export const NEVER_STARTED = 'never-started'

/**
 * The wrapper, `bash -c WRAPPER_SCRIPT sparkgate-local <batch folder> spark-submit args…`
 * (its argv names the folder, so /proc/<pid>/cmdline tells whether a pid is still it):
 * - it records its own pid first (atomically), so a started batch always has one, even
 *   when the gateway dies right after spawning it;
 * - it runs nothing if a cancel or a never-started verdict came before its pid was
 *   recorded: those write their marker first and read the pid after, so either they see
 *   the pid or the wrapper sees the marker;
 * - `trap : TERM`: on a cancel's SIGTERM it waits for spark-submit (signalled with the
 *   whole group) to end, so the group leader — the pid we verify before signalling —
 *   outlives the application, and the SIGKILL after the grace still reaches a stubborn one
 *   (a trapped signal is reset to its default in children: spark-submit gets SIGTERM; one
 *   that lands between the marker check and spark-submit's start is missed by it, and the
 *   SIGKILL ends it);
 * - it ends with the `exit` builtin: bash never execs its last command in its place.
 */
const WRAPPER_SCRIPT = [
  'trap : TERM',
  'SG_DIR=$1; shift',
  'echo $$ >"$SG_DIR/pid.tmp" && mv -f "$SG_DIR/pid.tmp" "$SG_DIR/pid" || exit 70',
  `if [ -e "$SG_DIR/cancelled" ] || [ -e "$SG_DIR/${NEVER_STARTED}" ]; then exit 143; fi`,
  '"$@" >"$SG_DIR/log" 2>&1',
  'code=$?',
  'echo $code >"$SG_DIR/exit.tmp" && mv -f "$SG_DIR/exit.tmp" "$SG_DIR/exit"',
  'exit $code',
].join('\n')

/** bash's arguments for the wrapper of the batch in `dir`, running `command`. */
export function wrapperArgv(dir: string, command: string[]): string[] {
  return ['-c', WRAPPER_SCRIPT, WRAPPER, dir, ...command]
}

/** Whether a process with this pid exists (kill -0): all that is known without /proc. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Whether `pid` is still this batch's wrapper. Pids are reused once a process ended, so
 * on Linux its command line must name the wrapper and this batch (its folder; or its
 * `--name`, for wrappers started before the folder was in their argv); a zombie's is
 * empty: ended. Without /proc, only kill -0 — there a reused pid reads as alive.
 */
export async function isWrapper(
  procfs: string | undefined,
  pid: number,
  dir: string,
  name: string,
): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 1) return false // never our own group, nor -1
  if (procfs === undefined) return alive(pid)
  const path = join(procfs, String(pid), 'cmdline')
  let argv: string[]
  try {
    argv = (await readFile(path, 'utf8')).split('\0')
  } catch (error) {
    if (code(error) === 'ESRCH') return false
    return absent(error, path) ?? false
  }
  if (!argv.includes(WRAPPER)) return false
  return argv.includes(dir) || argv.some((a, i) => a === '--name' && argv[i + 1] === name)
}
