// The page: a form for the server's address and a token, then every event as a line, newest
// first. No inline scripts or styles, so it also works under a strict Content-Security-Policy.
import { followEvents } from "./follow-events.js";

const form = document.getElementById("connect");
const status = document.getElementById("status");
const count = document.getElementById("count");
const list = document.getElementById("events");
const retry = document.getElementById("retry");
let following = null;
let received = 0;

function showStatus(value) {
  status.textContent = value;
  status.dataset.status = value;
  retry.hidden = value !== "lost";
}

function showEvent(event) {
  const item = document.createElement("li");
  item.dataset.seq = String(event.seq);
  item.textContent = `${event.seq} ${event.at} ${event.kind}${event.jobId ? ` ${event.jobId}` : ""}`;
  list.prepend(item);
  count.textContent = String(++received);
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  following?.stop();
  const data = new FormData(form);
  following = followEvents({
    baseUrl: String(data.get("url")).replace(/\/+$/, ""),
    apiToken: String(data.get("token")).trim(),
    onEvent: showEvent,
    onStatus: showStatus,
    onGap: () => {
      const item = document.createElement("li");
      item.className = "gap";
      item.textContent = "(events deleted by retention while disconnected; going on from now)";
      list.prepend(item);
    },
  });
});
retry.addEventListener("click", () => following?.retryNow());
