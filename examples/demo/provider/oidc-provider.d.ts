// oidc-provider ships no type declarations and the project installs no @types
// package for it, so these declare the part of its API the demo uses, as its
// documentation describes it.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  /** The Koa context oidc-provider passes to its hooks; only what the demo touches. */
  export interface KoaContextWithOIDC {
    type: string;
    body: unknown;
    /** The request as oidc-provider understood it; missing when it failed before getting that far. */
    oidc?: {
      params?: Record<string, unknown>;
      entities: { Account?: { accountId: string } };
    };
  }

  /** The errors oidc-provider answers with: an OAuth error code and its description. */
  export interface OIDCProviderError extends Error {
    error?: string;
    error_description?: string;
  }

  /** What a stored artifact (token, grant, session, interaction) looks like to an adapter. */
  export interface AdapterPayload {
    [key: string]: unknown;
    grantId?: string;
    userCode?: string;
    uid?: string;
    consumed?: number;
  }

  /** The persistence interface oidc-provider calls, one instance per model name. */
  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Promise<Record<string, unknown>> | Record<string, unknown>;
  }

  export interface Configuration {
    adapter?: (name: string) => Adapter;
    clients?: Array<Record<string, unknown>>;
    findAccount?: (ctx: KoaContextWithOIDC, id: string) => Promise<Account | undefined> | Account | undefined;
    claims?: Record<string, string[]>;
    scopes?: string[];
    interactions?: { url(ctx: KoaContextWithOIDC, interaction: { uid: string }): string | Promise<string> };
    features?: Record<string, { enabled: boolean }>;
    ttl?: Record<string, number>;
    cookies?: { keys?: string[] };
    jwks?: { keys: object[] };
    pkce?: { required?: () => boolean };
    rotateRefreshToken?: boolean | ((ctx: KoaContextWithOIDC) => boolean | Promise<boolean>);
    renderError?: (ctx: KoaContextWithOIDC, out: Record<string, string>, error: Error) => void | Promise<void>;
  }

  export interface InteractionDetails {
    uid: string;
    prompt: { name: string; details: Record<string, unknown> };
    params: Record<string, unknown>;
    session?: { accountId: string };
    grantId?: string;
  }

  export interface InteractionResults {
    [key: string]: unknown;
  }

  export class Grant {
    constructor(properties: { accountId: string; clientId: string });
    static find(id: string): Promise<Grant | undefined>;
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly Grant: typeof Grant;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResults,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
    on(event: 'server_error', listener: (ctx: KoaContextWithOIDC, error: Error) => void): this;
    on(event: 'grant.success', listener: (ctx: KoaContextWithOIDC & { oidc: NonNullable<KoaContextWithOIDC['oidc']> }) => void): this;
    on(event: 'grant.error', listener: (ctx: KoaContextWithOIDC, error: OIDCProviderError) => void): this;
  }

  export default Provider;
}
