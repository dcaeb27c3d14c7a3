import { defineConfig, loadEnv } from 'vite';

// React JSX is compiled by esbuild's built-in automatic runtime (no React plugin needed).
// `npm run dev` proxies /api (including the /api/v1/live WebSocket) to a running
// wattline-server, by default https://127.0.0.1:8443; override with WATTLINE_API=...
export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, '.', 'WATTLINE_');
  const api = env.WATTLINE_API || 'https://127.0.0.1:8443';
  return {
    base: './',
    esbuild: { jsx: 'automatic' },
    build: {
      outDir: 'dist',
      emptyOutDir: true,
      sourcemap: false,
      chunkSizeWarningLimit: 600,
    },
    server: {
      host: '127.0.0.1',
      port: 5173,
      proxy: {
        '/api': { target: api, changeOrigin: true, secure: false, ws: true },
      },
    },
  };
});
