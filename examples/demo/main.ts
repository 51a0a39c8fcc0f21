import { ConfigError, readConfig } from './config';
import { startDemo } from './demo';

/** `npm start`: runs the demo until Ctrl-C, with its settings from the environment (see the README's Demo section). */
async function main(): Promise<void> {
  const config = readConfig();
  const demo = await startDemo(config);
  console.log(`Demo app:                 ${demo.url.href}`);
  console.log(`Demo ID (OIDC provider):  ${demo.providerUrl.href}`);
  console.log(`Tokens: ${demo.storage}. ${demo.renewal}. Ctrl-C stops.`);
  const shutdown = () => {
    demo.close().then(
      () => {
        console.log('Demo stopped.');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `Cannot start the demo: ${error.message}` : error);
  process.exit(1);
});
