// Launching Debian's Chromium headless with playwright-core, for the dashboard's end-to-end
// tests and its benchmark alike. The background-networking flags keep it from calling out of a
// closed network (which it would retry at every start).
import { chromium } from "playwright-core";

/** Where Chromium is: OVERSEER_CHROMIUM, or Debian's package. */
export const CHROMIUM_PATH = process.env.OVERSEER_CHROMIUM ?? "/usr/bin/chromium";

export function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}
