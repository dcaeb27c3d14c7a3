import { defineConfig, loadEnv } from 'vite';

// The connector's own web UI (web/connector/), served by wattline-edge --web.listen.
// `npm run dev:connector` proxies /api to a running connector, by default
// https://127.0.0.1:8444; override with WATTLINE_CONNECTOR_API=...
export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, '.', 'WATTLINE_');
  const api = env.WATTLINE_CONNECTOR_API || 'https://127.0.0.1:8444';
  return {
    root: 'connector',
    base: './',
    esbuild: { jsx: 'automatic' },
    build: {
      outDir: '../dist-connector',
      emptyOutDir: true,
      sourcemap: false,
    },
    server: {
      host: '127.0.0.1',
      port: 5174,
      proxy: { '/api': { target: api, changeOrigin: true, secure: false } },
    },
  };
});
