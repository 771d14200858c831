/**
 * What WebHDFS answers (file status, content summary, checksum) and its errors: a
 * RemoteException's Java class becomes a stable `kind` (src/storage/webhdfs-client.ts).
 */
export interface FileStatus {
  pathSuffix: string
  type: 'FILE' | 'DIRECTORY' | 'SYMLINK'
  length: number
  owner: string
  group: string
  permission: string
  modificationTime: number
  accessTime: number
  blockSize: number
  replication: number
}

export interface ContentSummary {
  directoryCount: number
  fileCount: number
  length: number
  spaceConsumed: number
  quota: number
  spaceQuota: number
}

export interface FileChecksum {
  algorithm: string
  bytes: string
  length: number
}

/** Base of every WebHDFS failure; `kind` is stable, `javaClassName` is the server's. */
export class WebHdfsError extends Error {
  constructor(
    readonly kind:
      | 'not_found'
      | 'access_denied'
      | 'already_exists'
      | 'standby'
      | 'invalid'
      | 'unavailable'
      | 'aborted'
      | 'remote',
    message: string,
    readonly status?: number,
    readonly javaClassName?: string,
  ) {
    super(message)
    this.name = 'WebHdfsError'
  }
  get transient() {
    return this.kind === 'unavailable' || this.kind === 'standby'
  }
}

export const REMOTE_KINDS: Record<string, WebHdfsError['kind']> = {
  FileNotFoundException: 'not_found',
  AccessControlException: 'access_denied',
  SecurityException: 'access_denied',
  FileAlreadyExistsException: 'already_exists',
  StandbyException: 'standby',
  RetriableException: 'unavailable',
  SafeModeException: 'unavailable',
  IllegalArgumentException: 'invalid',
  InvalidPathException: 'invalid',
  PathIsNotEmptyDirectoryException: 'invalid',
  ParentNotDirectoryException: 'invalid',
  UnsupportedOperationException: 'invalid',
}
