/**
 * One of the two writer processes of the SQLite journal comparison
 * (sqlite-journal.ts): opens the file with the setup it is sent, says it is
 * ready, and on `go` writes its user's token `ops` times through the storage.
 */
import { PROVIDERS, storageContender, TOKEN } from './contenders';
import type { WriterJob, WriterReport } from './sqlite-journal';
import { sqliteDataSource } from './sqlite';

process.once('message', async (job: WriterJob) => {
  const dataSource = await sqliteDataSource(job.file, job.setup, { synchronize: false }).initialize();
  const storage = storageContender(dataSource);
  process.once('message', async () => {
    const latenciesMs: number[] = [];
    let busy = 0;
    const started = performance.now();
    for (let i = 0; i < job.ops; i++) {
      const before = performance.now();
      try {
        await storage.set(PROVIDERS.hit, job.userId, TOKEN);
        latenciesMs.push(performance.now() - before);
      } catch (error) {
        if (!isBusy(error)) throw error;
        busy++;
      }
    }
    const report: WriterReport = { ok: latenciesMs.length, busy, elapsedMs: performance.now() - started, latenciesMs };
    await dataSource.destroy();
    process.send!(report, () => process.disconnect());
  });
  process.send!('ready');
});

function isBusy(error: unknown): boolean {
  const { driverError, code } = error as { driverError?: { code?: string }; code?: string };
  return (driverError?.code ?? code) === 'SQLITE_BUSY';
}
