import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The console is served by the API under /console/ (api/console-routes.ts), from the files
 * this build writes to console/dist. React libraries (TanStack Query) run on Preact through
 * preact/compat: the same API in a tenth of the bytes.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  logLevel: 'warn',
  resolve: {
    alias: {
      react: 'preact/compat',
      'react-dom': 'preact/compat',
      'react/jsx-runtime': 'preact/jsx-runtime',
    },
  },
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The page's CSP allows no inline script: Vite's module-preload polyfill would be one.
    modulePreload: { polyfill: false },
    // Inlined assets would need data: URLs in script and style sources.
    assetsInlineLimit: 0,
    target: 'es2022',
    reportCompressedSize: false,
    rollupOptions: {
      // TanStack Query marks its hooks "use client" for React Server Components; a client-only
      // bundle has nothing to do with the directive.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
});
