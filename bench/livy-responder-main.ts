/** Runs the Livy-shaped responder in its own process: argv[2] batches seeded as running; prints its URL. */
import { LivyResponder } from './livy-responder.js'

const responder = new LivyResponder()
responder.seed(Number(process.argv[2] ?? 0))
process.stdout.write(`${await responder.start()}\n`)
process.on('SIGTERM', () => void responder.stop().then(() => process.exit(0)))
