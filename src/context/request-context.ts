import { AsyncLocalStorage } from 'node:async_hooks';
import type { SessionLike } from '../storage/session-storage';

/**
 * How the request context finds the user and the session on a request.
 * Both are read lazily, each time {@link currentUser} or {@link currentSession}
 * is called, so a user that an auth step attaches after the middleware ran
 * (a NestJS guard, Passport's `req.login()`) is seen too.
 */
export interface RequestContextOptions<Req = any, User = unknown> {
  /**
   * Returns the request's logged-in user, or `null`/`undefined` when nobody is
   * logged in; may be async (for example a database lookup by a session id).
   * It runs on every {@link currentUser} call, so cache on the request
   * yourself if it is expensive. Default: `req.user`, where Passport and
   * NestJS guards put the user.
   */
  user?: (request: Req) => User | null | undefined | Promise<User | null | undefined>;
  /**
   * Returns the request's session object. Default: `req.session`, where
   * express-session and cookie-session put it.
   */
  session?: (request: Req) => SessionLike | null | undefined;
}

/** What one bound request carries through its async calls. */
interface Bound {
  readonly request: unknown;
  readonly user: (request: any) => unknown;
  readonly session: (request: any) => SessionLike | null | undefined;
}

const context = new AsyncLocalStorage<Bound>();

const defaultUser = (request: { user?: unknown }) => request.user;
const defaultSession = (request: { session?: SessionLike | null }) => request.session;

/**
 * Runs `fn` with `request` as the current request: {@link currentRequest},
 * {@link currentUser} and {@link currentSession} answer for it inside `fn` and
 * in everything `fn` awaits or schedules, and never for any other request,
 * however many run at once. Returns what `fn` returns (a promise stays a
 * promise). Use it where the Express middleware does not fit: a plain Node
 * `http` handler, Koa, a job runner.
 *
 * ```ts
 * http.createServer((req, res) => runWithRequest(req, () => handle(req, res), { user: userOf }));
 * ```
 */
export function runWithRequest<T, Req = any>(request: Req, fn: () => T, options: RequestContextOptions<Req> = {}): T {
  return context.run({ request, user: options.user ?? defaultUser, session: options.session ?? defaultSession }, fn);
}

/**
 * Express (and Connect, and NestJS on Express) middleware that makes each
 * request the current one for everything its later handlers run. Mount it after
 * the session and authentication middleware:
 *
 * ```ts
 * app.use(session({ secret, resave: false, saveUninitialized: false }));
 * app.use(requestContext({ user: (req) => req.session.user }));
 * const storage = new TypeOrmStorage(dataSource, OAuth, { user: currentUser });
 * ```
 */
export function requestContext<Req = any>(
  options: RequestContextOptions<Req> = {},
): (request: Req, response: unknown, next: (error?: unknown) => void) => void {
  return (request, _response, next) => runWithRequest(request, () => next(), options);
}

/** The request being handled, or `undefined` outside {@link requestContext} / {@link runWithRequest}. */
export function currentRequest<Req = unknown>(): Req | undefined {
  return context.getStore()?.request as Req | undefined;
}

/**
 * The current request's logged-in user, or `null` when nobody is logged in or
 * when called outside a request (a script, a timer started at boot). Pass the
 * function itself as a storage's user: `new TypeOrmStorage(dataSource, OAuth,
 * { user: currentUser })`; outside a request such a storage then refuses calls
 * with `UserRequiredError` instead of touching the app-wide token.
 *
 * Always async, because the `user` option may be. The type argument is what
 * you say your user is; it is not checked.
 */
export async function currentUser<User = unknown>(): Promise<User | null> {
  const bound = context.getStore();
  if (!bound) return null;
  return ((await bound.user(bound.request)) ?? null) as User | null;
}

/**
 * The current request's session object, or `undefined` outside a request or
 * when no session middleware ran. For `new SessionStorage({ session:
 * currentSession })`, which then refuses calls without a session. Synchronous,
 * as session middleware has always attached the session by the time a handler runs.
 */
export function currentSession(): SessionLike | undefined {
  const bound = context.getStore();
  return bound ? (bound.session(bound.request) ?? undefined) : undefined;
}
