import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import session from 'express-session';
import {
  currentRequest,
  currentSession,
  currentUser,
  OAuthStorageError,
  requestContext,
  runWithRequest,
  SessionStorage,
  TypeOrmStorage,
  UserRequiredError,
} from '../src';
import { databases, type TestDatabase } from './support/databases';
import { OAuth, User } from './support/models';
import { describeWith } from './support/services';

/** Listens on a free loopback port; returns the base URL and how to stop. */
async function listen(server: Server): Promise<{ url: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // fetch keeps connections alive
      }),
  };
}

/** A spread of small waits, so concurrent requests resume in an order unlike the one they started in. */
const pause = (i: number) => sleep((i * 7) % 11);

describe('request context outside a request', () => {
  it('has no request, user or session', async () => {
    expect(currentRequest()).toBeUndefined();
    expect(await currentUser()).toBeNull();
    expect(currentSession()).toBeUndefined();
  });

  it('makes a SessionStorage on currentSession refuse calls instead of inventing a session', async () => {
    const storage = new SessionStorage({ session: currentSession });
    await expect(storage.get('github')).rejects.toThrow(OAuthStorageError);
    await expect(storage.set('github', { access_token: 'a' })).rejects.toThrow('found no session');
  });

  it('passes an error of the user lookup on, rather than treating it as "nobody logged in"', async () => {
    const failing = () => Promise.reject(new Error('user table unreachable'));
    await expect(runWithRequest({}, () => currentUser(), { user: failing })).rejects.toThrow('user table unreachable');
  });
});

describe('runWithRequest on a plain Node http server', () => {
  let server: { url: string; close: () => Promise<void> };

  beforeAll(async () => {
    // The user is attached after the request is bound, as a NestJS guard or Passport's req.login() would.
    const handle = async (req: IncomingMessage & { user?: { name: string } }) => {
      await pause(Number(req.headers['x-n']));
      req.user = { name: String(req.headers['x-user']) };
      await pause(Number(req.headers['x-n']) + 3);
      const user = await currentUser<{ name: string }>();
      return { user: user?.name, sameRequest: currentRequest() === req };
    };
    server = await listen(
      createServer((req, res) =>
        runWithRequest(req, async () => res.end(JSON.stringify(await handle(req)))),
      ),
    );
  });
  afterAll(() => server.close());

  it('gives each of 40 concurrent requests its own request and user, read at call time', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `user-${i % 5}`);
    const answers = await Promise.all(
      names.map((name, i) =>
        fetch(server.url, { headers: { 'x-user': name, 'x-n': String(i) } }).then((r) => r.json()),
      ),
    );
    expect(answers).toEqual(names.map((name) => ({ user: name, sameRequest: true })));
  });
});

describe('requestContext with express-session and SessionStorage', () => {
  let server: { url: string; close: () => Promise<void> };

  beforeAll(async () => {
    const app = express();
    app.use(session({ secret: 'test-only', resave: false, saveUninitialized: true }));
    app.use(requestContext());
    const storage = new SessionStorage({ session: currentSession });
    app.post('/token/:value', async (req, res) => {
      await pause(req.params.value.length);
      await storage.set('github', { access_token: req.params.value });
      res.end();
    });
    app.get('/token', async (req, res) => {
      await pause(Number(req.query.n));
      res.json(await storage.get('github'));
    });
    server = await listen(createServer(app));
  });
  afterAll(() => server.close());

  it("keeps each browser's token in its own session", async () => {
    const cookies = await Promise.all(
      ['first', 'second', 'third'].map(async (value) => {
        const res = await fetch(`${server.url}/token/${value}`, { method: 'POST' });
        return [value, res.headers.get('set-cookie')!.split(';')[0]] as const;
      }),
    );
    const reads = await Promise.all(
      [...cookies, ...cookies].map(async ([value, cookie], n) => {
        const res = await fetch(`${server.url}/token?n=${n}`, { headers: { cookie } });
        return [value, await res.json()];
      }),
    );
    for (const [value, token] of reads) expect(token).toEqual({ access_token: value });
    expect(await (await fetch(`${server.url}/token`)).json()).toBeNull();
  });
});

for (const kind of databases) {
  describeWith(kind.up)(`requestContext with TypeOrmStorage on ${kind.name}`, () => {
    let db: TestDatabase;
    let server: { url: string; close: () => Promise<void> };
    let storage: TypeOrmStorage<User>;
    const names = ['alice', 'bob', 'carol', 'dave'];

    beforeAll(async () => {
      db = await kind.create();
      await db.dataSource.getRepository(User).save(names.map((name) => ({ name })));
      const users = db.dataSource.getRepository(User);
      storage = new TypeOrmStorage<User>(db.dataSource, OAuth, { user: currentUser });

      const app = express();
      // An async lookup, as an app that keeps only the user's name in the session would do.
      app.use(requestContext({ user: (req) => users.findOneBy({ name: String(req.headers['x-user']) }) }));
      app.put('/token/:n', async (req, res) => {
        const n = Number(req.params.n);
        await pause(n);
        const before = await currentUser<User>();
        await storage.set('github', { access_token: `${before?.name}-${n}` });
        await pause(n + 5);
        const token = await storage.get('github');
        const after = await currentUser<User>();
        res.json({ before: before?.name, after: after?.name, token });
      });
      app.get('/token', async (_req, res) => {
        res.json(await storage.get('github'));
      });
      app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        res.status(error instanceof UserRequiredError ? 401 : 500).json({ error: String(error) });
      });
      server = await listen(createServer(app));
    });
    afterAll(async () => {
      await server?.close();
      await db?.destroy();
    });

    it('never lets one of 60 concurrent requests see, read or write another user\'s token', async () => {
      const requests = Array.from({ length: 60 }, (_, n) => ({ name: names[n % names.length], n }));
      const answers = await Promise.all(
        requests.map(({ name, n }) =>
          fetch(`${server.url}/token/${n}`, { method: 'PUT', headers: { 'x-user': name } }).then(
            (r) => r.json() as Promise<{ before?: string; after?: string; token: { access_token: string } }>,
          ),
        ),
      );
      requests.forEach(({ name }, i) => {
        expect(answers[i].before).toBe(name);
        expect(answers[i].after).toBe(name);
        expect(answers[i].token.access_token).toMatch(new RegExp(`^${name}-\\d+$`));
      });

      const rows = await db.dataSource.getRepository(OAuth).find({ relations: { user: true } });
      expect(rows.map((row) => row.user?.name).sort()).toEqual([...names].sort());
      for (const row of rows) expect(row.token.access_token).toMatch(new RegExp(`^${row.user?.name}-\\d+$`));
    });

    it('refuses a request without a logged-in user and touches no row', async () => {
      const before = await db.dataSource.getRepository(OAuth).count();
      const queries = db.logger.queries.length;
      const res = await fetch(`${server.url}/token`, { headers: { 'x-user': 'nobody' } });
      expect(res.status).toBe(401);
      expect(db.logger.queries.slice(queries).filter((q) => /o_auth/.test(q.query))).toEqual([]);
      expect(await db.dataSource.getRepository(OAuth).count()).toBe(before);
    });

    it('refuses calls made outside any request with UserRequiredError', async () => {
      await expect(storage.get('github')).rejects.toThrow(UserRequiredError);
    });
  });
}
