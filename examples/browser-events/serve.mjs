// Serves this folder's page on http://127.0.0.1:8080 (PORT to change it; 0 picks a free one).
// Only the page's own files: nothing else on the disk is reachable through it.
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";

const FILES = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/page.js": ["page.js", "text/javascript; charset=utf-8"],
  "/follow-events.js": ["follow-events.js", "text/javascript; charset=utf-8"],
  "/style.css": ["style.css", "text/css; charset=utf-8"],
};

const server = createServer(async (req, res) => {
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  if (path === "/favicon.ico") {
    res.writeHead(204).end(); // no icon, and no 404 in the browser's console for it
    return;
  }
  const file = FILES[path];
  if (!file) {
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    return;
  }
  const body = await readFile(new URL(file[0], import.meta.url));
  res.writeHead(200, {
    "content-type": file[1],
    // The page needs no inline script or style: say so, as a server would in production.
    "content-security-policy": "default-src 'self'; connect-src *",
  });
  res.end(body);
});

server.listen(Number(process.env.PORT ?? 8080), "127.0.0.1", () => {
  const { port } = server.address();
  console.log(`the page is on http://127.0.0.1:${port}/`);
});
