// A module resolve hook: `openclaw/...` imported by the plugin's sources (npm/src) resolves to
// the OpenClaw that tests/e2e/setup.sh installed (.cache/e2e), so unit tests run the plugin
// against OpenClaw's real SDK without installing the plugin. Registered by openclaw-sdk.mjs.
export async function resolve(specifier, context, next) {
  if (specifier === 'openclaw' || specifier.startsWith('openclaw/')) {
    const { pathToFileURL } = await import('node:url')
    const { OPENCLAW_DIR } = process.env
    return next(specifier, { ...context, parentURL: pathToFileURL(`${OPENCLAW_DIR}/../x.mjs`).href })
  }
  return next(specifier, context)
}
