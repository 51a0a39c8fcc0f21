import { Client } from 'pg';
import { connect } from 'node:net';
import { DATABASE_URL, REDIS_URL } from './services';

const HOW_TO_START = {
  PostgreSQL: "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start (or set DATABASE_URL)",
  Redis: 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no (or set REDIS_URL)',
};

/** Finds out which services answer; in CI a missing one fails the run, elsewhere its suites skip. */
export default async function globalSetup(): Promise<void> {
  const postgres = await reachable(async () => {
    const client = new Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
    await client.connect();
    await client.end();
  });
  const redis = await reachable(() => redisPing(new URL(REDIS_URL)));
  process.env.TEST_POSTGRES_UP = postgres ? '1' : '0';
  process.env.TEST_REDIS_UP = redis ? '1' : '0';

  const missing = (
    [
      ['PostgreSQL', postgres, DATABASE_URL],
      ['Redis', redis, REDIS_URL],
    ] as const
  ).filter(([, up]) => !up);
  for (const [name, , url] of missing) {
    const line = `${name} is not reachable at ${url.replace(/\/\/[^@/]*@/, '//')}. Start it with: ${HOW_TO_START[name]}`;
    if (process.env.CI === 'true') throw new Error(`${line}. In CI every service is required.`);
    console.warn(`\nSkipping the ${name} suites: ${line}\n`);
  }
}

async function reachable(connect: () => Promise<void>): Promise<boolean> {
  try {
    await connect();
    return true;
  } catch {
    return false;
  }
}

/** One PING over a plain socket: enough to know the server answers, without a client's reconnect loop. */
export function redisPing(url: URL): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port || 6379), timeout: 3000 });
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.end();
      if (data.toString().startsWith('+PONG')) resolve();
      else reject(new Error(`unexpected answer: ${data.toString().trim()}`));
    });
    socket.once('timeout', () => socket.destroy(new Error('timed out')));
    socket.once('error', reject);
  });
}
