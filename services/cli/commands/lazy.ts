import type { CliContext } from '../context.ts';

/**
 * A command's action, loaded when it runs: the definition (name, arguments, options, help)
 * stays light and eager, so `vigil --help` loads no driver, SDK or engine.
 */
export function lazyAction<A extends unknown[]>(ctx: CliContext, load: () => Promise<{ run(ctx: CliContext, ...args: A): Promise<void> }>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const [{ run }] = await Promise.all([load(), ctx.prepare()]);
    await run(ctx, ...args);
  };
}
