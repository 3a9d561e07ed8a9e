// Vite's configuration for the notes web app.
//
// `npm run dev`: Vite's dev server (http://localhost:5173) with hot reload;
// requests under /api go to a running `trellis serve` (TRELLIS_URL, default
// http://127.0.0.1:8080), so the app calls the same /api/notes it calls when
// Trellis serves the built files.
//
// `npm run build`: the production build into NOTES_WEB_OUT_DIR (CMake sets it
// to the notes_web plugin's static folder in the build tree), else dist/.
// Asset names carry a content hash (/assets/index-<hash>.js), which Trellis
// serves as immutable; index.html is served with no-cache.
import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

const trellis = process.env.TRELLIS_URL ?? 'http://127.0.0.1:8080'

export default defineConfig({
  plugins: [react()],
  base: '/',
  server: {
    proxy: {
      '/api': { target: trellis, changeOrigin: false },
    },
  },
  build: {
    outDir: process.env.NOTES_WEB_OUT_DIR ?? 'dist',
    emptyOutDir: true,
    sourcemap: true,
    // Hex hashes, 16 long. Trellis takes a name part for a build hash only
    // when it holds a digit and a letter (so "my-components.js" is not one);
    // Vite's default 8 base64 characters hold no digit about a quarter of
    // the time ("index-BmHUIpCE.css"), and such a file would be cached for
    // an hour instead of a year. 16 hex characters lack a letter or a
    // digit once in about 1,800 builds of a file.
    rolldownOptions: {
      output: {
        hashCharacters: 'hex',
        entryFileNames: 'assets/[name]-[hash:16].js',
        chunkFileNames: 'assets/[name]-[hash:16].js',
        assetFileNames: 'assets/[name]-[hash:16][extname]',
      },
    },
  },
})
