import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OAuthToken, RefreshFunction } from '../../src';

/**
 * A token endpoint on loopback that counts refresh requests and answers after
 * a delay, so concurrent callers really overlap. Shared by processes, it counts
 * refreshes across them.
 */
export class RefreshProvider {
  requests = 0;
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(delayMs = 200): Promise<RefreshProvider> {
    let provider!: RefreshProvider;
    const server = createServer((req, res) => {
      provider.requests++;
      const n = provider.requests;
      req.resume();
      setTimeout(() => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ access_token: `refreshed-${n}`, token_type: 'bearer', expires_in: 3600 }));
      }, delayMs);
    });
    provider = new RefreshProvider(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return provider;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/token`;
  }

  stop(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** A refresh function as an app writes one: POST the refresh token, return the provider's JSON. */
export function refreshAt(url: string): RefreshFunction {
  return async (token) => {
    const response = await fetch(url, { method: 'POST', body: new URLSearchParams({ refresh_token: token.refresh_token ?? '' }) });
    return (await response.json()) as OAuthToken;
  };
}
