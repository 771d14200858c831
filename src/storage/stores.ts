/**
 * Which store each backend's Spark reads: a backend's own (a Synapse pool's storage
 * account) or the gateway's HDFS. A URI tells which store it lies in.
 */
import type { FileStore } from './file-store.js'

export class Stores {
  private readonly unique: FileStore[]

  constructor(
    /** the gateway's HDFS: Livy's and spark-submit's, and any backend without its own */
    readonly main: FileStore,
    /** backends that name their own store */
    private readonly byBackend: ReadonlyMap<string, FileStore> = new Map(),
  ) {
    const all = new Map<string, FileStore>([[main.id, main]])
    for (const store of byBackend.values()) if (!all.has(store.id)) all.set(store.id, store)
    this.unique = [...all.values()]
  }

  /** The store the backend's Spark reads. */
  of(backend: string | undefined): FileStore {
    return (backend !== undefined ? this.byBackend.get(backend) : undefined) ?? this.main
  }

  /** The store a URI lies in (undefined: in none of Sparkgate's). */
  ofUri(uri: string): FileStore | undefined {
    return this.unique.find((s) => s.pathOf(uri) !== undefined)
  }

  /** The store a URI lies in; the main one when none (a path on no known store). */
  holding(uri: string): FileStore {
    return this.ofUri(uri) ?? this.main
  }

  all(): readonly FileStore[] {
    return this.unique
  }
}
