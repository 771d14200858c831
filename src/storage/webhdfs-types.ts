/**
 * What WebHDFS answers (file status, content summary, checksum) and its errors: a
 * RemoteException's Java class becomes a stable `kind` (src/storage/webhdfs-client.ts).
 */
import { StoreError } from './file-store.js'

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

/** Every WebHDFS failure: a store error (its stable `kind`) with the server's Java class. */
export class WebHdfsError extends StoreError {
  constructor(
    kind: StoreError['kind'],
    message: string,
    status?: number,
    readonly javaClassName?: string,
  ) {
    super(kind, message, status)
    this.name = 'WebHdfsError'
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
