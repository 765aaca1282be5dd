// Node's built-in modules, reached without a static import: the library's bundles also
// run in browsers, where bundlers must not try to resolve (or polyfill) them.

/** True under Node (and runtimes that present themselves as Node: Bun, Deno's node compat). */
export function isNode(): boolean {
  return typeof process === 'object' && process !== null && typeof process.versions === 'object' && !!process.versions.node;
}

let importAtRunTime: ((specifier: string) => Promise<unknown>) | undefined;

/** A Node built-in module ('node:fs', 'node:os', ...); rejects where there is none. */
export async function nodeBuiltin<T>(name: string): Promise<T> {
  if (!isNode()) throw new Error(`${name} is a Node built-in, and this runtime is not Node`);
  // process.getBuiltinModule (Node >= 20.16, 22.3) is synchronous and invisible to bundlers;
  // a stub of it may return undefined
  const getBuiltin = (process as unknown as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  const builtin = getBuiltin?.(name);
  if (builtin !== undefined) return builtin as T;
  // Older Node: an import() compiled at run time. Written in the source, an import() of a
  // variable makes webpack 5 warn in every app that bundles weft ("Critical dependency: the
  // request of a dependency is an expression") unless magic comments sit beside it, and the
  // minified bundles lose comments. Only Node gets here, where no CSP forbids compiling it.
  importAtRunTime ??= new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;
  return (await importAtRunTime(name)) as T;
}
