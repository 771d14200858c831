/** The SparkBackend conformance suite against the real Livy of the local stack. */
import t from 'tap'
import { LivyBackend } from '../../src/backends/livy/livy-backend.js'
import { conformance } from '../helpers/conformance.js'
import { freePort, stage } from '../helpers/jobs.js'
import { hdfsClient, hdfsTestDir, testConfig, ON_YARN } from '../helpers/stack.js'

conformance(t, async () => {
  const config = testConfig(ON_YARN)
  const hdfs = hdfsClient(config)
  const dir = await hdfsTestDir(t, hdfs)
  return {
    backend: new LivyBackend({
      name: 'livy',
      url: config.SPARKGATE_LIVY_URL,
      yarnUrl: config.SPARKGATE_LIVY_YARN_URL,
    }),
    down: new LivyBackend({ name: 'livy-down', url: `http://127.0.0.1:${await freePort()}` }),
    stage: (local, name) => stage(hdfs, config.SPARKGATE_HDFS_DEFAULT_FS, local, `${dir}/${name}`),
    // Livy refuses local paths outside livy.file.local-dir-whitelist with a 400
    refusedFile: 'file:///tmp/sparkgate-not-whitelisted.py',
    refusesDuplicateNames: true,
  }
})
