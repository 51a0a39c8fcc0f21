import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { User } from '../entities/user.entity';
import { createApp } from './app';
import type { DemoConfig } from './config';
import { openDatabase } from './database';
import { OAuthClient } from './oauth-client';
import { createIdentityProvider } from './provider/identity-provider';
import { RefreshJob } from './refresh-job';
import { renewer } from './renewal';
import { createTokenStore, PROVIDER } from './token-store';

/** The running demo: where it is served, and how to stop it. */
export interface RunningDemo {
  readonly url: URL;
  readonly providerUrl: URL;
  /** Where tokens are kept, in words. */
  readonly storage: string;
  /** How tokens are renewed, in words. */
  readonly renewal: string;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

/**
 * Starts the app and its identity provider, each on its own loopback port.
 * Both ports are bound first, so port 0 (any free port) works: the provider
 * must know the app's callback URL, and the app the provider's address.
 */
export async function startDemo(config: DemoConfig): Promise<RunningDemo> {
  const dataSource = await openDatabase(config);
  const servers: Server[] = [];
  const resources: Array<() => unknown> = [() => dataSource.destroy()];
  let job: RefreshJob | undefined;
  const close = async () => {
    // The job first: a renewal under way still needs the provider's server and the database.
    await job?.stop();
    await Promise.all(servers.map(stop));
    for (const release of resources.reverse()) await release();
  };
  try {
    const providerServer = await listen(config.providerPort, 'PROVIDER_PORT');
    servers.push(providerServer);
    const appServer = await listen(config.port, 'PORT');
    servers.push(appServer);
    const providerUrl = urlOf(providerServer);
    const url = urlOf(appServer);
    const redirectUri = new URL('/connect/callback', url).href;

    const provider = createIdentityProvider({
      issuer: providerUrl,
      redirectUri,
      accessTokenTtl: config.accessTokenTtl,
      storeFile: join(config.dataDir, 'provider.sqlite'),
    });
    resources.push(() => provider.close());
    providerServer.on('request', provider.handler);

    const { clientId, clientSecret } = provider.client;
    const oauth = await OAuthClient.discover({ issuer: providerUrl, clientId, clientSecret, redirectUri });
    const tokens = createTokenStore(config, dataSource);
    resources.push(() => tokens.close());
    const renewal = tokens.kind === 'database'
      ? { leewaySeconds: config.refreshLeewaySeconds, jobIntervalSeconds: config.refreshJobInterval }
      : null;
    if (tokens.kind === 'database' && config.refreshJobInterval > 0) {
      job = new RefreshJob({
        storage: tokens.storage,
        provider: PROVIDER,
        refresh: (userId) => renewer(oauth, userId, 'background job'),
        intervalSeconds: config.refreshJobInterval,
        withinSeconds: config.refreshLeewaySeconds,
        limit: 100,
      });
    }
    appServer.on('request', createApp({ baseUrl: url, users: dataSource.getRepository(User), tokens, oauth, renewal }));
    return { url, providerUrl, storage: tokens.description, renewal: describeRenewal(config, renewal !== null), close };
  } catch (error) {
    await close();
    throw error;
  }
}

function describeRenewal(config: DemoConfig, renewed: boolean): string {
  const lifetime = `Access tokens live ${config.accessTokenTtl} s`;
  if (!renewed) return `${lifetime} and are not renewed (SessionStorage has no getValid)`;
  const renews = `${lifetime}; getValid renews them in their last ${config.refreshLeewaySeconds} s, when used`;
  return config.refreshJobInterval > 0
    ? `${renews} or by a background job every ${config.refreshJobInterval} s`
    : `${renews} (no background job: REFRESH_JOB_INTERVAL=0)`;
}

function listen(port: number, variable: string): Promise<Server> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`Port ${port} is in use: set ${variable} to a free port`) : error),
    );
    server.listen(port, HOST, () => resolve(server));
  });
}

function urlOf(server: Server): URL {
  return new URL(`http://${HOST}:${(server.address() as AddressInfo).port}`);
}

function stop(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
