/**
 * Claims: the named leases agents hold now, who holds each (owner, role, agent, fingerprint), and
 * a countdown to its expiry that ticks on its own; then who held them before, from the claim
 * history (takes, releases, takeovers after a lapse), for every key or one (`?key=` in the URL).
 *
 * A lapsed claim leaves the server's list at once (it is free), but it is shown here as expired
 * until someone takes it: a key whose newest event is a take, and that nobody holds, lapsed
 * (a release would be newer). Refreshes append no event, so the list is read again when a
 * countdown runs out, and every 15 s, to show an expiry a refresh moved.
 */
import { useEffect, useRef } from "react";
import type { Claim, ClaimHistoryPage, OverseerEvent } from "../../../src/http/contract";
import { api, query } from "../api/client";
import { duration, ErrorNote, Loading, Section } from "../components/common";
import { type Column, DataTable } from "../components/data-table";
import { Pager, pagePosition } from "../components/pager";
import { useNow } from "../components/relative-time";
import { useLive } from "../hooks";
import { Link, useLocation } from "../router";

const isClaimEvent = (e: OverseerEvent) => e.kind.startsWith("claim.");
const HISTORY_PAGE = 50;
/** How many of the newest claim events are read to find lapsed claims: the keys taken or released among them. */
const LAPSE_WINDOW = 200;
const POLL_MS = 15_000;

/** A claim as the page shows it: held, or lapsed and free for anyone to take over. */
interface Shown extends Claim {
  lapsed: boolean;
}

interface Snapshot {
  claims: Claim[];
  /** The page of the history shown. */
  history: ClaimHistoryPage;
  /** The newest claim events of every key: a key whose newest is a take, and that nobody holds, lapsed. */
  newest: ClaimHistoryPage;
}

/** "2030-01-01 09:00:05 UTC". */
function stamp(iso: string): string {
  return `${iso.slice(0, 19).replace("T", " ")} UTC`;
}

/** "4m 12s left", or "expired" once past its expiry (held through the expiry millisecond). */
export function countdown(expiresAt: string, now: number): string {
  const ms = Date.parse(expiresAt) - now;
  return ms >= 0 ? `${duration(Math.max(ms, 1000))} left` : "expired";
}

const text = (value: unknown): string | null => (typeof value === "string" ? value : null);

/** A lapsed key's claim, from its take event (and the list's last reading of it, when the page had one). */
function lapsedClaim(take: OverseerEvent, seen: Claim | undefined): Shown {
  const d = take.data;
  const token = typeof d.token === "number" ? d.token : 0;
  if (seen && seen.token === token) return { ...seen, lapsed: true };
  const ttlMs = typeof d.ttlMs === "number" ? d.ttlMs : 0;
  return {
    key: text(d.key) ?? "",
    owner: text(d.owner) ?? "",
    token,
    ttlMs,
    acquiredAt: take.at,
    refreshedAt: take.at,
    expiresAt: text(d.expiresAt) ?? take.at,
    role: text(d.role),
    agent: text(d.agent),
    fingerprint: text(d.fingerprint),
    lapsed: true,
  };
}

/** The held claims, and the keys that lapsed (their newest event is a take, and nobody holds them). */
function shownClaims(snapshot: Snapshot, seen: ReadonlyMap<string, Claim>): Shown[] {
  const held = new Map(snapshot.claims.map((c) => [c.key, { ...c, lapsed: false }]));
  const newest = new Map<string, OverseerEvent>();
  for (const e of snapshot.newest.items) {
    const key = text(e.data.key);
    if (key !== null && !newest.has(key)) newest.set(key, e);
  }
  for (const [key, e] of newest)
    if (!held.has(key) && e.kind === "claim.taken") held.set(key, lapsedClaim(e, seen.get(key)));
  return [...held.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function Holder({ owner, role, agent, fingerprint }: Pick<Claim, "owner" | "role" | "agent" | "fingerprint">) {
  const about = [role && `role ${role}`, agent && `agent ${agent}`, fingerprint && `fingerprint ${fingerprint}`];
  return (
    <>
      <strong>{owner}</strong>
      {about.some(Boolean) && <span className="muted small-text"> ({about.filter(Boolean).join(", ")})</span>}
    </>
  );
}

/** What an event did: taken, taken over (after the holder's TTL lapsed), or released. */
function what(e: OverseerEvent): { word: string; className: string } {
  if (e.kind === "claim.released") return { word: "released", className: "claim-released" };
  return e.data.takeover === true
    ? { word: "taken over", className: "claim-takeover" }
    : { word: "taken", className: "claim-taken" };
}

function historyDetails(e: OverseerEvent): string {
  const d = e.data;
  if (e.kind === "claim.released") return "freed at once";
  const until = text(d.expiresAt);
  const lapsed = text(d.previousExpiresAt);
  const from =
    d.takeover === true
      ? `from ${text(d.previousOwner) ?? "?"}, whose claim lapsed at ${lapsed ? stamp(lapsed) : "?"}; `
      : "";
  return `${from}held until ${until ? stamp(until) : "?"} unless refreshed`;
}

export function ClaimsPage() {
  const { search } = useLocation();
  const key = search.get("key") ?? "";
  const { cursor } = pagePosition(search);
  const now = useNow();
  /** The list's last reading of each key, so a claim that lapsed keeps the expiry a refresh gave it. */
  const seen = useRef(new Map<string, Claim>());
  const live = useLive<Snapshot>(
    `claims:${key}:${cursor}`,
    async (signal) => {
      // The history first: a take between the reads then shows as held, never as lapsed.
      const [newest, history] = await Promise.all([
        api<ClaimHistoryPage>(`/claim-history${query({ limit: LAPSE_WINDOW })}`, { signal }),
        api<ClaimHistoryPage>(`/claim-history${query({ key, cursor, limit: HISTORY_PAGE })}`, { signal }),
      ]);
      const claims = (await api<{ items: Claim[] }>("/claims", { signal })).items;
      return { claims, history, newest };
    },
    isClaimEvent,
    300,
  );
  const { data, error, reload } = live;

  useEffect(() => {
    for (const c of data?.claims ?? []) seen.current.set(c.key, c);
  }, [data]);

  // Refreshes append no event: read again when a held claim's countdown runs out, and now and then.
  const nextExpiry = Math.min(...(data?.claims ?? []).map((c) => Date.parse(c.expiresAt)));
  const expiredSinceLoad = Number.isFinite(nextExpiry) && now > nextExpiry;
  useEffect(() => {
    if (expiredSinceLoad) reload();
  }, [expiredSinceLoad, reload]);
  useEffect(() => {
    const timer = setInterval(reload, POLL_MS);
    return () => clearInterval(timer);
  }, [reload]);

  const claims = data ? shownClaims(data, seen.current) : null;
  const columns: Column<Shown>[] = [
    {
      header: "Key",
      cell: (c) => (
        <Link href={`/claims${query({ key: c.key })}`} title={`the history of ${c.key}`}>
          <code>{c.key}</code>
        </Link>
      ),
    },
    { header: "Holder", cell: (c) => <strong>{c.owner}</strong> },
    { header: "Role", cell: (c) => c.role ?? "—" },
    { header: "Agent", cell: (c) => c.agent ?? "—" },
    { header: "Fingerprint", cell: (c) => (c.fingerprint ? <code>{c.fingerprint}</code> : "—") },
    { header: "Taken at", cell: (c) => stamp(c.acquiredAt) },
    {
      header: "Expires",
      cell: (c) => {
        const left = c.lapsed ? "expired" : countdown(c.expiresAt, now);
        return (
          <span className="countdown" data-testid={`expiry-${c.key}`}>
            <span className={left === "expired" ? "badge claim-expired" : "badge claim-held"}>{left}</span>{" "}
            <span className="muted small-text">
              {left === "expired" ? "free to take over" : `at ${stamp(c.expiresAt)}`}
            </span>
          </span>
        );
      },
    },
    { header: "Token", className: "num", cell: (c) => c.token },
  ];
  const historyColumns: Column<OverseerEvent>[] = [
    { header: "When", cell: (e) => stamp(e.at) },
    {
      header: "Key",
      cell: (e) => (
        <Link href={`/claims${query({ key: text(e.data.key) })}`}>
          <code>{text(e.data.key)}</code>
        </Link>
      ),
    },
    {
      header: "What",
      cell: (e) => {
        const w = what(e);
        return <span className={`badge ${w.className}`}>{w.word}</span>;
      },
    },
    {
      header: "Who",
      cell: (e) => (
        <Holder
          owner={text(e.data.owner) ?? "?"}
          role={text(e.data.role)}
          agent={text(e.data.agent)}
          fingerprint={text(e.data.fingerprint)}
        />
      ),
    },
    { header: "Token", className: "num", cell: (e) => (typeof e.data.token === "number" ? e.data.token : "—") },
    { header: "Details", cell: (e) => <span className="small-text">{historyDetails(e)}</span> },
  ];

  return (
    <>
      <h1>Claims</h1>
      <p className="muted">
        Named leases agents hold while they work on something; a claim nobody refreshes lapses at its expiry and anyone
        may take it over.
      </p>
      <ErrorNote error={error} />
      {!data && !error && <Loading what="claims" />}
      {claims && (
        <Section title="Current claims">
          <DataTable
            label="current claims"
            className="stack-narrow"
            rows={claims}
            columns={columns}
            rowKey={(c) => c.key}
            empty="Nobody holds a claim. Agents take them with `overseer claims take KEY --owner NAME --ttl 5m`."
          />
        </Section>
      )}
      {data && (
        <Section
          title={key ? `History of ${key}` : "History"}
          actions={key ? <Link href="/claims">Every key</Link> : undefined}
        >
          <DataTable
            label="claim history"
            className="stack-narrow"
            rows={data.history.items}
            columns={historyColumns}
            rowKey={(e) => String(e.seq)}
            empty={key ? `No claim events for ${key}.` : "No claim has been taken yet."}
          />
          <Pager path="/claims" filters={key ? { key } : {}} search={search} nextCursor={data.history.nextCursor} />
        </Section>
      )}
    </>
  );
}
