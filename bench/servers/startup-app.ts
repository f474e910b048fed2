/**
 * For the start-up benchmark: runs bwprep exactly as `bwprep serve` does — src/main.ts main(): config from
 * the environment, pino JSON logs on stdout, startBwprep(), SIGTERM handling. The parent reads the
 * `bwprep listening` log line for the port. Run with the working directory set to an empty temp dir
 * (main() loads ./.env when present).
 */
import '../lib/links';
import { main } from '../../src/main';

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
