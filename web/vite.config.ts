import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The web console. `base: './'` keeps asset URLs relative, so the same build works at the root of
 * the local stack and under any path of a static host (S3 + CloudFront). The API base URL comes
 * from config.json next to index.html at run time, or from VITE_API_URL at build time.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: {
    // `npm run web:dev`: the API, and the local dev token's config.json, come from `npm start`.
    proxy: {
      '/api': process.env.CONTACT_SYNC_API ?? 'http://127.0.0.1:3000',
      '/config.json': process.env.CONTACT_SYNC_API ?? 'http://127.0.0.1:3000',
    },
  },
});
