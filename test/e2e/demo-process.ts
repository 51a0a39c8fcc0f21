import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** The demo running as `npm start` runs it, in a child process of the test. */
export interface DemoProcess {
  readonly url: URL;
  readonly providerUrl: URL;
  /** Everything it printed, for failure messages. */
  output(): string;
  /** Asks it to shut down (SIGTERM), and kills it if it has not within 15 s; resolves once its output is complete. */
  stop(): Promise<void>;
}

/**
 * Runs `npm start` with `env` on top of a clean environment (no DATABASE_URL,
 * REDIS_URL or TOKEN_STORAGE from the shell running the tests), and waits for
 * the two URLs it prints. The child leads its own process group, so stopping
 * it reaches npm and the node process under it, and nothing else.
 */
export async function startDemoProcess(env: Record<string, string>): Promise<DemoProcess> {
  const { DATABASE_URL, REDIS_URL, TOKEN_STORAGE, PORT, PROVIDER_PORT, DATA_DIR, ...inherited } = process.env;
  const child = spawn('npm', ['start', '--silent'], {
    cwd: root,
    env: { ...inherited, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  // 'close' rather than 'exit': it comes once the output pipes are drained too, so output() then holds every line.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));

  const stop = async () => {
    let timer: NodeJS.Timeout | undefined;
    if (child.exitCode === null && child.signalCode === null) {
      signal(child, 'SIGTERM');
      timer = setTimeout(() => signal(child, 'SIGKILL'), 15_000);
    }
    await exited;
    clearTimeout(timer);
  };

  try {
    const [url, providerUrl] = await Promise.race([
      waitFor(() => {
        const app = /Demo app:\s+(\S+)/.exec(output)?.[1];
        const provider = /OIDC provider\):\s+(\S+)/.exec(output)?.[1];
        return app && provider ? [new URL(app), new URL(provider)] : undefined;
      }, 60_000),
      exited.then((code) => {
        throw new Error(`The demo exited with code ${code} before serving`);
      }),
    ]);
    return { url, providerUrl, output: () => output, stop };
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n--- demo output ---\n${output}`);
  }
}

function signal(child: ChildProcess, name: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, name); // the group this test started: npm and the demo under it
  } catch {
    // already gone
  }
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
