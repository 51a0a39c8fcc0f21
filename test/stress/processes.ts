import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { redisPing } from '../support/global-setup';

/**
 * Child processes the stress suite starts, and nothing else: each is killed
 * when its test is done, in afterAll when a test failed first, and at the
 * latest when the Jest worker exits.
 */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function track(child: ChildProcess): ChildProcess {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** Kills `child` (SIGKILL also ends a process stopped with SIGSTOP) and waits until it is gone. */
export async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** Runs a TypeScript worker script in a child process, with an IPC channel. */
export function forkTs(script: string, env: Record<string, string>): ChildProcess {
  return track(
    fork(script, [], {
      execArgv: ['-r', 'ts-node/register/transpile-only'],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A redis-server of the test's own, on a free loopback port, without
 * persistence, so it can be stopped, paused and restarted without touching the
 * shared Redis. A restarted server starts empty, as one restarted in
 * production without persistence does.
 */
export class OwnRedis {
  #child: ChildProcess | null = null;

  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort());
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again) on its port and waits until it answers PING. */
  async restart(): Promise<void> {
    if (this.#child) throw new Error('redis-server is already running');
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
    this.#child = track(spawn('redis-server', args, { stdio: 'ignore' }));
    for (let attempt = 0; ; attempt++) {
      try {
        await redisPing(new URL(this.url));
        return;
      } catch (error) {
        if (attempt === 100 || this.#child.exitCode !== null) throw error;
        await sleep(50);
      }
    }
  }

  /** Stops the server: clients see their connection drop. */
  async stop(): Promise<void> {
    if (this.#child) await kill(this.#child);
    this.#child = null;
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing answers. */
  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  resume(): void {
    this.#child?.kill('SIGCONT');
  }
}
