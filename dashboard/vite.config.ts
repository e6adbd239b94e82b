// Builds the dashboard into dist/dashboard, which the server serves at / (src/http/dashboard.ts).
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root: here,
  base: "/",
  plugins: [react()],
  logLevel: "warn",
  build: { outDir: `${here}../dist/dashboard`, emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 400 },
});
