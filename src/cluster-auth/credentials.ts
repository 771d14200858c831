/**
 * A cluster `auth` setting made ready at boot: the password read from its file or variable,
 * the keytab checked readable. Each problem names the setting and the file or variable, never
 * a secret. A resolved password is a Secret: it prints, logs and serializes as `***`.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs'
import { inspect } from 'node:util'
import type { ClusterAuth } from './auth-schema.js'

/** A value that never shows: JSON, util.inspect and template strings give `***`. */
export class Secret {
  readonly #value: string
  constructor(value: string) {
    this.#value = value
  }
  reveal(): string {
    return this.#value
  }
  toJSON() {
    return '***'
  }
  toString() {
    return '***'
  }
  [inspect.custom]() {
    return 'Secret(***)'
  }
}

export type ResolvedAuth =
  | { type: 'none' }
  | { type: 'basic'; user: string; password: Secret }
  | { type: 'kerberos'; principal: string; keytab: string }

/** A credential that cannot be used: the message names where it was set. */
export class CredentialError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CredentialError'
  }
}

/** The gateway's own Kerberos identity, the default of every `kerberos` auth. */
export interface KerberosDefaults {
  principal: string
  keytab: string
}

function why(error: unknown) {
  const code = (error as NodeJS.ErrnoException).code
  return code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable' : String(code)
}

/** Throws unless `path` is a readable file. */
export function checkReadableFile(path: string, what: string): void {
  try {
    accessSync(path, constants.R_OK)
    if (!statSync(path).isFile()) throw Object.assign(new Error(), { code: 'not a file' })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new CredentialError(
      `${what}: ${path} ${code === 'not a file' ? 'is not a file' : why(error)}`,
    )
  }
}

/**
 * Resolves `auth` (set at `where`, e.g. `SPARKGATE_BACKENDS[0].auth`) with `env` for
 * passwordEnv and `kerberos` for the defaults of a kerberos auth without principal/keytab.
 */
export function resolveAuth(
  auth: ClusterAuth | undefined,
  where: string,
  kerberos: Partial<KerberosDefaults>,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedAuth {
  if (!auth || auth.type === 'none') return { type: 'none' }
  if (auth.type === 'basic') {
    if ((auth.passwordFile === undefined) === (auth.passwordEnv === undefined))
      throw new CredentialError(`${where}: a basic auth needs one of passwordFile or passwordEnv`)
    let password: string
    if (auth.passwordFile !== undefined) {
      checkReadableFile(auth.passwordFile, `${where}.passwordFile`)
      password = readFileSync(auth.passwordFile, 'utf8').replace(/\r?\n$/, '')
      if (!password)
        throw new CredentialError(`${where}.passwordFile: ${auth.passwordFile} is empty`)
    } else {
      password = env[auth.passwordEnv!] ?? ''
      if (!password)
        throw new CredentialError(
          `${where}.passwordEnv: the environment variable ${auth.passwordEnv} is not set`,
        )
    }
    return { type: 'basic', user: auth.user, password: new Secret(password) }
  }
  const principal = auth.principal ?? kerberos.principal
  const keytab = auth.keytab ?? kerberos.keytab
  if (!principal)
    throw new CredentialError(
      `${where}.principal: no principal (set it, or SPARKGATE_KERBEROS_PRINCIPAL)`,
    )
  if (!keytab)
    throw new CredentialError(`${where}.keytab: no keytab (set it, or SPARKGATE_KERBEROS_KEYTAB)`)
  checkReadableFile(
    keytab,
    auth.keytab === undefined ? `SPARKGATE_KERBEROS_KEYTAB (for ${where})` : `${where}.keytab`,
  )
  return { type: 'kerberos', principal, keytab }
}
