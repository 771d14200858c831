/**
 * SPNEGO (HTTP Negotiate) with the gateway's own Kerberos identity, through MIT Kerberos's
 * GSSAPI (the `kerberos` npm package, a native binding built against libkrb5-dev).
 *
 * One identity per process: GSSAPI takes its client keytab (KRB5_CLIENT_KTNAME), its
 * credential cache (KRB5CCNAME: a MEMORY cache of this process, nothing on disk) and its
 * krb5.conf (KRB5_CONFIG) from the environment. With a client keytab, MIT Kerberos gets the
 * first ticket itself and gets a new one before the old one expires (its refresh time is
 * half the ticket's life), so a long-running gateway never holds an expired ticket; a 401
 * all the same makes the caller negotiate once more (./http-auth.ts).
 */
import { CredentialError } from './credentials.js'

export interface KerberosIdentity {
  principal: string
  keytab: string
  /** krb5.conf of the realm; the system's (/etc/krb5.conf or KRB5_CONFIG) when absent */
  krb5Conf?: string
}

/** What is used of the binding (typed here: the package is optional, see loadKerberos). */
interface KerberosModule {
  GSS_MECH_OID_SPNEGO: number
  initializeClient(
    service: string,
    options: { principal?: string; mechOID?: number },
  ): Promise<{ step(challenge: string): Promise<string> }>
}

/** An optional dependency: npm skips it where libkrb5-dev is missing at install time. */
const KERBEROS_PACKAGE: string = 'kerberos'

let identity: KerberosIdentity | undefined
let binding: Promise<KerberosModule> | undefined

/** A GSSAPI failure (no KDC, unknown service principal, bad keytab): the reason, no secret. */
export class SpnegoError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SpnegoError'
  }
}

/** The GSSAPI binding; a clear CredentialError when it is not installed or not built. */
export function loadKerberos(): Promise<KerberosModule> {
  binding ??= (import(KERBEROS_PACKAGE) as Promise<KerberosModule>).catch((error: unknown) => {
    binding = undefined
    throw new CredentialError(
      `Kerberos auth needs the optional package "kerberos", built against MIT Kerberos (${(error as Error).message.split('\n')[0]}). Install the headers and build it: apt-get install libkrb5-dev && npm install`,
    )
  })
  return binding
}

/**
 * Makes `id` this process's Kerberos identity. The same identity again is a no-op; another
 * one is a CredentialError (GSSAPI's settings are process-wide).
 */
export function useKerberosIdentity(id: KerberosIdentity): void {
  if (identity) {
    if (identity.principal === id.principal && identity.keytab === id.keytab) return
    throw new CredentialError(
      `one Kerberos identity per gateway process: ${identity.principal} is in use, ${id.principal} was asked for`,
    )
  }
  identity = id
  process.env['KRB5_CLIENT_KTNAME'] = `FILE:${id.keytab}`
  process.env['KRB5CCNAME'] = `MEMORY:sparkgate-${process.pid}`
  if (id.krb5Conf) process.env['KRB5_CONFIG'] = id.krb5Conf
}

/** The process's Kerberos identity, if one was set. */
export function kerberosIdentity(): KerberosIdentity | undefined {
  return identity
}

/** `Negotiate <token>` for the HTTP service on `host` (HTTP@host), as `principal`. */
export async function negotiate(host: string, principal: string): Promise<string> {
  const krb = await loadKerberos()
  try {
    const client = await krb.initializeClient(`HTTP@${host}`, {
      principal,
      mechOID: krb.GSS_MECH_OID_SPNEGO,
    })
    const token = await client.step('')
    return `Negotiate ${token}`
  } catch (error) {
    throw new SpnegoError(
      `Kerberos: no ticket for HTTP@${host} as ${principal}: ${(error as Error).message}`,
    )
  }
}
