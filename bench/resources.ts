import { progress } from './progress';

/** Closers of what is open now (schemas, pools, namespaces, files), newest last. */
const open: Array<() => Promise<unknown>> = [];

/** Opens a resource, runs `use` with it, and closes it however `use` ends, or on {@link closeAll}. */
export async function withOpen<T extends { close(): Promise<unknown> }, R>(
  opener: () => Promise<T>,
  use: (resource: T) => Promise<R>,
): Promise<R> {
  const resource = await opener();
  const close = () => resource.close();
  open.push(close);
  try {
    return await use(resource);
  } finally {
    const index = open.indexOf(close);
    // Not there: closeAll (Ctrl-C) closed it already.
    if (index >= 0) {
      open.splice(index, 1);
      await close();
    }
  }
}

/** Closes everything still open, newest first: what Ctrl-C runs before the process exits. */
export async function closeAll(): Promise<void> {
  while (open.length) {
    try {
      await open.pop()!();
    } catch (error) {
      progress(`cleanup failed: ${(error as Error).message}`);
    }
  }
}
