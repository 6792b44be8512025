// A module resolve hook for function-host.mjs (registered there with node:module's register). The
// host starts each Lambda instance by importing its bundle's index.mjs with `?instance=<n>`: a
// distinct URL, so a module of its own. A bundle is split into chunks (scripts/build.mjs), which
// index.mjs imports by relative paths, and those would resolve to the one URL without the query,
// shared by every instance. This hook gives a file imported from an instance's module the same
// query, so every instance has its own copy of every chunk, as every sandbox has in Lambda.
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  const parent = context.parentURL;
  if (!parent?.startsWith('file:') || !resolved.url.startsWith('file:')) return resolved;
  const instance = new URL(parent).searchParams.get('instance');
  if (instance === null) return resolved;
  const url = new URL(resolved.url);
  url.searchParams.set('instance', instance);
  return { ...resolved, url: url.href };
}
