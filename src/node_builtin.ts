// Node's built-in modules, reached without a static import: the library's bundles also
// run in browsers, where bundlers must not try to resolve (or polyfill) them.

/** True under Node (and runtimes that present themselves as Node: Bun, Deno's node compat). */
export function isNode(): boolean {
  return typeof process === 'object' && process !== null && typeof process.versions === 'object' && !!process.versions.node;
}

/** A Node built-in module ('node:fs', 'node:os', ...); rejects where there is none. */
export async function nodeBuiltin<T>(name: string): Promise<T> {
  // process.getBuiltinModule (Node >= 20.16) is synchronous and invisible to bundlers
  const builtin = isNode() ? (process as unknown as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule : undefined;
  if (builtin) return builtin(name) as T;
  return (await import(/* @vite-ignore */ /* webpackIgnore: true */ name)) as T;
}
